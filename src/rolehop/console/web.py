"""The console's request plumbing: cookies, sessions, CSRF, rendering, and running a page.

Every page is a plain function of a `Ctx`, run in a worker thread (the services block on the
database and on argon2). The page decorator finds the session, sends a browser that is not signed
in (or is half-way through signing in) to the right step, checks the CSRF token of every POST, and
turns what the services raise into pages: AWS errors keep their message; nothing leaks a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rolehop.core.errors import AwsError
from rolehop.core.session_token import SessionClaims
from rolehop.services.pipeline.call import Call
from rolehop.services.ports.console import ConsoleSession
from rolehop.services.signin.sessions import (
    Console,
    SessionEnded,
    Visit,
    call_for,
    claims_of,
    csrf_token,
    csrf_valid,
    find_session,
    invoke,
    new_cookie,
    revoke_session,
)
from rolehop.services.signin.sign_in import account_label
from rolehop.services.signin.switch_role import color_name, renew_if_expired, role_history

log = logging.getLogger("rolehop.console")

# "open": no session and no CSRF (the federation endpoint: credentials come in the request);
# "none": signed-out pages (forms carry the sign-in cookie's CSRF token); "any": any session;
# "mfa" / "password": a session waiting for its MFA code / new password; "active": signed in.
Auth = Literal["open", "none", "any", "mfa", "password", "active"]
Handler = Callable[["Ctx"], Response]
Endpoint = Callable[[Request], Awaitable[Response]]
MAX_FIELD = 4096
USER_AGENT_MAX = 1024  # as the API keeps of it, for the audit trail


@dataclass(frozen=True)
class Site:
    """The console as built once: its services and its templates."""

    console: Console
    templates: Environment


def cookie_name(base: str, secure: bool) -> str:
    # over HTTPS the __Host- prefix makes the browser insist on Secure, Path=/ and no Domain
    return f"__Host-{base}" if secure else base


def safe_next(target: str | None) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def format_account(account_id: str) -> str:
    return f"{account_id[:4]}-{account_id[4:8]}-{account_id[8:]}" if len(account_id) == 12 else account_id


class Ctx:
    def __init__(self, site: Site, request: Request, form: dict[str, str]) -> None:
        self.site = site
        self.console = site.console
        self.rt = site.console.rt
        self.request = request
        self.form = form
        self.now: datetime = self.rt.clock()
        # the scope's scheme and client, which the app took from a named proxy's X-Forwarded-* or
        # else from the connection (wire.forwarded): never a browser's own claim
        self.secure = request.url.scheme == "https"
        self.source_ip = request.client.host if request.client else ""
        self.user_agent = request.headers.get("user-agent", "")[:USER_AGENT_MAX]
        self.session_cookie_name = cookie_name("rolehop-session", self.secure)
        self.signin_cookie_name = cookie_name("rolehop-signin", self.secure)
        self.session: ConsoleSession | None = find_session(
            self.console, request.cookies.get(self.session_cookie_name)
        )
        self.signin_cookie: str | None = request.cookies.get(self.signin_cookie_name)
        self._new_cookies: dict[str, str | None] = {}
        self.notices: list[str] = []

    # identity
    @property
    def query(self) -> dict[str, str]:
        return {k: v for k, v in self.request.query_params.items()}

    def field(self, name: str) -> str:
        return self.form.get(name, "")

    def visit(self, to: str = "") -> Visit:
        """This request as the audit trail records it; `to`: the console page it leads to."""
        url = str(self.request.base_url).rstrip("/") + to if to else ""
        return Visit(self.source_ip, self.user_agent, url)

    def call(self, service: str = "iam") -> Call:
        """The current identity: the role switched to, else the signed-in user."""
        session = self._require()
        token = session.role_token or session.user_token
        if token is None:
            raise SessionEnded("the session has no identity yet")
        return self._acting(
            call_for(
                self.console,
                token,
                service=service,
                source_ip=self.source_ip,
                secure=self.secure,
                session_id=session.session_id,
                user_agent=self.user_agent,
            )
        )

    def user_call(self, service: str = "iam") -> Call:
        session = self._require()
        if session.user_token is None:
            raise SessionEnded("the session has no user")
        return self._acting(
            call_for(
                self.console,
                session.user_token,
                service=service,
                source_ip=self.source_ip,
                secure=self.secure,
                session_id=session.session_id,
                user_agent=self.user_agent,
            )
        )

    def _acting(self, call: Call) -> Call:
        """Records who this page acts as, for the request's log line (the app reads request.state)."""
        self.request.state.principal = call.caller.arn
        return call

    def invoke(
        self, operation: str, params: dict[str, Any] | None = None, service: str = "iam"
    ) -> dict[str, Any]:
        return invoke(self.call(service), service, operation, params)

    def attempt(
        self, operation: str, params: dict[str, Any] | None = None, service: str = "iam"
    ) -> tuple[dict[str, Any] | None, str | None]:
        """(result, None), or (None, AWS's message) when the operation is refused or fails."""
        try:
            return self.invoke(operation, params, service), None
        except AwsError as e:
            return None, e.message or e.code

    def everything(
        self, operation: str, key: str, params: dict[str, Any] | None = None, limit: int = 1000
    ) -> list[Any]:
        """All pages of a paginated IAM list (raises the first page's error)."""
        params = dict(params or {})
        items: list[Any] = []
        while True:
            result = self.invoke(operation, params)
            items += result.get(key, [])
            if not result.get("IsTruncated") or len(items) >= limit:
                return items
            params["Marker"] = result["Marker"]

    def _require(self) -> ConsoleSession:
        if self.session is None:
            raise SessionEnded("not signed in")
        return self.session

    @cached_property
    def user_claims(self) -> SessionClaims | None:
        if self.session is None or self.session.user_token is None:
            return None
        return claims_of(self.rt, self.session.user_token)

    @property
    def is_own_user(self) -> bool:
        """Signed in as an IAM user and not switched: the pages for one's own credentials apply."""
        return self.session is not None and not self.session.federated and self.session.role_token is None

    # cookies and sessions
    def begin_session(self, cookie: str, session: ConsoleSession) -> None:
        self.session = session
        self._new_cookies[self.session_cookie_name] = cookie

    def end_session(self) -> None:
        if self.session is not None:
            revoke_session(self.console, self.session.session_id)
        self.session = None
        self._new_cookies[self.session_cookie_name] = None

    def ensure_signin_cookie(self) -> None:
        if not self.signin_cookie:
            self.signin_cookie = new_cookie(self.rt)
            self._new_cookies[self.signin_cookie_name] = self.signin_cookie

    def csrf(self) -> str:
        if self.session is not None:
            return csrf_token(self.rt, "session/" + self.session.session_id)
        self.ensure_signin_cookie()
        assert self.signin_cookie is not None
        return csrf_token(self.rt, "signin/" + self.signin_cookie)

    def csrf_ok(self) -> bool:
        token = self.field("csrf_token")
        if not token:
            return False
        if self.session is not None:
            return csrf_valid(self.rt, "session/" + self.session.session_id, token)
        return bool(self.signin_cookie) and csrf_valid(self.rt, f"signin/{self.signin_cookie}", token)

    def origin_ok(self) -> bool:
        """A browser's Origin header, when sent, must be this console (defence in depth with CSRF)."""
        origin = self.request.headers.get("origin")
        if origin is None:
            return True
        host = self.request.headers.get("host", "")
        return origin in (f"{self.request.url.scheme}://{host}",)

    def finish(self, response: Response) -> Response:
        for name, value in self._new_cookies.items():
            if value is None:
                response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="lax")
            else:
                # a browser-session cookie: the server decides when the session ends
                response.set_cookie(name, value, path="/", secure=self.secure, httponly=True, samesite="lax")
        return response

    # responses
    def redirect(self, url: str) -> Response:
        return RedirectResponse(url, status_code=303)

    def nav(self) -> dict[str, Any]:
        """What the navigation bar shows: who you are, your account, your role history."""
        session = self.session
        if session is None or session.stage != "active":
            return {"signed_in": False}
        claims = self.user_claims
        label = f"{session.principal_name} @ {account_label(self.rt, session.account_id)}"
        history = role_history(self.console, session)
        return {
            "signed_in": True,
            "label": session.role_display_name if session.role_token else label,
            "user_label": label,
            "user_name": session.principal_name,
            "account_id": format_account(session.account_id),
            "switched": session.role_token is not None and not session.federated,
            "federated": session.federated,
            "role_arn": session.role_arn,
            "role_account": format_account(session.role_arn.split(":")[4]) if session.role_arn else "",
            "color": session.role_color if session.role_token else None,
            "color_name": color_name(session.role_color or ""),
            "history": history,
            "mfa": bool(claims and claims.mfa_authenticated),
            "issuer": session.issuer,
        }

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        page = self.site.templates.get_template(template)
        html = page.render(
            nav=self.nav(),
            csrf_token=self.csrf(),
            notices=self.notices,
            path=self.request.url.path,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def error(self, status: int, title: str, message: str) -> Response:
        return self.render("error.html", status=status, title=title, message=message)


def _form_dict(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw.multi_items():
        if isinstance(value, UploadFile) or key in out:
            continue
        out[key] = str(value)[:MAX_FIELD]
    return out


def _gate(ctx: Ctx, auth: Auth) -> Response | None:
    """Where a browser must go instead of this page, if anywhere."""
    session = ctx.session
    if auth in ("open", "none"):
        return None
    if session is None:
        if auth == "active":
            here = ctx.request.url.path + (f"?{ctx.request.url.query}" if ctx.request.url.query else "")
            return ctx.redirect("/signin?next=" + quote(here, safe=""))
        return ctx.redirect("/signin")
    wanted = {"mfa": "/signin/mfa", "password": "/signin/password", "active": "/"}
    if auth != "any" and session.stage != auth:
        return ctx.redirect(wanted[session.stage])
    return None


NUL_REFUSED = "The request contains a NUL character, which no field takes."


def _carries_nul(request: Request, form: dict[str, str]) -> bool:
    """No store keeps a NUL character (PostgreSQL's text refuses it), so no page takes one anywhere."""
    sent = [*form.items(), *request.query_params.multi_items(), *request.path_params.items()]
    return any("\x00" in f"{name}{value}" for name, value in sent)


def _run(site: Site, handler: Handler, auth: Auth, request: Request, form: dict[str, str]) -> Response:
    ctx = Ctx(site, request, form)
    try:
        if _carries_nul(request, form):
            return ctx.finish(ctx.error(400, "Request refused", NUL_REFUSED))
        gate = _gate(ctx, auth)
        if gate is not None:
            return ctx.finish(gate)
        if request.method == "POST" and auth != "open" and not (ctx.csrf_ok() and ctx.origin_ok()):
            return ctx.finish(
                ctx.error(
                    403,
                    "Request refused",
                    "This form could not be verified (its security token is missing or out of date). "
                    "Go back, reload the page and try again.",
                )
            )
        if ctx.session is not None and ctx.session.stage == "active":
            ctx.session, notice = renew_if_expired(
                ctx.console,
                ctx.session,
                now=ctx.now,
                source_ip=ctx.source_ip,
                secure=ctx.secure,
                user_agent=ctx.user_agent,
            )
            if notice:
                ctx.notices.append(notice)
        return ctx.finish(handler(ctx))
    except SessionEnded:
        ctx.end_session()
        return ctx.finish(ctx.redirect("/signin?ended=1"))
    except AwsError as e:
        return ctx.finish(ctx.error(e.status, e.code, e.message or e.code))
    except Exception:
        log.exception("console page %s failed", request.url.path)
        return ctx.finish(ctx.error(500, "Something went wrong", "The console could not show this page."))


def page(site: Site, handler: Handler, auth: Auth = "active") -> Endpoint:
    async def endpoint(request: Request) -> Response:
        form: dict[str, str] = {}
        if request.method == "POST":
            async with request.form(max_files=0, max_fields=50) as raw:
                form = _form_dict(raw)
        return await run_in_threadpool(_run, site, handler, auth, request, form)

    return endpoint
