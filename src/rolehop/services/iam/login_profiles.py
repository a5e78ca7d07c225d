"""Console passwords: CreateLoginProfile, UpdateLoginProfile, GetLoginProfile, DeleteLoginProfile,
ChangePassword, and the password check that console sign-in uses.

Passwords are stored as argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended
profile); verification is argon2's own constant-time comparison. The account password policy is
enforced on every password set or changed, with reuse prevention against the previous hashes.
Wrong passwords are throttled per user and per source address, like MFA codes, and console sign-in
meets a ceiling per user from every address (pipeline.throttle).

A new password (ChangePassword, UpdateLoginProfile's Password or PasswordResetRequired) and a removed
one end the user's console sessions in the same transaction, except the console session the change
comes from (OWASP ASVS 3.3.3); a new session length alone is no credential and ends none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rolehop.core.entities import Identity, LoginProfile
from rolehop.core.errors import (
    AccessDenied,
    EntityAlreadyExists,
    InvalidUserType,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from rolehop.core.passwords import PasswordPolicy, check_password, reused_password_error
from rolehop.services.iam.common import existing
from rolehop.services.pipeline.authorize import authorize, decide, denied
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.mfa_check import verify_user_code
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.pipeline.throttle import (
    Subject,
    check_not_throttled,
    held_answer,
    record_failure,
    record_success,
    take_password_turn,
)
from rolehop.services.ports.store import Tx

HISTORY_KEPT = 24  # IAM's largest PasswordReusePrevention
SIGN_IN_FAILED = "Your authentication information is incorrect. Please try again."

_hasher = PasswordHasher()  # argon2id


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    return _hasher.hash("rolehop: no such login profile")


def _not_found(user: Identity) -> NoSuchEntity:
    return NoSuchEntity(f"Login Profile for User {user.name} cannot be found.")


def _user(call: Call, p: Params, action: str) -> Identity:
    name = p.get("UserName") or call.caller.user_name
    if name is None:
        raise ValidationError("UserName is required when the caller is not an IAM user.")
    return existing(call, "user", name, action)


def profile_shape(user: Identity, profile: LoginProfile) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "UserName": user.name,
        "CreateDate": profile.created_at,
        "PasswordResetRequired": profile.password_reset_required,
    }
    if profile.max_signin_session_duration is not None:
        shape["MaxSigninSessionDuration"] = profile.max_signin_session_duration
    return shape


def _checked(tx: Tx, account_id: str, password: str, previous: tuple[str, ...]) -> PasswordPolicy | None:
    """The account's policy after checking `password` against it (length, classes, reuse)."""
    policy = tx.get_password_policy(account_id)
    account = tx.get_account(account_id)
    names = (account.name, account.email, account.alias or "") if account else ()
    check_password(password, policy, account_names=names)
    recent = previous[: policy.password_reuse_prevention] if policy is not None else ()
    if policy is not None and any(password_matches(h, password) for h in recent):
        raise reused_password_error(policy)
    return policy


def _new_password(profile: LoginProfile, password_hash: str, now: datetime) -> LoginProfile:
    history = (profile.password_hash, *profile.previous_hashes)[:HISTORY_KEPT]
    return replace(profile, password_hash=password_hash, password_changed_at=now, previous_hashes=history)


@operation("iam", "CreateLoginProfile")
def create_login_profile(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:CreateLoginProfile")
    password = p.get("Password")
    if not password:
        raise ValidationError("Password is required.")
    with call.runtime.store.transaction() as tx:
        if tx.get_login_profile(user.unique_id) is not None:
            raise EntityAlreadyExists(f"Login Profile for user {user.name} already exists.")
        _checked(tx, user.account_id, password, ())
        profile = LoginProfile(
            user.unique_id,
            hash_password(password),
            call.now,
            call.now,
            password_reset_required=bool(p.get("PasswordResetRequired")),
            max_signin_session_duration=p.get("MaxSigninSessionDuration"),
        )
        tx.put_login_profile(profile)
    call.runtime.changed()
    return {"LoginProfile": profile_shape(user, profile)}


@operation("iam", "GetLoginProfile")
def get_login_profile(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:GetLoginProfile")
    with call.runtime.store.transaction() as tx:
        profile = tx.get_login_profile(user.unique_id)
    if profile is None:
        raise _not_found(user)
    return {"LoginProfile": profile_shape(user, profile)}


@operation("iam", "UpdateLoginProfile")
def update_login_profile(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:UpdateLoginProfile")
    if p.get("ResetMaxSigninSessionDuration") and p.get("MaxSigninSessionDuration") is not None:
        raise ValidationError(
            "MaxSigninSessionDuration and ResetMaxSigninSessionDuration cannot both be set."
        )
    with call.runtime.store.transaction() as tx:
        profile = tx.get_login_profile(user.unique_id)
        if profile is None:
            raise _not_found(user)
        if p.get("Password"):
            _checked(tx, user.account_id, p["Password"], (profile.password_hash, *profile.previous_hashes))
            profile = _new_password(profile, hash_password(p["Password"]), call.now)
        if p.get("PasswordResetRequired") is not None:
            profile = replace(profile, password_reset_required=p["PasswordResetRequired"])
        if p.get("MaxSigninSessionDuration") is not None:
            profile = replace(profile, max_signin_session_duration=p["MaxSigninSessionDuration"])
        elif p.get("ResetMaxSigninSessionDuration"):
            profile = replace(profile, max_signin_session_duration=None)
        tx.put_login_profile(profile)
        if p.get("Password") or p.get("PasswordResetRequired"):
            tx.end_console_sessions(user.unique_id, keep=call.console_session_id)
    call.runtime.changed()
    return {}


@operation("iam", "DeleteLoginProfile")
def delete_login_profile(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:DeleteLoginProfile")
    with call.runtime.store.transaction() as tx:
        if tx.get_login_profile(user.unique_id) is None:
            raise _not_found(user)
        tx.delete_login_profile(user.unique_id)
        tx.end_console_sessions(user.unique_id, keep=call.console_session_id)
    call.runtime.changed()
    return {}


def _authorize_change(call: Call, user: Identity, policy: PasswordPolicy | None) -> None:
    """iam:ChangePassword on one's own user. AllowUsersToChangePassword in the account's policy
    grants it to every user (IAM User Guide), so it stands in for an identity-policy allow; an
    explicit deny, e.g. one that wants MFA first, still refuses. The evaluator decides either way."""
    decision = decide(call, "iam:ChangePassword", user.arn)
    if decision.decision == "Allowed":
        return
    if (
        decision.decision == "ImplicitlyDenied"
        and policy is not None
        and policy.allow_users_to_change_password
    ):
        return
    raise denied(call, "iam:ChangePassword", user.arn, decision)


@operation("iam", "ChangePassword")
def change_password(call: Call, p: Params) -> Result:
    caller = call.caller
    user = caller.identity if caller.kind == "user" else None
    if user is None:  # authorization still comes first: a denied caller learns nothing more
        authorize(call, "iam:ChangePassword", caller.arn)
        raise InvalidUserType("Only IAM users can change their own password with ChangePassword.")
    rt = call.runtime
    with rt.store.transaction() as tx:
        policy = tx.get_password_policy(user.account_id)
        profile = tx.get_login_profile(user.unique_id)
    _authorize_change(call, user, policy)
    if profile is None:
        raise _not_found(user)
    if policy is not None and policy.hard_expiry and policy.expired(profile.password_changed_at, call.now):
        raise AccessDenied("The password has expired and can be reset only by an administrator (HardExpiry).")
    who = Subject(user.unique_id, user.name, call.source_ip)
    check_not_throttled(rt, who, call.now)
    if not password_matches(profile.password_hash, p["OldPassword"]):
        record_failure(rt, who, call.now, factor="password")
        raise AccessDenied("The old password is incorrect.")
    record_success(rt, who)
    new = p["NewPassword"]
    with rt.store.transaction() as tx:
        current = tx.get_login_profile(user.unique_id) or profile
        _checked(tx, user.account_id, new, (current.password_hash, *current.previous_hashes))
        tx.put_login_profile(
            replace(_new_password(current, hash_password(new), call.now), password_reset_required=False)
        )
        tx.end_console_sessions(user.unique_id, keep=call.console_session_id)
    rt.changed()
    return {}


@dataclass(frozen=True)
class PasswordSignIn:
    """What console sign-in learns from a correct password."""

    user: Identity
    password_reset_required: bool
    password_expired: bool
    mfa_required: bool  # the user has an enabled MFA device and no code came yet: ask for it next
    mfa_authenticated: bool = False  # a good code came with the password


def sign_in_with_password(
    rt: Runtime,
    account_id: str,
    user_name: str,
    password: str,
    *,
    now: datetime,
    source_ip: str = "",
    mfa_code: str | None = None,
) -> PasswordSignIn:
    """Checks a console password, and the MFA code when one comes with it. Raises AccessDenied (one
    message whatever was wrong, so user names cannot be probed), LimitExceeded while the user or the
    source address is blocked, or Throttling while the user name is held by the ceiling."""
    with rt.store.transaction() as tx:
        user = tx.get_identity("user", account_id, user_name)
        profile = tx.get_login_profile(user.unique_id) if user else None
        policy = tx.get_password_policy(account_id)
        has_mfa = bool(tx.mfa_devices_of(user.unique_id)) if user else False
    # an unknown name is throttled like a user too, so throttling does not tell which names exist
    who = Subject(
        user.unique_id if user else f"?{account_id}/{user_name.lower()}"[:128],
        user_name,
        source_ip,
        unauthenticated_password=True,
    )
    check_not_throttled(rt, who, now)
    held = take_password_turn(rt, who, now)
    if held:
        if not mfa_code:
            raise held_answer(who, held)  # the password is not even looked at
        user, profile = _both_factors(rt, who, user, profile, has_mfa, password, mfa_code, held, now)
        mfa_done = True
    else:
        # an unknown user costs the same argon2 work as a known one, and answers the same
        matched = password_matches(profile.password_hash if profile else _decoy_hash(), password)
        if user is None or profile is None or not matched:
            record_failure(rt, who, now, factor="password")
            raise AccessDenied(SIGN_IN_FAILED)
        record_success(rt, who)
        mfa_done = has_mfa and bool(mfa_code)
        if mfa_done:
            verify_user_code(rt, user, None, (mfa_code or "").strip(), now=now, source_ip=source_ip)
    expired = policy is not None and policy.expired(profile.password_changed_at, now)
    return PasswordSignIn(
        user, profile.password_reset_required, expired, has_mfa and not mfa_done, mfa_authenticated=mfa_done
    )


def _both_factors(
    rt: Runtime,
    who: Subject,
    user: Identity | None,
    profile: LoginProfile | None,
    has_mfa: bool,
    password: str,
    code: str,
    held: int,
    now: datetime,
) -> tuple[Identity, LoginProfile]:
    """While the user name is held, the password counts only with a good MFA code, and every failure
    gets the held answer: a guesser without the device learns nothing of the password, and the user
    with it is not kept out. Each failure counts once against the source address (never against the
    user's MFA unless the password was right, so guessers cannot lock the user's MFA)."""
    matched = password_matches(profile.password_hash if profile else _decoy_hash(), password)
    if user is None or profile is None or not matched or not has_mfa:
        record_failure(rt, who, now, factor="password")
        raise held_answer(who, held)
    try:
        verify_user_code(rt, user, None, code.strip(), now=now)  # the user's MFA count, not the address's
    except (AccessDenied, LimitExceeded):
        record_failure(rt, who, now)
        raise held_answer(who, held) from None
    record_success(rt, who)
    return user, profile
