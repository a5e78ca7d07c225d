"""CloudTrail records of API calls: userIdentity, requestParameters and responseElements as
CloudTrail writes them (lowerCamelCase names, its date format in responses), with every secret
removed, and the columns LookupEvents filters on.

Secrets: passwords, MFA codes and seeds, secret keys and session tokens are never recorded. IAM and
STS leave such request members out of requestParameters (CreateLoginProfile shows userName and
passwordResetRequired, ChangePassword null, AssumeRole serialNumber but no tokenCode), and so does
rolehop; HIDDEN_DUE_TO_SECURITY_REASONS is what the console's events show for a user name that no user
has (services.signin.trail). Response secrets are left out too. CloudTrail keeps AssumeRole's
sessionToken in responseElements; rolehop does not (docs/decisions.md).

A call that acts in another account (AssumeRole of another account's role) is recorded in both, as
CloudTrail does: in the caller's account with the caller's userIdentity, in the role's account with
an AWSAccount userIdentity (the caller's account and principal ID), one sharedEventID linking them
(IAM User Guide, "Example cross-account AWS STS API events in CloudTrail log files").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from rolehop.core.arn import root_arn
from rolehop.core.errors import AwsError
from rolehop.core.trail_chain import canonical
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.caller import Caller
from rolehop.services.ports.trail import Resource, TrailEvent

EVENT_VERSION = "1.11"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
# request members whose values are secrets, left out of requestParameters (every member botocore's
# models mark sensitive is here: tests/api/test_trail_secrets.py checks)
SECRET_REQUEST_MEMBERS = frozenset(
    {
        "Password",
        "OldPassword",
        "NewPassword",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "TokenCode",
        "SAMLAssertion",
        "WebIdentityToken",
        "PrivateKey",
        "SecretAccessKey",
        "SessionToken",
        "ClientSecret",
        "Code",
        "CodeVerifier",
        "RefreshToken",
        "AccessToken",
        "DeviceCode",
        "AddPrivateKey",  # CreateSAMLProvider, UpdateSAMLProvider
        "TradeInToken",  # GetDelegatedAccessToken
        "Email",  # Organizations' CreateAccount: CloudTrail shows "****"
        "AccountName",
        "Notes",  # InviteAccountToOrganization's, marked sensitive in AWS's model
    }
)
# response members left out of responseElements
SECRET_RESPONSE_MEMBERS = frozenset(
    {
        "SecretAccessKey",
        "SessionToken",
        "Base32StringSeed",
        "QRCodePNG",
        "ServicePassword",
        "DecodedMessage",
        "Password",
        "PrivateKey",
        "ClientSecret",
        "AccessToken",
        "RefreshToken",
        "IdToken",
        "ServiceCredentialSecret",
        "WebIdentityToken",  # GetWebIdentityToken
        "AccountName",  # Organizations' CreateAccountStatus: CloudTrail shows "****"
        "Email",
        "MasterAccountEmail",
        "ManagementAccountEmail",
    }
)
# secret members whose names are too common to leave out everywhere ("Id", "Value"): left out only
# under the member that holds them (Organizations' handshake parties and resources: account IDs,
# e-mail addresses, names and notes, which AWS's model marks sensitive)
SECRET_NESTED_MEMBERS = frozenset(
    {
        ("Parties", "Id"),
        ("Target", "Id"),
        ("Resources", "Value"),
    }
)
RECORD_SECTION_MAX = 100 * 1024  # CloudTrail omits request parameters or responses larger than this
SOURCES = MappingProxyType(
    {
        "iam": "iam.amazonaws.com",
        "sts": "sts.amazonaws.com",
        "organizations": "organizations.amazonaws.com",
        "cloudtrail": "cloudtrail.amazonaws.com",
    }
)
# which parameter names a resource of which type (what LookupEvents' ResourceType/Name match)
RESOURCE_PARAMS = (
    ("UserName", "AWS::IAM::User"),
    ("GroupName", "AWS::IAM::Group"),
    ("RoleName", "AWS::IAM::Role"),
    ("RoleArn", "AWS::IAM::Role"),
    ("PolicyArn", "AWS::IAM::Policy"),
    ("AccessKeyId", "AWS::IAM::AccessKey"),
    ("SerialNumber", "AWS::IAM::MFADevice"),
    ("AccountId", "AWS::Organizations::Account"),
    ("PolicyId", "AWS::Organizations::Policy"),
    ("OrganizationalUnitId", "AWS::Organizations::OrganizationalUnit"),
)
_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Simulate", "Decode")
# STS's calls that issue credentials: their responses are recorded (credentials without secrets),
# the other STS reads' (GetCallerIdentity…) are null, as every read's
_ISSUERS = frozenset({"GetSessionToken", "GetFederationToken"})


def event_source(service: str) -> str:
    return SOURCES.get(service, f"{service}.amazonaws.com")


def read_only(service: str, operation: str) -> bool:
    """CloudTrail's readOnly: reads, and every STS call (they change nothing in the account)."""
    return service == "sts" or operation.startswith(_READ_PREFIXES)


def performed_in(service: str, operation: str, params: Mapping[str, Any] | None) -> str | None:
    """The account a call acts in when that is not necessarily the caller's: the role's, for STS's
    AssumeRole calls. CloudTrail records such a call in both accounts."""
    role_arn = (params or {}).get("RoleArn")
    if service == "sts" and operation.startswith("AssumeRole") and isinstance(role_arn, str):
        parts = role_arn.split(":")
        return parts[4] if len(parts) > 5 else None
    return None


def trail_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def response_time(at: datetime) -> str:
    """Dates inside responseElements, as CloudTrail writes them: "Dec 3, 2026 4:05:09 PM" (IAM User
    Guide's examples: "expiration": "Jul 18, 2014 4:07:39 PM")."""
    at = at.astimezone(UTC)
    hour = at.hour % 12 or 12
    return f"{at:%b} {at.day}, {at.year} {hour}:{at:%M:%S} {'AM' if at.hour < 12 else 'PM'}"


def records_response(service: str, operation: str) -> bool:
    """Whether CloudTrail records the call's response: a change's, and STS's credentials; never a read's."""
    if service == "sts":
        return operation.startswith("AssumeRole") or operation in _ISSUERS
    return not read_only(service, operation)


def user_identity(caller: Caller) -> dict[str, Any]:
    """CloudTrail's userIdentity of an authenticated caller."""
    identity: dict[str, Any] = {
        "type": {
            "root": "Root",
            "user": "IAMUser",
            "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser",
        }[caller.kind],
        "principalId": caller.user_id,
        "arn": caller.arn,
        "accountId": caller.account_id,
    }
    if caller.access_key_id:
        identity["accessKeyId"] = caller.access_key_id
    if caller.user_name:
        identity["userName"] = caller.user_name
    claims = caller.claims
    if claims is not None:
        context: dict[str, Any] = {}
        if caller.kind == "assumed-role" and caller.identity is not None:
            role = caller.identity
            context["sessionIssuer"] = {
                "type": "Role",
                "principalId": role.unique_id,
                "arn": role.arn,
                "accountId": role.account_id,
                "userName": role.name,
            }
            context["webIdFederationData"] = {}
        elif caller.kind == "federated-user":
            context["sessionIssuer"] = _federation_issuer(caller)
        context["attributes"] = {
            "creationDate": trail_time(datetime.fromtimestamp(claims.issued_at, tz=UTC)),
            "mfaAuthenticated": "true" if claims.mfa_authenticated else "false",
        }
        if claims.source_identity:
            context["sourceIdentity"] = claims.source_identity
        identity["sessionContext"] = context
    return identity


def _federation_issuer(caller: Caller) -> dict[str, Any]:
    """The IAM user (or root user) who called GetFederationToken, as CloudTrail's sessionIssuer."""
    user = caller.identity
    if user is None:
        return {
            "type": "Root",
            "principalId": caller.account_id,
            "arn": root_arn(caller.account_id),
            "accountId": caller.account_id,
        }
    return {
        "type": "IAMUser",
        "principalId": user.unique_id,
        "arn": user.arn,
        "accountId": user.account_id,
        "userName": user.name,
    }


def account_identity(caller: Caller) -> dict[str, Any]:
    """The caller as the other account's record of a cross-account call shows it: its account and
    principal ID, nothing more."""
    return {"type": "AWSAccount", "principalId": caller.user_id, "accountId": caller.account_id}


def issuer_arn(caller: Caller) -> str:
    """The user or role behind a caller: what "last used" and a role's or user's events are keyed by."""
    if caller.kind in ("assumed-role", "federated-user") and caller.identity is not None:
        return caller.identity.arn
    return caller.arn


def username(caller: Caller) -> str:
    """LookupEvents' Username: the user's name, a role session's name, or "root"."""
    if caller.kind == "root":
        return "root"
    if caller.kind == "assumed-role":
        return caller.arn.rsplit("/", 1)[-1]
    return caller.user_name or caller.arn.rsplit("/", 1)[-1]


def camel(name: str) -> str:
    """CloudTrail's member names: UserName -> userName, SAMLAssertion -> sAMLAssertion."""
    return name[:1].lower() + name[1:]


def request_parameters(params: Mapping[str, Any]) -> dict[str, Any] | None:
    shown = {
        camel(k): _plain(v, request=True, holder=k)
        for k, v in params.items()
        if k not in SECRET_REQUEST_MEMBERS
    }
    shown = {k: v for k, v in shown.items() if v is not None}
    return shown or None


def response_elements(result: Mapping[str, Any]) -> dict[str, Any] | None:
    shown = {
        camel(k): _plain(v, request=False, holder=k)
        for k, v in result.items()
        if k not in SECRET_RESPONSE_MEMBERS
    }
    shown = {k: v for k, v in shown.items() if v is not None}
    return shown or None


def _plain(value: Any, *, request: bool, holder: str = "") -> Any:
    """`value` as the record shows it; `holder` is the name of the member that holds it."""
    if isinstance(value, Mapping):
        secrets = SECRET_REQUEST_MEMBERS if request else SECRET_RESPONSE_MEMBERS
        out = {}
        for k, v in value.items():
            if k not in secrets and (holder, k) not in SECRET_NESTED_MEMBERS:
                out[camel(k)] = _plain(v, request=request, holder=k)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, request=request, holder=holder) for v in value]
    if isinstance(value, datetime):
        return response_time(value) if not request else trail_time(value)
    if isinstance(value, bytes | bytearray):
        return None  # binary values (QR codes, certificates' DER) are not recorded
    return value


def resources(params: Mapping[str, Any]) -> tuple[Resource, ...]:
    found = []
    for name, kind in RESOURCE_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value:
            found.append(Resource(kind, value))
    return tuple(found)


def record_resources(service: str, operation: str, params: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """The record's own "resources": the role an AssumeRole call assumes (IAM User Guide's STS
    examples), none for IAM's calls."""
    role_arn = params.get("RoleArn")
    if service != "sts" or not operation.startswith("AssumeRole") or not isinstance(role_arn, str):
        return None
    parts = role_arn.split(":")
    if len(parts) < 6:
        return None
    return [{"ARN": role_arn, "accountId": parts[4], "type": "AWS::IAM::Role"}]


def _bounded(section: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    if section is None or len(canonical(section)) <= RECORD_SECTION_MAX:
        return section, False
    return None, True


def api_events(
    call: Call,
    operation: str,
    params: Mapping[str, Any] | None,
    *,
    result: Mapping[str, Any] | None = None,
    error: AwsError | None = None,
    user_agent: str = "",
    explanation: str | None = None,
    performed_in: str | None = None,
) -> list[TrailEvent]:
    """The records of one API call: one in the caller's account and, when the call acts in another
    account (AssumeRole of another account's role), one there too, linked by sharedEventID."""
    caller = call.caller
    readonly = read_only(call.service, operation)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(caller),
        "eventTime": trail_time(call.now),
        "eventSource": event_source(call.service),
        "eventName": operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": user_agent,
    }
    if error is not None:
        record["errorCode"] = error.code
        record["errorMessage"] = error.message
    requested, request_cut = _bounded(request_parameters(params or {}))
    # CloudTrail records no response of reads, of failed calls, or of calls that answer nothing
    responded = (
        None
        if (error is not None or result is None or not records_response(call.service, operation))
        else (response_elements(result))
    )
    responded, response_cut = _bounded(responded)
    record["requestParameters"] = requested
    record["responseElements"] = responded
    if request_cut or response_cut:
        record["additionalEventData"] = {
            "requestParametersOmitted": request_cut,
            "responseElementsOmitted": response_cut,
        }
    found_resources = record_resources(call.service, operation, params or {})
    if found_resources:
        record["resources"] = found_resources
    record.update(
        {
            "requestID": call.request_id,
            "readOnly": readonly,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "eventCategory": "Management",
        }
    )
    if call.console_session_id:
        record["sessionCredentialFromConsole"] = "true"
    # tlsDetails is left out: the TLS version and cipher are the proxy's, which rolehop does not see
    found = resources(params or {})
    accounts = [caller.account_id]
    if performed_in and performed_in != caller.account_id:
        accounts.append(performed_in)
        record["sharedEventID"] = str(uuid.uuid4())
    events = []
    for account in accounts:
        event_id = str(uuid.uuid4())
        this = record
        if account != caller.account_id:  # the role's account sees the caller as an account
            this = {**record, "userIdentity": account_identity(caller)}
        events.append(
            TrailEvent(
                event_id=event_id,
                request_id=call.request_id,
                event_time=call.now,
                account_id=account,
                region=call.region,
                event_source=record["eventSource"],
                event_name=operation,
                read_only=readonly,
                username=username(caller),
                access_key_id=caller.access_key_id or None,
                principal_arn=issuer_arn(caller),
                error_code=error.code if error is not None else None,
                record=canonical({**this, "eventID": event_id, "recipientAccountId": account}),
                resources=found,
                explanation=explanation if account == caller.account_id else None,
            )
        )
    return events
