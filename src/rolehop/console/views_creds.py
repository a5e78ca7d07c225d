"""One's own credentials: password, MFA device (the guide's enrolment path) and access keys.

These are the only pages that change anything. They act on the signed-in user's own IAM user and
only while not switched into a role; the operations themselves are authorized by the policy engine.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from rolehop.console.web import Ctx
from rolehop.core.errors import AwsError
from rolehop.services.signin import mfa_enrolment as enrolment
from rolehop.services.signin.sign_in import change_password

CREDENTIALS_TAB = "?tab=security_credentials"


def _own(ctx: Ctx) -> str | None:
    """The user name in the path when it is the signed-in user's own, else None."""
    name = ctx.request.path_params["name"]
    if ctx.session is None or not ctx.is_own_user or ctx.session.principal_name.lower() != name.lower():
        return None
    return ctx.session.principal_name


def _not_own(ctx: Ctx) -> Response:
    return ctx.error(
        403,
        "Your own credentials only",
        "The console manages the signed-in user's own password, MFA device and access keys. "
        "Switch back to your user to manage yours.",
    )


def _user_page(name: str) -> str:
    return f"/iam/users/{quote(name, safe='')}{CREDENTIALS_TAB}"


def my_security_credentials(ctx: Ctx) -> Response:
    assert ctx.session is not None
    if not ctx.is_own_user:
        return _not_own(ctx)
    return ctx.redirect(_user_page(ctx.session.principal_name))


def password(ctx: Ctx) -> Response:
    name = _own(ctx)
    if name is None:
        return _not_own(ctx)
    if ctx.request.method == "GET":
        return ctx.render("iam_password.html", user_name=name)
    if ctx.field("new_password") != ctx.field("confirm_password"):
        return ctx.render(
            "iam_password.html", status=400, user_name=name, error="The new passwords do not match."
        )
    assert ctx.session is not None
    try:
        change_password(
            ctx.console, ctx.session, ctx.user_call(), ctx.field("old_password"), ctx.field("new_password")
        )
    except AwsError as e:
        return ctx.render("iam_password.html", status=e.status, user_name=name, error=e.message)
    return ctx.redirect(_user_page(name) + "&done=password")


def mfa_manage(ctx: Ctx) -> Response:
    """'Manage' beside Assigned MFA device: the device there is, or the choice of a new one."""
    name = _own(ctx)
    if name is None:
        return _not_own(ctx)
    assert ctx.session is not None
    if ctx.request.method == "POST":
        if ctx.field("device_type") != "virtual":
            return ctx.render(
                "iam_mfa_manage.html",
                status=400,
                user_name=name,
                devices=[],
                error="Select the type of MFA device to assign.",
            )
        try:
            ctx.session, _pending = enrolment.begin(ctx.console, ctx.session, ctx.user_call(), name)
        except AwsError as e:
            return ctx.render(
                "iam_mfa_manage.html", status=e.status, user_name=name, devices=[], error=e.message
            )
        return ctx.redirect(f"/iam/users/{quote(name, safe='')}/mfa/virtual")
    devices, denied = [], None
    try:
        devices = ctx.everything("ListMFADevices", "MFADevices", {"UserName": name})
    except AwsError as e:
        denied = e.message
    return ctx.render("iam_mfa_manage.html", user_name=name, devices=devices, denied=denied)


def mfa_virtual(ctx: Ctx) -> Response:
    """The QR code, "Show secret key", and the two successive codes."""
    name = _own(ctx)
    if name is None:
        return _not_own(ctx)
    assert ctx.session is not None
    pending = enrolment.pending_enrolment(ctx.console, ctx.session)
    if pending is None or pending.user_name.lower() != name.lower():
        return ctx.redirect(f"/iam/users/{quote(name, safe='')}/mfa")
    values: dict[str, Any] = {
        "user_name": name,
        "serial": pending.serial_number,
        "secret": pending.secret,
        "qr": base64.b64encode(pending.qr_png).decode(),
    }
    if ctx.request.method == "GET":
        return ctx.render("iam_mfa_virtual.html", **values)
    try:
        ctx.session = enrolment.finish(
            ctx.console, ctx.session, ctx.user_call(), ctx.field("code1"), ctx.field("code2")
        )
    except AwsError as e:
        return ctx.render("iam_mfa_virtual.html", status=e.status, error=e.message, **values)
    return ctx.render("iam_mfa_done.html", user_name=name, serial=pending.serial_number)


def mfa_remove(ctx: Ctx) -> Response:
    name = _own(ctx)
    if name is None:
        return _not_own(ctx)
    try:
        enrolment.remove(ctx.user_call(), name, ctx.field("serial"))
    except AwsError as e:
        return ctx.error(e.status, e.code, e.message)
    return ctx.redirect(_user_page(name) + "&done=mfa-removed")


def access_key_create(ctx: Ctx) -> Response:
    name = _own(ctx)
    if name is None:
        return _not_own(ctx)
    try:
        created = ctx.invoke("CreateAccessKey", {"UserName": name}, service="iam")["AccessKey"]
    except AwsError as e:
        return ctx.error(e.status, e.code, e.message)
    # the secret is shown this once, in this response: never in a URL, never stored by the console
    return ctx.render("iam_access_key_created.html", user_name=name, key=created)


def access_key_change(ctx: Ctx) -> Response:
    name = _own(ctx)
    if name is None:
        return _not_own(ctx)
    key_id = ctx.field("access_key_id")
    action = ctx.field("change")
    try:
        if action == "delete":
            ctx.invoke("DeleteAccessKey", {"UserName": name, "AccessKeyId": key_id})
        elif action in ("Active", "Inactive"):
            ctx.invoke("UpdateAccessKey", {"UserName": name, "AccessKeyId": key_id, "Status": action})
        else:
            return ctx.error(400, "Bad request", "Unknown change to an access key.")
    except AwsError as e:
        return ctx.error(e.status, e.code, e.message)
    return ctx.redirect(_user_page(name))
