"""AWS-shaped errors: every one rolehop raises, grouped by who defines it. Every failure a client can
cause is one of these, never a bare exception, and each class is named after its AWS error code.

`code` is the AWS error code, `status` the HTTP status, `sender` whether the caller is at fault
(Sender) or the service (Receiver). Messages never carry secrets.
"""

from __future__ import annotations


class AwsError(Exception):
    code = "InternalFailure"
    status = 500
    sender = False
    fields: dict[str, str] | None = None  # extra members of a JSON error body (e.g. Organizations' Reason)

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message!r})"


class ClientError(AwsError):
    code = "InvalidRequest"
    status = 400
    sender = True


# --- common to every AWS service (the errors every API reference lists) ----------------------


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500


class ValidationError(ClientError):
    code = "ValidationError"


class InvalidParameterValue(ClientError):
    code = "InvalidParameterValue"


class MissingParameter(ClientError):
    code = "MissingParameter"


class InvalidAction(ClientError):
    code = "InvalidAction"


class MalformedQueryString(ClientError):
    code = "MalformedQueryString"


class AccessDenied(ClientError):
    code = "AccessDenied"
    status = 403


class RequestEntityTooLarge(ClientError):
    code = "RequestEntityTooLarge"
    status = 413


class Throttling(ClientError):
    """The request rate is held back (AWS's common error; the Query APIs answer "Throttling", 400)."""

    code = "Throttling"


class ServiceUnavailable(AwsError):
    """The store cannot be reached (AWS's common error: "a temporary failure of the server", 503).
    The service's fault, so SDKs retry it; JSON services answer it as their ServiceException."""

    code = "ServiceUnavailable"
    status = 503


# --- signing and credentials (SigV4, session tokens) -------------------------------------------


class SignatureError(AwsError):
    """A request that fails SigV4 verification; `.code` is the AWS error code (rolehop.sigv4's
    fixed interface: one class, the code chosen by the check that failed)."""

    sender = True
    _STATUS = {"IncompleteSignature": 400, "InvalidArgument": 400, "XAmzContentSHA256Mismatch": 400}

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = self._STATUS.get(code, 403)


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


# --- the JSON 1.1 protocol (Coral): what every JSON service answers before the operation runs ----


class SerializationException(ClientError):
    code = "SerializationException"


class ValidationException(ClientError):
    code = "ValidationException"


class UnknownOperationException(ClientError):
    code = "UnknownOperationException"


class InvalidSignatureException(ClientError):
    """A JSON service's answer to a credential scoped to another service."""

    code = "InvalidSignatureException"


# --- IAM ----------------------------------------------------------------------------------------


class InvalidInput(ClientError):
    code = "InvalidInput"


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


class ConcurrentModification(ClientError):
    """A write that lost a race with another writer (IAM's ConcurrentModificationException)."""

    code = "ConcurrentModification"
    status = 409


class MalformedPolicyDocument(ClientError):
    code = "MalformedPolicyDocument"


class PasswordPolicyViolation(ClientError):
    code = "PasswordPolicyViolation"


class InvalidAuthenticationCode(ClientError):
    code = "InvalidAuthenticationCode"
    status = 403


class InvalidUserType(ClientError):
    code = "InvalidUserType"


class AccountNotManagementOrDelegatedAdministratorException(ClientError):
    code = "AccountNotManagementOrDelegatedAdministratorException"


class CallerIsNotManagementAccountException(ClientError):
    code = "CallerIsNotManagementAccountException"


class DuplicateCertificate(ClientError):
    code = "DuplicateCertificate"
    status = 409


class DuplicateSSHPublicKey(ClientError):
    code = "DuplicateSSHPublicKey"


class EntityTemporarilyUnmodifiable(ClientError):
    code = "EntityTemporarilyUnmodifiable"
    status = 409


class FeatureDisabled(ClientError):
    code = "FeatureDisabled"
    status = 404


class FeatureEnabled(ClientError):
    code = "FeatureEnabled"
    status = 409


class InvalidCertificate(ClientError):
    code = "InvalidCertificate"


class InvalidPublicKey(ClientError):
    code = "InvalidPublicKey"


class KeyPairMismatch(ClientError):
    code = "KeyPairMismatch"


class MalformedCertificate(ClientError):
    code = "MalformedCertificate"


class NameConflict(ClientError):
    code = "NameConflict"
    status = 409


class NotSupportedService(ClientError):
    code = "NotSupportedService"
    status = 404


class OpenIdIdpCommunicationError(ClientError):
    code = "OpenIdIdpCommunicationError"


class OrganizationNotFoundException(ClientError):
    code = "OrganizationNotFoundException"


class OrganizationNotInAllFeaturesModeException(ClientError):
    code = "OrganizationNotInAllFeaturesModeException"


class PolicyEvaluation(ClientError):
    code = "PolicyEvaluation"
    status = 500


class PolicyNotAttachable(ClientError):
    code = "PolicyNotAttachable"


class ReportExpired(ClientError):
    code = "ReportExpired"
    status = 410


class ReportGenerationLimitExceeded(ClientError):
    code = "ReportGenerationLimitExceeded"
    status = 409


class ReportInProgress(ClientError):
    code = "ReportInProgress"
    status = 404


class ReportNotPresent(ClientError):
    code = "ReportNotPresent"
    status = 410


class RoleModified(ClientError):
    code = "RoleModified"
    status = 409


class RoleTemplateDisabled(ClientError):
    code = "RoleTemplateDisabled"


class ServiceAccessNotEnabledException(ClientError):
    code = "ServiceAccessNotEnabledException"


class ServiceFailure(ClientError):
    code = "ServiceFailure"
    status = 500


class UnmodifiableEntity(ClientError):
    code = "UnmodifiableEntity"


class UnrecognizedPublicKeyEncoding(ClientError):
    code = "UnrecognizedPublicKeyEncoding"


# --- STS ----------------------------------------------------------------------------------------


class PackedPolicyTooLarge(ClientError):
    code = "PackedPolicyTooLarge"


class InvalidAuthorizationMessage(ClientError):
    code = "InvalidAuthorizationMessageException"


class ExpiredTokenException(ClientError):
    code = "ExpiredTokenException"


class ExpiredTradeInTokenException(ClientError):
    code = "ExpiredTradeInTokenException"


class IDPCommunicationError(ClientError):
    code = "IDPCommunicationError"


class IDPRejectedClaim(ClientError):
    code = "IDPRejectedClaim"
    status = 403


class InsufficientSessionLifetime(ClientError):
    code = "InsufficientSessionLifetime"


class InvalidContextAssertion(ClientError):
    code = "InvalidContextAssertion"


class InvalidIdentityToken(ClientError):
    code = "InvalidIdentityToken"


class InvalidSubjectCredentials(ClientError):
    code = "InvalidSubjectCredentials"


class JWTPayloadSizeExceededException(ClientError):
    code = "JWTPayloadSizeExceededException"


class OutboundWebIdentityFederationDisabledException(ClientError):
    code = "OutboundWebIdentityFederationDisabledException"
    status = 403


class RegionDisabledException(ClientError):
    code = "RegionDisabledException"
    status = 403


class SessionDurationEscalationException(ClientError):
    code = "SessionDurationEscalationException"
    status = 403


# --- Organizations (JSON: codes end in Exception; HTTP 400 unless AWS says otherwise) ------------


class OrganizationsAccessDenied(ClientError):
    code = "AccessDeniedException"


class InvalidInputException(ClientError):
    """Organizations' validation error; its `Reason` goes into the JSON error body."""

    code = "InvalidInputException"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.fields = {"Reason": reason}


class ConstraintViolationException(ClientError):
    """A quota or structural rule of Organizations; `reason` (when given) goes into the body."""

    code = "ConstraintViolationException"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.fields = {"Reason": reason}


class MalformedPolicyDocumentException(MalformedPolicyDocument):
    """Organizations' spelling of MalformedPolicyDocument (an SCP or RCP that does not parse)."""

    code = "MalformedPolicyDocumentException"


class AccountNotFoundException(ClientError):
    code = "AccountNotFoundException"


class CreateAccountStatusNotFoundException(ClientError):
    code = "CreateAccountStatusNotFoundException"


class DuplicateAccountException(ClientError):
    code = "DuplicateAccountException"


class PolicyNotFoundException(ClientError):
    code = "PolicyNotFoundException"


class PolicyTypeNotEnabledException(ClientError):
    code = "PolicyTypeNotEnabledException"


class DuplicatePolicyException(ClientError):
    code = "DuplicatePolicyException"


class PolicyChangesNotAllowedException(ClientError):
    code = "PolicyChangesNotAllowedException"


class PolicyInUseException(ClientError):
    code = "PolicyInUseException"


class DuplicatePolicyAttachmentException(ClientError):
    code = "DuplicatePolicyAttachmentException"


class PolicyNotAttachedException(ClientError):
    code = "PolicyNotAttachedException"


class TargetNotFoundException(ClientError):
    code = "TargetNotFoundException"


class ParentNotFoundException(ClientError):
    code = "ParentNotFoundException"


class SourceParentNotFoundException(ClientError):
    code = "SourceParentNotFoundException"


class DestinationParentNotFoundException(ClientError):
    code = "DestinationParentNotFoundException"


class ChildNotFoundException(ClientError):
    code = "ChildNotFoundException"


class OrganizationalUnitNotFoundException(ClientError):
    code = "OrganizationalUnitNotFoundException"


class OrganizationalUnitNotEmptyException(ClientError):
    code = "OrganizationalUnitNotEmptyException"


class DuplicateOrganizationalUnitException(ClientError):
    code = "DuplicateOrganizationalUnitException"


class AWSOrganizationsNotInUseException(ClientError):
    code = "AWSOrganizationsNotInUseException"


class AccountAlreadyClosedException(ClientError):
    code = "AccountAlreadyClosedException"


class AccountAlreadyRegisteredException(ClientError):
    code = "AccountAlreadyRegisteredException"


class AccountNotRegisteredException(ClientError):
    code = "AccountNotRegisteredException"


class AccountOwnerNotVerifiedException(ClientError):
    code = "AccountOwnerNotVerifiedException"


class AlreadyInOrganizationException(ClientError):
    code = "AlreadyInOrganizationException"


class DuplicateHandshakeException(ClientError):
    code = "DuplicateHandshakeException"


class EffectivePolicyNotFoundException(ClientError):
    code = "EffectivePolicyNotFoundException"


class FinalizingOrganizationException(ClientError):
    code = "FinalizingOrganizationException"


class HandshakeAlreadyInStateException(ClientError):
    code = "HandshakeAlreadyInStateException"


class HandshakeNotFoundException(ClientError):
    code = "HandshakeNotFoundException"


class InvalidHandshakeTransitionException(ClientError):
    code = "InvalidHandshakeTransitionException"


class MasterCannotLeaveOrganizationException(ClientError):
    code = "MasterCannotLeaveOrganizationException"


class OrganizationNotEmptyException(ClientError):
    code = "OrganizationNotEmptyException"


class PolicyChangesInProgressException(ClientError):
    code = "PolicyChangesInProgressException"


class PolicyTypeAlreadyEnabledException(ClientError):
    code = "PolicyTypeAlreadyEnabledException"


class PolicyTypeNotAvailableForOrganizationException(ClientError):
    code = "PolicyTypeNotAvailableForOrganizationException"


class ResourcePolicyNotFoundException(ClientError):
    code = "ResourcePolicyNotFoundException"


class RootNotFoundException(ClientError):
    code = "RootNotFoundException"


class UnsupportedAPIEndpointException(ClientError):
    code = "UnsupportedAPIEndpointException"


class HandshakeConstraintViolationException(ClientError):
    """A handshake quota or rule; its `Reason` goes into the JSON error body."""

    code = "HandshakeConstraintViolationException"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.fields = {"Reason": reason}


class AccessDeniedForDependencyException(ClientError):
    """Organizations needs a permission it was not given (its `Reason` goes into the body)."""

    code = "AccessDeniedForDependencyException"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.fields = {"Reason": reason}


class TooManyRequestsException(ClientError):
    """Organizations' throttling error (its model gives no status: the JSON default, 400); botocore's
    standard retry mode counts the code as throttling, as it does the Query APIs' Throttling."""

    code = "TooManyRequestsException"


class ConflictException(ClientError):
    """The request conflicts with the resource's current state (CloseAccount of a closing account)."""

    code = "ConflictException"


# --- CloudTrail (JSON: codes end in Exception; HTTP 400) ------------------------------------------


class InvalidLookupAttributesException(ClientError):
    code = "InvalidLookupAttributesException"


class InvalidTimeRangeException(ClientError):
    code = "InvalidTimeRangeException"


class InvalidMaxResultsException(ClientError):
    code = "InvalidMaxResultsException"


class InvalidNextTokenException(ClientError):
    code = "InvalidNextTokenException"


class InvalidEventCategoryException(ClientError):
    code = "InvalidEventCategoryException"


class OperationNotPermittedException(ClientError):
    code = "OperationNotPermittedException"
