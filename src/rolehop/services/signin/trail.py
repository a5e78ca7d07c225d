"""CloudTrail records of the console's own events: signin.amazonaws.com, eventType AwsConsoleSignIn.

The shapes are CloudTrail's (User Guide, "AWS Management Console sign-in events"; IAM User Guide,
"Logging IAM and AWS STS API calls with AWS CloudTrail"):

    ConsoleLogin    responseElements {"ConsoleLogin": "Success" | "Failure"}, additionalEventData
                    {LoginTo, MobileVersion "No", MFAUsed "Yes" | "No"}; a failure carries
                    errorMessage "Failed authentication", or "No username found in supplied account"
                    with userName HIDDEN_DUE_TO_SECURITY_REASONS when no such user exists (the typed
                    name may be a password typed in the wrong box: it is never recorded)
    CheckMfa        the password was right and the user has an MFA device: {"CheckMfa": "Success"},
                    additionalEventData {MfaType}; the code's result is the ConsoleLogin that follows
                    (MFAUsed "Yes", Success or Failure)
    SwitchRole      in the role's account, as the role session: {"SwitchRole": "Success"},
                    additionalEventData {SwitchFrom: the user's ARN, RedirectTo}; Switch back is a
                    SwitchRole in the user's account, as the user, SwitchFrom the role session's ARN
    GetSigninToken  the federation endpoint's token, in the role's account, as the role session;
                    the ConsoleLogin it leads to likewise
    ConsoleLogout   rolehop's name for a sign-out (CloudTrail records none)

Password changes and MFA enrolment are IAM calls (ChangePassword, CreateVirtualMFADevice,
EnableMFADevice), recorded by pipeline.perform like any API call, marked sessionCredentialFromConsole.

The userIdentity of a console event carries no accessKeyId (the console's keys never leave the
server); a session's carries its sessionContext, so a record says whether the role was switched
into with MFA. Nothing here records a password, an MFA code, a token or a key.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from rolehop.core.entities import Identity
from rolehop.core.trail_chain import canonical
from rolehop.services.pipeline.caller import Caller
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.pipeline.trail_records import (
    EVENT_VERSION,
    HIDDEN,
    issuer_arn,
    trail_time,
    user_identity,
    username,
)
from rolehop.services.ports.trail import Resource, TrailEvent

SIGNIN_SOURCE = "signin.amazonaws.com"
EVENT_TYPE = "AwsConsoleSignIn"
FAILED_AUTHENTICATION = "Failed authentication"
NO_SUCH_USER = "No username found in supplied account"
# a throttled attempt: not the error's own text, which names the user as typed
TOO_MANY_ATTEMPTS = "Too many failed authentication attempts"
MFA_TYPE = "Virtual MFA"  # rolehop's MFA devices are virtual (TOTP) devices
LOGOUT = "ConsoleLogout"
URL_MAX = 2048


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def user_of(user: Identity) -> dict[str, Any]:
    """A signed-in IAM user, as ConsoleLogin's userIdentity shows it."""
    return {
        "type": "IAMUser",
        "principalId": user.unique_id,
        "arn": user.arn,
        "accountId": user.account_id,
        "userName": user.name,
    }


def attempted_by(account_id: str, user: Identity | None) -> dict[str, Any]:
    """Who tried to sign in before anyone was signed in (a failure, CheckMfa): no ARN, and for a name
    that no user has, HIDDEN_DUE_TO_SECURITY_REASONS in place of whatever was typed."""
    identity: dict[str, Any] = {"type": "IAMUser"}
    if user is not None:
        identity["principalId"] = user.unique_id
    identity.update({"accountId": account_id, "accessKeyId": "", "userName": user.name if user else HIDDEN})
    return identity


def session_of(caller: Caller) -> dict[str, Any]:
    """A console session's principal (a role session, or the signed-in user): CloudTrail's
    userIdentity with its sessionContext, without the session's access key ID."""
    identity = user_identity(caller)
    identity.pop("accessKeyId", None)
    return identity


def _url(value: str) -> str:
    return value[:URL_MAX]


def console_event(
    rt: Runtime,
    *,
    account_id: str,
    identity: Mapping[str, Any],
    event_name: str,
    success: bool,
    source_ip: str,
    user_agent: str,
    additional: Mapping[str, Any] | None = None,
    error_message: str | None = None,
    username_: str | None,
    principal_arn: str | None,
    resources: Sequence[Resource] = (),
) -> TrailEvent:
    """One AwsConsoleSignIn record, in the account whose event history shows it."""
    now = rt.clock()
    event_id = str(uuid.uuid4())
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": dict(identity),
        "eventTime": trail_time(now),
        "eventSource": SIGNIN_SOURCE,
        "eventName": event_name,
        "awsRegion": rt.settings.default_region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": None,
        "responseElements": {event_name: "Success" if success else "Failure"},
    }
    if error_message is not None:
        record["errorMessage"] = error_message
    if additional:
        record["additionalEventData"] = dict(additional)
    record.update(
        {
            "eventID": event_id,
            "readOnly": False,
            "eventType": EVENT_TYPE,
            "managementEvent": True,
            "recipientAccountId": account_id,
            "eventCategory": "Management",
        }
    )
    return TrailEvent(
        event_id=event_id,
        request_id=None,
        event_time=now,
        account_id=account_id,
        region=rt.settings.default_region,
        event_source=SIGNIN_SOURCE,
        event_name=event_name,
        read_only=False,
        username=username_,
        access_key_id=None,
        principal_arn=principal_arn,
        error_code=error_message,  # a sign-in failure's errorMessage is what the event history shows
        record=canonical(record),
        resources=tuple(resources),
    )


def caller_event(rt: Runtime, caller: Caller, **event: Any) -> TrailEvent:
    """A console event made as `caller` (a user's or a role's session): in its account, with its
    identity, user name and the user or role behind it."""
    return console_event(
        rt,
        account_id=caller.account_id,
        identity=session_of(caller),
        username_=username(caller),
        principal_arn=issuer_arn(caller),
        **event,
    )


def login_data(login_to: str, *, mfa: bool) -> dict[str, str]:
    return {"LoginTo": _url(login_to), "MobileVersion": "No", "MFAUsed": yes_no(mfa)}


def console_login(
    rt: Runtime, user: Identity, *, mfa: bool, source_ip: str, user_agent: str, login_to: str
) -> TrailEvent:
    """A successful sign-in of an IAM user (with its MFA code when `mfa`)."""
    return console_event(
        rt,
        account_id=user.account_id,
        identity=user_of(user),
        event_name="ConsoleLogin",
        success=True,
        source_ip=source_ip,
        user_agent=user_agent,
        additional=login_data(login_to, mfa=mfa),
        username_=user.name,
        principal_arn=user.arn,
    )


def failed_login(
    rt: Runtime,
    account_id: str,
    user: Identity | None,
    *,
    mfa: bool,
    throttled: bool,
    source_ip: str,
    user_agent: str,
    login_to: str,
) -> TrailEvent:
    """A refused sign-in: `user` is None when no user has the name typed (which is then not recorded)."""
    message = FAILED_AUTHENTICATION
    if user is None:
        message = NO_SUCH_USER
    elif throttled:
        message = TOO_MANY_ATTEMPTS
    return console_event(
        rt,
        account_id=account_id,
        identity=attempted_by(account_id, user),
        event_name="ConsoleLogin",
        success=False,
        source_ip=source_ip,
        user_agent=user_agent,
        additional=login_data(login_to, mfa=mfa),
        error_message=message,
        username_=user.name if user else HIDDEN,
        principal_arn=user.arn if user else None,
    )


def check_mfa(rt: Runtime, user: Identity, *, source_ip: str, user_agent: str) -> TrailEvent:
    """The password was right and the user has an MFA device: the code is asked for."""
    return console_event(
        rt,
        account_id=user.account_id,
        identity=attempted_by(user.account_id, user),
        event_name="CheckMfa",
        success=True,
        source_ip=source_ip,
        user_agent=user_agent,
        additional={"MfaType": MFA_TYPE},
        username_=user.name,
        principal_arn=user.arn,
    )


def switch_role(
    rt: Runtime,
    role_session: Caller,
    *,
    switch_from: str,
    redirect_to: str,
    display_name: str,
    source_ip: str,
    user_agent: str,
) -> TrailEvent:
    """A switch into a role, recorded in the role's account as the new role session. The display name
    the user chose is rolehop's addition to additionalEventData."""
    role_arn = issuer_arn(role_session)
    return caller_event(
        rt,
        role_session,
        event_name="SwitchRole",
        success=True,
        source_ip=source_ip,
        user_agent=user_agent,
        additional={"SwitchFrom": switch_from, "RedirectTo": _url(redirect_to), "DisplayName": display_name},
        resources=(Resource("AWS::IAM::Role", role_arn),),
    )


def switch_back(
    rt: Runtime, user_session: Caller, *, switch_from: str, redirect_to: str, source_ip: str, user_agent: str
) -> TrailEvent:
    """Switch back: a SwitchRole in the user's account, as the user, from the role session."""
    return caller_event(
        rt,
        user_session,
        event_name="SwitchRole",
        success=True,
        source_ip=source_ip,
        user_agent=user_agent,
        additional={"SwitchFrom": switch_from, "RedirectTo": _url(redirect_to)},
    )


def get_signin_token(
    rt: Runtime,
    role_session: Caller,
    *,
    error_message: str | None = None,
    source_ip: str,
    user_agent: str,
) -> TrailEvent:
    """The federation endpoint's getSigninToken, as the credentials' role session."""
    mfa = bool(role_session.claims and role_session.claims.mfa_authenticated)
    return caller_event(
        rt,
        role_session,
        event_name="GetSigninToken",
        success=error_message is None,
        source_ip=source_ip,
        user_agent=user_agent,
        additional={"MobileVersion": "No", "MFAUsed": yes_no(mfa)},
        error_message=error_message,
    )


def federated_login(
    rt: Runtime,
    role_session: Caller,
    *,
    error_message: str | None = None,
    source_ip: str,
    user_agent: str,
    login_to: str,
) -> TrailEvent:
    """The federation endpoint's login: a console session as the role session of a sign-in token."""
    mfa = bool(role_session.claims and role_session.claims.mfa_authenticated)
    return caller_event(
        rt,
        role_session,
        event_name="ConsoleLogin",
        success=error_message is None,
        source_ip=source_ip,
        user_agent=user_agent,
        additional=login_data(login_to, mfa=mfa),
        error_message=error_message,
    )


def console_logout(rt: Runtime, principal: Caller, *, source_ip: str, user_agent: str) -> TrailEvent:
    """A sign-out, as the session's principal (the user; for a federated session, the role session)."""
    return caller_event(
        rt,
        principal,
        event_name=LOGOUT,
        success=True,
        source_ip=source_ip,
        user_agent=user_agent,
    )
