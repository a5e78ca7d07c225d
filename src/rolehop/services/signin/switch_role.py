"""Switch Role, Role History and Switch back.

A switch is STS AssumeRole called with the signed-in user's own session (never with the role the
user is in), as the AWS console does, so the role's trust policy sees the user's MFA and the
user's policies decide; the role session then lasts an hour and is renewed the same way while the
user's session lasts. The history is kept on the server per user: it follows the user to every
browser and keeps every role used, not the last five.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from rolehop.core import arn
from rolehop.core.errors import AwsError
from rolehop.services.ports.console import ConsoleSession, RoleHistoryEntry
from rolehop.services.ports.trail import TrailEvent
from rolehop.services.signin import trail
from rolehop.services.signin.sessions import (
    Console,
    SessionEnded,
    Visit,
    call_for,
    caller_of,
    claims_of,
    invoke,
    recording,
    save_session,
)
from rolehop.services.signin.sign_in import account_id_for, account_label
from rolehop.services.sts.assumable_roles import AssumableRole, assumable_roles

ROLE_SESSION_SECONDS = 3600  # AWS: a role session begun by Switch Role lasts one hour by default
DISPLAY_NAME_MAX = 64
SWITCH_ROLE_NAME_MAX = 64  # AWS: path and name together at most 64 characters for Switch Role

# The AWS console's colours for Switch Role (hex without '#'), in the order it offers them;
# the older palette is still accepted from bookmarked links.
PALETTE: tuple[tuple[str, str], ...] = (
    ("f2b0a9", "Red"),
    ("fbc8aa", "Orange"),
    ("efda95", "Yellow"),
    ("b7ca9d", "Green"),
    ("83d4e8", "Blue"),
)
LEGACY_PALETTE = MappingProxyType({"fbbf93": "Orange", "fad791": "Yellow", "99bce3": "Blue"})
_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


class SwitchError(Exception):
    """The Switch Role form cannot be acted on as filled in; the message says why."""


@dataclass(frozen=True)
class RoleTarget:
    account_id: str
    role_name: str  # with its path, without the leading '/': "team/admin"
    role_arn: str


def color_of(text: str | None) -> str:
    """A palette colour, lower-case hex without '#'; "" for none or anything else."""
    value = (text or "").strip().lstrip("#").lower()
    known = {h for h, _ in PALETTE} | set(LEGACY_PALETTE)
    return value if value in known else ""


def color_name(color: str) -> str:
    return dict(PALETTE).get(color) or LEGACY_PALETTE.get(color, "")


def target(console: Console, account: str, role: str) -> RoleTarget:
    """The role an account (12-digit ID or alias) and a role name (with its path) designate."""
    account = account.strip()
    role = role.strip().strip("/")
    if not account:
        raise SwitchError("Enter the account ID or alias of the account to switch to.")
    if not role:
        raise SwitchError("Enter the name of the role to switch to.")
    account_id = account_id_for(console.rt, account)
    if account_id is None:
        digits = account.replace("-", "").replace(" ", "")
        if not re.fullmatch(r"\d{12}", digits):
            raise SwitchError(f"No account has the ID or alias '{account}'.")
        account_id = digits  # an unknown ID: AssumeRole answers for it, without saying whether it exists
    parts = role.split("/")
    if len(role) > SWITCH_ROLE_NAME_MAX or not all(_NAME.match(p) for p in parts):
        raise SwitchError(
            "A role name (with its path) has at most 64 characters: letters, digits and +=,.@_- "
            "with / between the path's parts."
        )
    path = "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else "/"
    return RoleTarget(account_id, role, arn.iam_arn(account_id, "role", path, parts[-1]))


def default_display_name(console: Console, role: RoleTarget) -> str:
    """AWS's default: ROLE @ ACCOUNT (here the alias when the account has one)."""
    return f"{role.role_name.rsplit('/', 1)[-1]} @ {account_label(console.rt, role.account_id)}"[
        :DISPLAY_NAME_MAX
    ]


def _session_name(user_name: str) -> str:
    # AWS names the role session after the user; RoleSessionName needs at least two characters
    return user_name if len(user_name) >= 2 else user_name + "_"


def _assume(
    console: Console,
    session: ConsoleSession,
    role_arn: str,
    *,
    source_ip: str,
    secure: bool,
    user_agent: str = "",
) -> str:
    """AssumeRole as the signed-in user (not as the current role); returns the role's session token."""
    if session.user_token is None:
        raise SwitchError(
            "This session was opened from role credentials: it cannot switch roles. "
            "Sign in as an IAM user to switch roles."
        )
    call = call_for(
        console,
        session.user_token,
        service="sts",
        source_ip=source_ip,
        secure=secure,
        session_id=session.session_id,
        user_agent=user_agent,
    )
    params = {
        "RoleArn": role_arn,
        "RoleSessionName": _session_name(session.principal_name),
        "DurationSeconds": ROLE_SESSION_SECONDS,
    }
    result = invoke(call, "sts", "AssumeRole", params)
    return str(result["Credentials"]["SessionToken"])


def switch_role(
    console: Console,
    session: ConsoleSession,
    role: RoleTarget,
    *,
    display_name: str = "",
    color: str = "",
    source_ip: str = "",
    secure: bool = False,
    visit: Visit | None = None,
) -> ConsoleSession:
    """Switches the session into `role` and remembers it in the user's role history, committed with
    the SwitchRole's record (in the role's account, as the new role session). AssumeRole's
    AccessDenied (or any AWS error) propagates with its message."""
    visit = visit or Visit(source_ip)
    token = _assume(
        console, session, role.role_arn, source_ip=source_ip, secure=secure, user_agent=visit.user_agent
    )
    display = display_name.strip()[:DISPLAY_NAME_MAX] or default_display_name(console, role)
    chosen = color_of(color)
    switched = replace(
        session,
        role_token=token,
        role_arn=role.role_arn,
        role_display_name=display,
        role_color=chosen or None,
    )
    now = console.rt.clock()
    assert session.user_id is not None and session.user_token is not None  # as _assume checked
    event = trail.switch_role(
        console.rt,
        caller_of(console.rt, token),
        switch_from=claims_of(console.rt, session.user_token).principal_arn,
        redirect_to=visit.url,
        display_name=display,
        source_ip=visit.source_ip,
        user_agent=visit.user_agent,
    )
    with recording(console, [event]) as tx:
        tx.update_session(switched)
        tx.put_role_history(
            RoleHistoryEntry(session.user_id, role.account_id, role.role_name, display, chosen, now)
        )
    return switched


def switch_back(console: Console, session: ConsoleSession, visit: Visit | None = None) -> ConsoleSession:
    """Back to the signed-in user. When the user asks for it (`visit`), recorded as a SwitchRole in
    the user's account, as the user, from the role session; a role session that could not be renewed
    is left without a record (its end is not the user's doing)."""
    back = replace(session, role_token=None, role_arn=None, role_display_name=None, role_color=None)
    events: list[TrailEvent] = []
    if visit is not None and session.role_token is not None and session.user_token is not None:
        try:
            user = caller_of(console.rt, session.user_token)
            role_session = claims_of(console.rt, session.role_token).principal_arn
        except SessionEnded:
            pass  # the page that follows signs the browser out
        else:
            events.append(
                trail.switch_back(
                    console.rt,
                    user,
                    switch_from=role_session,
                    redirect_to=visit.url,
                    source_ip=visit.source_ip,
                    user_agent=visit.user_agent,
                )
            )
    save_session(console, back, events)
    return back


def renew_if_expired(
    console: Console,
    session: ConsoleSession,
    *,
    now: datetime,
    source_ip: str = "",
    secure: bool = False,
    user_agent: str = "",
) -> tuple[ConsoleSession, str | None]:
    """A role session past its hour is assumed again with the user's session, as long as that lasts.
    Returns the session and, when the role could not be renewed (and was left), the reason."""
    if session.role_token is None or session.user_token is None or session.role_arn is None:
        return session, None
    if not claims_of(console.rt, session.role_token).expired(now):
        return session, None
    try:
        token = _assume(
            console, session, session.role_arn, source_ip=source_ip, secure=secure, user_agent=user_agent
        )
    except (AwsError, SwitchError) as e:
        left = switch_back(console, session)
        reason = e.message if isinstance(e, AwsError) else str(e)
        return left, f"Your session as {session.role_display_name} ended and could not be renewed: {reason}"
    renewed = replace(session, role_token=token)
    save_session(console, renewed)
    return renewed, None


def role_history(console: Console, session: ConsoleSession) -> list[RoleHistoryEntry]:
    if session.user_id is None:
        return []
    with console.store.transaction() as tx:
        return tx.role_history(session.user_id)


def history_entry(
    console: Console, session: ConsoleSession, account_id: str, role_name: str
) -> RoleHistoryEntry:
    for entry in role_history(console, session):
        if entry.account_id == account_id and entry.role_name.lower() == role_name.lower():
            return entry
    raise SwitchError("That role is not in your role history.")


def forget(console: Console, session: ConsoleSession, account_id: str, role_name: str) -> None:
    if session.user_id is not None:
        with console.store.transaction() as tx:
            tx.delete_role_history(session.user_id, account_id, role_name)


def roles_you_can_assume(
    console: Console, session: ConsoleSession, *, source_ip: str = "", secure: bool = False
) -> list[AssumableRole]:
    """Beyond AWS: every role the signed-in user may switch to, decided by the policy engine from the
    user's policies and each role's trust policy (services.assumable_roles)."""
    if session.user_token is None:
        return []
    try:
        call = call_for(console, session.user_token, service="sts", source_ip=source_ip, secure=secure)
    except SessionEnded:
        return []
    return assumable_roles(call)
