"""Console Home, the Services search, Switch Role (with Role History and the roles you can
assume), Switch back, and the federation endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.responses import JSONResponse, PlainTextResponse, Response

from rolehop.console.web import Ctx, safe_next
from rolehop.core.errors import AwsError
from rolehop.services.signin.federation import FederationError, get_signin_token, login
from rolehop.services.signin.switch_role import (
    PALETTE,
    SwitchError,
    color_of,
    forget,
    history_entry,
    role_history,
    roles_you_can_assume,
    switch_back,
    switch_role,
    target,
)


@dataclass(frozen=True)
class Service:
    name: str
    title: str
    summary: str
    url: str
    keywords: str

    def matches(self, query: str) -> bool:
        words = query.lower().split()
        text = f"{self.name} {self.title} {self.summary} {self.keywords}".lower()
        return all(w in text for w in words)


SERVICES = (
    Service(
        "IAM",
        "Identity and Access Management",
        "Manage access to AWS resources",
        "/iam",
        "users groups roles policies mfa access keys security credentials",
    ),
    Service(
        "Organizations",
        "AWS Organizations",
        "Central management for multiple AWS accounts",
        "/organizations",
        "accounts organization",
    ),
    Service(
        "CloudTrail",
        "AWS CloudTrail",
        "Track user activity and API usage: Event history",
        "/cloudtrail/events",
        "event history audit trail sign-in logins switch role who changed",
    ),
)


def home(ctx: Ctx) -> Response:
    assert ctx.session is not None
    roles = roles_you_can_assume(ctx.console, ctx.session, source_ip=ctx.source_ip, secure=ctx.secure)
    return ctx.render("home.html", services=SERVICES, roles=roles, switch_link=switch_link)


def services(ctx: Ctx) -> Response:
    query = ctx.query.get("q", "").strip()
    found = [s for s in SERVICES if s.matches(query)] if query else list(SERVICES)
    if query and len(found) == 1 and ctx.query.get("go"):
        return ctx.redirect(found[0].url)
    return ctx.render("services.html", query=query, found=found)


def switch_link(account_id: str, role_name: str, display_name: str = "", color: str = "") -> str:
    """The bookmarkable link that opens Switch Role filled in (AWS's /switchrole?… parameters)."""
    params = {"account": account_id, "roleName": role_name}
    if display_name:
        params["displayName"] = display_name
    if color:
        params["color"] = color
    return "/switchrole?" + urlencode(params)


def _switch_page(
    ctx: Ctx, status: int = 200, error: str | None = None, detail: str | None = None, **values: str
) -> Response:
    assert ctx.session is not None
    form = {
        "account": values.get("account", ""),
        "role": values.get("role", ""),
        "display_name": values.get("display_name", ""),
        "color": color_of(values.get("color")),
    }
    roles = roles_you_can_assume(ctx.console, ctx.session, source_ip=ctx.source_ip, secure=ctx.secure)
    return ctx.render(
        "switchrole.html",
        status=status,
        error=error,
        detail=detail,
        form=form,
        palette=PALETTE,
        roles=roles,
        history=role_history(ctx.console, ctx.session),
        federated=ctx.session.federated,
        switch_link=switch_link,
    )


def switchrole(ctx: Ctx) -> Response:
    assert ctx.session is not None
    if ctx.request.method == "GET":
        q = ctx.query
        return _switch_page(
            ctx,
            account=q.get("account", ""),
            role=q.get("roleName", ""),
            display_name=q.get("displayName", ""),
            color=q.get("color", ""),
        )
    values = {k: ctx.field(k) for k in ("account", "role", "display_name", "color")}
    try:
        role = target(ctx.console, values["account"], values["role"])
        ctx.session = switch_role(
            ctx.console,
            ctx.session,
            role,
            display_name=values["display_name"],
            color=values["color"],
            source_ip=ctx.source_ip,
            secure=ctx.secure,
            visit=ctx.visit("/"),
        )
    except SwitchError as e:
        return _switch_page(ctx, 400, str(e), **values)
    except AwsError as e:
        wanted = f"{values['role'].strip()} in account {values['account'].strip()}"
        return _switch_page(ctx, e.status, f"You could not switch to the role {wanted}.", e.message, **values)
    return ctx.redirect("/")


def switch_from_history(ctx: Ctx) -> Response:
    assert ctx.session is not None
    account_id, role_name = ctx.field("account"), ctx.field("role")
    try:
        entry = history_entry(ctx.console, ctx.session, account_id, role_name)
        ctx.session = switch_role(
            ctx.console,
            ctx.session,
            target(ctx.console, entry.account_id, entry.role_name),
            display_name=entry.display_name,
            color=entry.color,
            source_ip=ctx.source_ip,
            secure=ctx.secure,
            visit=ctx.visit(safe_next(ctx.field("next"))),
        )
    except SwitchError as e:
        return _switch_page(ctx, 400, str(e), account=account_id, role=role_name)
    except AwsError as e:
        message = f"You could not switch to the role {role_name} in account {account_id}."
        return _switch_page(ctx, e.status, message, e.message, account=account_id, role=role_name)
    return ctx.redirect(safe_next(ctx.field("next")))


def forget_history(ctx: Ctx) -> Response:
    assert ctx.session is not None
    forget(ctx.console, ctx.session, ctx.field("account"), ctx.field("role"))
    return ctx.redirect("/switchrole")


def switchback(ctx: Ctx) -> Response:
    assert ctx.session is not None
    if not ctx.session.federated:
        ctx.session = switch_back(ctx.console, ctx.session, ctx.visit("/"))
    return ctx.redirect("/")


def _destination(ctx: Ctx, destination: str | None) -> str:
    """Destination may name a page of this console (a path, or a URL of this host); else Home."""
    if not destination:
        return "/"
    parts = urlsplit(destination)
    if parts.netloc and parts.netloc != ctx.request.headers.get("host", ""):
        return "/"
    return safe_next((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def federation(ctx: Ctx) -> Response:
    params = ctx.query if ctx.request.method == "GET" else {**ctx.query, **ctx.form}
    action = params.get("Action", "")
    try:
        if action == "getSigninToken":
            token = get_signin_token(
                ctx.console, params.get("Session", ""), params.get("SessionDuration"), visit=ctx.visit()
            )
            return JSONResponse({"SigninToken": token})
        if action == "login" and ctx.request.method == "GET":
            cookie, session = login(
                ctx.console,
                params.get("SigninToken", ""),
                issuer=params.get("Issuer"),
                display_name=params.get("DisplayName"),
                color=params.get("Color"),
                visit=ctx.visit(_destination(ctx, params.get("Destination"))),
            )
            ctx.end_session()
            ctx.begin_session(cookie, session)
            return ctx.redirect(_destination(ctx, params.get("Destination")))
    except FederationError as e:
        if action == "getSigninToken":
            return PlainTextResponse(e.message, status_code=e.status)
        return ctx.error(e.status, "Federated sign-in failed", e.message)
    return PlainTextResponse("Action must be getSigninToken or login.", status_code=400)
