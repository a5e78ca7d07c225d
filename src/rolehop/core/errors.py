"""AWS-shaped errors. Every failure a client can cause is one of these, never a bare exception.

`code` is the AWS error code, `status` the HTTP status, `sender` whether the caller is at fault
(Sender) or the service (Receiver). Messages never carry secrets.
"""

from __future__ import annotations


class AwsError(Exception):
    code = "InternalFailure"
    status = 500
    sender = False
    fields: dict[str, str] | None = None  # extra members of a JSON error body (e.g. Organizations' Reason)

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message!r})"


class ClientError(AwsError):
    code = "InvalidRequest"
    status = 400
    sender = True


class ValidationError(ClientError):
    code = "ValidationError"


class InvalidParameterValue(ClientError):
    code = "InvalidParameterValue"


class InvalidInput(ClientError):
    code = "InvalidInput"


class MissingParameter(ClientError):
    code = "MissingParameter"


class InvalidAction(ClientError):
    code = "InvalidAction"


class MalformedQueryString(ClientError):
    code = "MalformedQueryString"


class NoSuchEntity(ClientError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(ClientError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(ClientError):
    code = "DeleteConflict"
    status = 409


class LimitExceeded(ClientError):
    code = "LimitExceeded"
    status = 409


class MalformedPolicyDocument(ClientError):
    code = "MalformedPolicyDocument"


class AccessDenied(ClientError):
    code = "AccessDenied"
    status = 403


class InvalidClientTokenId(ClientError):
    code = "InvalidClientTokenId"
    status = 403


class SignatureDoesNotMatch(ClientError):
    code = "SignatureDoesNotMatch"
    status = 403


class IncompleteSignature(ClientError):
    code = "IncompleteSignature"
    status = 400


class MissingAuthenticationToken(ClientError):
    code = "MissingAuthenticationToken"
    status = 403


class ExpiredToken(ClientError):
    code = "ExpiredToken"
    status = 403


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500
