"""Sign-in (password, then MFA code, then a new password when one is due) and sign-out."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from rolehop.console.web import Ctx, safe_next
from rolehop.core.errors import AwsError, LimitExceeded, Throttling
from rolehop.services.signin.sign_in import change_password, complete_mfa, sign_in, sign_out

_NEXT_STEP = {"mfa": "/signin/mfa", "password": "/signin/password"}


def _after_sign_in(ctx: Ctx, next_page: str) -> Response:
    assert ctx.session is not None
    step = _NEXT_STEP.get(ctx.session.stage)
    if step:
        return ctx.redirect(f"{step}?next={quote(next_page, safe='')}")
    return ctx.redirect(next_page)


def _status(e: AwsError) -> int:
    return 429 if isinstance(e, LimitExceeded | Throttling) else 401


def signin(ctx: Ctx) -> Response:
    next_page = safe_next(ctx.field("next") or ctx.query.get("next"))
    if ctx.session is not None and ctx.session.stage == "active" and ctx.request.method == "GET":
        return ctx.redirect(next_page)
    values: dict[str, Any] = {
        "account": ctx.field("account") or ctx.query.get("account", ""),
        "username": ctx.field("username"),
        "next": next_page,
    }
    if ctx.request.method == "GET":
        if ctx.query.get("ended"):
            ctx.notices.append("Your session has ended. Sign in again.")
        if ctx.query.get("signed_out"):
            ctx.notices.append("You have signed out.")
        return ctx.render("signin.html", **values)
    try:
        cookie, session = sign_in(
            ctx.console,
            values["account"],
            values["username"],
            ctx.field("password"),
            source_ip=ctx.source_ip,
            mfa_code=ctx.field("mfa_code") or None,
            visit=ctx.visit(next_page),
        )
    except AwsError as e:
        # a held user name: the form asks for the MFA code with the password
        held = isinstance(e, Throttling)
        return ctx.render("signin.html", status=_status(e), error=e.message, ask_code=held, **values)
    ctx.end_session()  # whatever this browser was signed in as before
    ctx.begin_session(cookie, session)
    return _after_sign_in(ctx, next_page)


def signin_mfa(ctx: Ctx) -> Response:
    assert ctx.session is not None
    next_page = safe_next(ctx.field("next") or ctx.query.get("next"))
    values: dict[str, Any] = {"user_name": ctx.session.principal_name, "next": next_page}
    if ctx.request.method == "GET":
        return ctx.render("signin_mfa.html", **values)
    try:
        cookie, session = complete_mfa(
            ctx.console, ctx.session, ctx.field("code"), source_ip=ctx.source_ip, visit=ctx.visit(next_page)
        )
    except AwsError as e:
        return ctx.render("signin_mfa.html", status=_status(e), error=e.message, **values)
    ctx.begin_session(cookie, session)
    return _after_sign_in(ctx, next_page)


def signin_password(ctx: Ctx) -> Response:
    """The new password a first sign-in (PasswordResetRequired) or an expired password calls for."""
    assert ctx.session is not None
    next_page = safe_next(ctx.field("next") or ctx.query.get("next"))
    values: dict[str, Any] = {"user_name": ctx.session.principal_name, "next": next_page}
    if ctx.request.method == "GET":
        return ctx.render("signin_password.html", **values)
    if ctx.field("new_password") != ctx.field("confirm_password"):
        return ctx.render(
            "signin_password.html", status=400, error="The new passwords do not match.", **values
        )
    try:
        ctx.session = change_password(
            ctx.console, ctx.session, ctx.user_call(), ctx.field("old_password"), ctx.field("new_password")
        )
    except AwsError as e:
        return ctx.render("signin_password.html", status=e.status, error=e.message, **values)
    return ctx.redirect(next_page)


def signout(ctx: Ctx) -> Response:
    session = ctx.session
    issuer = session.issuer if session is not None else None
    if session is not None:
        sign_out(ctx.console, session, visit=ctx.visit("/signin"))  # recorded: ConsoleLogout
        ctx.session = None
    ctx.end_session()
    if issuer:
        return ctx.render("signed_out.html", issuer=issuer)
    return ctx.redirect("/signin?signed_out=1")
