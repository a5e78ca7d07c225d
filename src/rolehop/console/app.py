"""The console as an ASGI app: routes, templates, static files and security headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rolehop.console import views_auth, views_creds, views_events, views_iam, views_switch
from rolehop.console.web import Auth, Handler, Site, format_account, page
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.console import ConsoleStore
from rolehop.services.signin.sessions import Console

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("rolehop.console", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["account"] = format_account
    return env


class SecurityHeaders:
    """Headers on every console response: a strict CSP (no inline script or style), no framing, no
    referrer to other sites (federation URLs carry a sign-in token; "no-referrer" would also make
    browsers send `Origin: null` on the console's own forms), and no caching of pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_console(rt: Runtime, store: ConsoleStore) -> ASGIApp:
    env = templates()
    env.globals["all_services"] = views_switch.SERVICES
    site = Site(Console(rt, store), env)

    def route(
        path: str, handler: Handler, auth: Auth = "active", methods: tuple[str, ...] = ("GET",)
    ) -> Route:
        return Route(path, page(site, handler, auth), methods=list(methods))

    both = ("GET", "POST")
    post = ("POST",)
    iam: list[tuple[str, Callable[..., Any]]] = [
        ("/iam", views_iam.dashboard),
        ("/iam/users", views_iam.users),
        ("/iam/users/{name}", views_iam.user),
        ("/iam/groups", views_iam.groups),
        ("/iam/groups/{name}", views_iam.group),
        ("/iam/roles", views_iam.roles),
        ("/iam/roles/{name}", views_iam.role),
        ("/iam/policies", views_iam.policies),
        ("/iam/policy", views_iam.policy),
        ("/iam/{kind}/{owner}/inline/{policy}", views_iam.inline_policy),
        ("/iam/mfa-devices", views_iam.mfa_devices),
        ("/organizations", views_iam.organizations),
        ("/cloudtrail", views_events.home),
        ("/cloudtrail/events", views_events.event_history),
    ]
    routes: list[BaseRoute] = [
        route("/", views_switch.home),
        route("/signin", views_auth.signin, "none", both),
        route("/signin/mfa", views_auth.signin_mfa, "mfa", both),
        route("/signin/password", views_auth.signin_password, "password", both),
        route("/signout", views_auth.signout, "any", post),
        route("/services", views_switch.services),
        route("/switchrole", views_switch.switchrole, "active", both),
        route("/switchrole/history", views_switch.switch_from_history, "active", post),
        route("/switchrole/forget", views_switch.forget_history, "active", post),
        route("/switchback", views_switch.switchback, "active", post),
        route("/federation", views_switch.federation, "open", both),
        route("/security-credentials", views_creds.my_security_credentials),
        route("/iam/users/{name}/password", views_creds.password, "active", both),
        route("/iam/users/{name}/mfa", views_creds.mfa_manage, "active", both),
        route("/iam/users/{name}/mfa/virtual", views_creds.mfa_virtual, "active", both),
        route("/iam/users/{name}/mfa/remove", views_creds.mfa_remove, "active", post),
        route("/iam/users/{name}/access-keys", views_creds.access_key_create, "active", post),
        route("/iam/users/{name}/access-keys/change", views_creds.access_key_change, "active", post),
        *(route(path, handler) for path, handler in iam),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return SecurityHeaders(Starlette(routes=routes))
