"""Read-only IAM pages of the current account: users, groups, roles, policies, MFA devices.

Each page calls IAM's operations as the current identity; whatever the policy engine refuses is
shown as its AccessDenied message in place of the data, never hidden or decided here. A detail page
of a missing entity is a 404 for a caller allowed to read it, and a 403 like any other for the rest.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response

from rolehop.console.views_events import events_link
from rolehop.console.views_switch import switch_link
from rolehop.console.web import Ctx
from rolehop.core.errors import AwsError, AWSOrganizationsNotInUseException, NoSuchEntity
from rolehop.services.cloudtrail.lookup_events import ATTRIBUTES

USER_TABS = (
    ("permissions", "Permissions"),
    ("groups", "Groups"),
    ("tags", "Tags"),
    ("security_credentials", "Security credentials"),
)
_TITLES = {"user": "User", "group": "Group", "role": "Role"}


def pretty_policy(document: str | None) -> str:
    """A policy document as IAM returns it (URL-encoded JSON), indented for reading."""
    text = unquote(document or "")
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def _listing(
    ctx: Ctx, operation: str, key: str, params: dict[str, Any] | None = None
) -> tuple[list[Any], str | None]:
    try:
        return ctx.everything(operation, key, params), None
    except AwsError as e:
        return [], e.message


def _section(ctx: Ctx, operation: str, params: dict[str, Any], key: str) -> dict[str, Any]:
    """A part of a page: its items, or the reason it cannot be shown."""
    items, denied = _listing(ctx, operation, key, params)
    return {"items": items, "denied": denied}


def _fetch(ctx: Ctx, operation: str, params: dict[str, Any]) -> dict[str, Any] | AwsError:
    """The operation's result, or the error it raised."""
    try:
        return ctx.invoke(operation, params)
    except AwsError as e:
        return e


def _not_shown(ctx: Ctx, title: str, error: AwsError) -> Response:
    """A detail page that cannot be shown. IAM authorizes before it looks (iam.common.existing), so
    NoSuchEntity reaches only a caller allowed to read the entity: a 404. Anyone else gets the same
    refusal whether or not it exists (403): the page is no oracle of which names exist."""
    if isinstance(error, NoSuchEntity):
        return ctx.render("iam_not_found.html", status=404, title=title, message=error.message)
    return ctx.render("iam_denied.html", status=403, title=title, denied=error.message or error.code)


def dashboard(ctx: Ctx) -> Response:
    summary, summary_denied = ctx.attempt("GetAccountSummary")
    aliases, _ = ctx.attempt("ListAccountAliases")
    return ctx.render(
        "iam_dashboard.html",
        summary=(summary or {}).get("SummaryMap", {}),
        summary_denied=summary_denied,
        alias=((aliases or {}).get("AccountAliases") or [None])[0],
        account_id=ctx.call().caller.account_id,
    )


def users(ctx: Ctx) -> Response:
    items, denied = _listing(ctx, "ListUsers", "Users")
    return ctx.render("iam_users.html", status=403 if denied else 200, users=items, denied=denied)


def user(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    tab = ctx.query.get("tab", "permissions")
    if tab not in dict(USER_TABS):
        tab = "permissions"
    found = _fetch(ctx, "GetUser", {"UserName": name})
    if isinstance(found, AwsError):
        return _not_shown(ctx, f"User {name}", found)
    own = ctx.is_own_user and ctx.session is not None and ctx.session.principal_name.lower() == name.lower()
    values: dict[str, Any] = {
        "user": found["User"],
        "tab": tab,
        "tabs": USER_TABS,
        "own": own,
        "events": events_link("Username", found["User"]["UserName"]),
    }
    if tab == "permissions":
        values["attached"] = _section(ctx, "ListAttachedUserPolicies", {"UserName": name}, "AttachedPolicies")
        values["inline"] = _section(ctx, "ListUserPolicies", {"UserName": name}, "PolicyNames")
    elif tab == "groups":
        values["groups"] = _section(ctx, "ListGroupsForUser", {"UserName": name}, "Groups")
    elif tab == "tags":
        values["tags"] = _section(ctx, "ListUserTags", {"UserName": name}, "Tags")
    else:
        values.update(_credentials(ctx, name))
    return ctx.render("iam_user.html", **values)


def _credentials(ctx: Ctx, name: str) -> dict[str, Any]:
    password: dict[str, Any] = {"enabled": False, "denied": None}
    try:
        profile = ctx.invoke("GetLoginProfile", {"UserName": name})["LoginProfile"]
        password = {"enabled": True, "denied": None, "profile": profile}
    except NoSuchEntity:
        pass
    except AwsError as e:
        password["denied"] = e.message
    return {
        "password": password,
        "mfa": _section(ctx, "ListMFADevices", {"UserName": name}, "MFADevices"),
        "keys": _section(ctx, "ListAccessKeys", {"UserName": name}, "AccessKeyMetadata"),
    }


def groups(ctx: Ctx) -> Response:
    items, denied = _listing(ctx, "ListGroups", "Groups")
    return ctx.render("iam_groups.html", status=403 if denied else 200, groups=items, denied=denied)


def group(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    found = _fetch(ctx, "GetGroup", {"GroupName": name})
    if isinstance(found, AwsError):
        return _not_shown(ctx, f"User group {name}", found)
    return ctx.render(
        "iam_group.html",
        group=found["Group"],
        members=found.get("Users", []),
        attached=_section(ctx, "ListAttachedGroupPolicies", {"GroupName": name}, "AttachedPolicies"),
        inline=_section(ctx, "ListGroupPolicies", {"GroupName": name}, "PolicyNames"),
    )


def roles(ctx: Ctx) -> Response:
    items, denied = _listing(ctx, "ListRoles", "Roles")
    return ctx.render("iam_roles.html", status=403 if denied else 200, roles=items, denied=denied)


def role(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    found = _fetch(ctx, "GetRole", {"RoleName": name})
    if isinstance(found, AwsError):
        return _not_shown(ctx, f"Role {name}", found)
    details = found["Role"]
    account_id = details["Arn"].split(":")[4]
    path_name = (details["Path"] + details["RoleName"]).lstrip("/")
    return ctx.render(
        "iam_role.html",
        role=details,
        trust=pretty_policy(details.get("AssumeRolePolicyDocument")),
        attached=_section(ctx, "ListAttachedRolePolicies", {"RoleName": name}, "AttachedPolicies"),
        inline=_section(ctx, "ListRolePolicies", {"RoleName": name}, "PolicyNames"),
        link=str(ctx.request.base_url).rstrip("/") + switch_link(account_id, path_name),
        events=role_events(details["Arn"], details["RoleName"]),
    )


def role_events(role_arn: str, role_name: str) -> list[tuple[str, str]]:
    """Links to a role's recent events: about it (its name: IAM calls on it; its ARN: AssumeRole and
    SwitchRole into it), and by its sessions where the lookup knows the role behind a session."""
    links = [
        ("Events about this role", events_link("ResourceName", role_name)),
        ("Sessions begun (AssumeRole, SwitchRole)", events_link("ResourceName", role_arn)),
    ]
    if "PrincipalArn" in ATTRIBUTES:
        links.append(("Events by this role's sessions", events_link("PrincipalArn", role_arn)))
    return links


def policies(ctx: Ctx) -> Response:
    scope = ctx.query.get("scope", "Local")
    if scope not in ("Local", "AWS", "All"):
        scope = "Local"
    items, denied = _listing(ctx, "ListPolicies", "Policies", {"Scope": scope})
    return ctx.render(
        "iam_policies.html", status=403 if denied else 200, policies=items, denied=denied, scope=scope
    )


def policy(ctx: Ctx) -> Response:
    policy_arn = ctx.query.get("arn", "")
    found = _fetch(ctx, "GetPolicy", {"PolicyArn": policy_arn})
    if isinstance(found, AwsError):
        return _not_shown(ctx, "Policy", found)
    details = found["Policy"]
    version, version_denied = ctx.attempt(
        "GetPolicyVersion", {"PolicyArn": policy_arn, "VersionId": details["DefaultVersionId"]}
    )
    document = pretty_policy(version["PolicyVersion"].get("Document")) if version else None
    return ctx.render("iam_policy.html", policy=details, document=document, document_denied=version_denied)


def inline_policy(ctx: Ctx) -> Response:
    kind = ctx.request.path_params["kind"]
    owner, name = ctx.request.path_params["owner"], ctx.request.path_params["policy"]
    title = {"users": "User", "groups": "Group", "roles": "Role"}.get(kind)
    if title is None:
        return ctx.error(404, "Not found", "There is no such page.")
    found = _fetch(ctx, f"Get{title}Policy", {f"{title}Name": owner, "PolicyName": name})
    if isinstance(found, AwsError):
        return _not_shown(ctx, f"Inline policy {name}", found)
    return ctx.render(
        "iam_inline_policy.html",
        kind=kind,
        owner=owner,
        owner_title=title,
        name=name,
        document=pretty_policy(found.get("PolicyDocument")),
    )


def mfa_devices(ctx: Ctx) -> Response:
    items, denied = _listing(ctx, "ListVirtualMFADevices", "VirtualMFADevices")
    return ctx.render("iam_mfa_devices.html", status=403 if denied else 200, devices=items, denied=denied)


def organizations(ctx: Ctx) -> Response:
    try:
        described = ctx.invoke("DescribeOrganization", {}, service="organizations")
    except AWSOrganizationsNotInUseException:  # a standalone account: not a refusal
        return ctx.render("organizations.html", organization=None, denied=None, accounts=[])
    except AwsError as e:
        return ctx.render("organizations.html", status=403, organization=None, denied=e.message or e.code)
    accounts: list[Any] = []
    accounts_denied = None
    try:
        params: dict[str, Any] = {}
        while True:  # every page (Organizations answers 20 accounts a page)
            page = ctx.invoke("ListAccounts", params, service="organizations")
            accounts += page.get("Accounts", [])
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    except AwsError as e:
        accounts_denied = e.message
    return ctx.render(
        "organizations.html",
        organization=described.get("Organization"),
        denied=None,
        accounts=accounts,
        accounts_denied=accounts_denied,
    )
