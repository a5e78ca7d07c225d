"""`rolehop mfa enroll` (a person sets up their virtual MFA device through the API, as the access
guide asks) and `rolehop mfa reset USER` (an administrator's tool on the store, for a lost phone)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from rolehop.cli.store_options import (
    opened_runtime,
    store_config,
    with_master_key_option,
    with_store_options,
)

ATTEMPTS = 3


def _iam_client(profile: str | None, endpoint_url: str | None, region: str) -> Any:
    import botocore.session  # the same client stack as the AWS CLI: profiles, env, endpoint_url

    session = botocore.session.Session(profile=profile)
    return session.create_client("iam", region_name=region, endpoint_url=endpoint_url)


def _aws_error(e: Exception) -> click.ClickException:
    from botocore.exceptions import ClientError

    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        return click.ClickException(f"{err.get('Code')}: {err.get('Message')}")
    return click.ClickException(str(e))


def _create_device(iam: Any, name: str) -> dict[str, Any]:
    """CreateVirtualMFADevice named after the user; an unfinished earlier enrolment is replaced."""
    from botocore.exceptions import ClientError

    try:
        return iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]  # type: ignore[no-any-return]
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    stale = [
        d["SerialNumber"] for d in unassigned if d["SerialNumber"].rsplit("/", 1)[-1].lower() == name.lower()
    ]
    if not stale:
        raise click.ClickException(
            f"{name} already has an MFA device. To replace a lost one, ask an administrator to run "
            f"`rolehop mfa reset {name}`."
        )
    iam.delete_virtual_mfa_device(SerialNumber=stale[0])
    return iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]  # type: ignore[no-any-return]


def _account_label(iam: Any, serial: str) -> str:
    from botocore.exceptions import ClientError

    try:
        aliases = iam.list_account_aliases()["AccountAliases"]
    except ClientError:
        aliases = []
    return str(aliases[0]) if aliases else serial.split(":")[4]


@click.group()
def mfa() -> None:
    """Virtual MFA devices: enroll your own, or reset a user's."""


@mfa.command()
@click.option("--profile", envvar="AWS_PROFILE", help="AWS CLI profile with your access keys.")
@click.option(
    "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="rolehop's URL (or the profile's endpoint_url)."
)
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--user", "user_name", help="Enroll a device for this user (default: yourself).")
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to save the QR code (default: ./USER-mfa.png).",
)
def enroll(
    profile: str | None, endpoint_url: str | None, region: str, user_name: str | None, png: Path | None
) -> None:
    """Create and enable a virtual MFA device: shows the QR code, then asks for two successive codes."""
    import segno
    from botocore.exceptions import BotoCoreError, ClientError

    from rolehop.core.totp import otpauth_uri
    from rolehop.services.iam.mfa import ISSUER

    try:
        iam = _iam_client(profile, endpoint_url, region)
        name = user_name or iam.get_user()["User"]["UserName"]
        if not name:
            raise click.ClickException("These are the root user's keys: give --user NAME to enroll a user.")
        device = _create_device(iam, name)
        serial = device["SerialNumber"]
        secret = device["Base32StringSeed"].decode()
        label = f"{serial.rsplit('/', 1)[-1]}@{_account_label(iam, serial)}"
    except (BotoCoreError, ClientError) as e:
        raise _aws_error(e) from e
    path = png or Path(f"{name}-mfa.png")
    path.write_bytes(device["QRCodePNG"])
    path.chmod(0o600)  # the QR code is the secret
    click.echo(f"Scan this QR code with your authenticator app (also saved to {path}):\n")
    segno.make(otpauth_uri(secret, account_name=label, issuer=ISSUER), error="m").terminal(
        out=sys.stdout, compact=True
    )
    click.echo(f"\nOr type the secret key by hand: {secret}")
    click.echo(f"Device: {serial}\n")
    for attempt in range(1, ATTEMPTS + 1):
        first = click.prompt("First code from the app", type=str).strip()
        second = click.prompt("Wait for the code to change, then the next code", type=str).strip()
        try:
            iam.enable_mfa_device(
                UserName=name, SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
            )
            break
        except ClientError as e:
            if e.response["Error"]["Code"] != "InvalidAuthenticationCode" or attempt == ATTEMPTS:
                raise _aws_error(e) from e
            click.echo(
                "Those are not two successive codes of this device. Try again with fresh codes.", err=True
            )
    click.echo(f"\nMFA is enabled for {name}.")
    click.echo(f"For AWS CLI role profiles, add:  mfa_serial = {serial}")


@mfa.command()
@click.argument("user_name")
@click.option("--account-id", help="The user's account (default: the management account).")
@with_store_options
@with_master_key_option
def reset(
    user_name: str,
    account_id: str | None,
    database_url: str | None,
    data_dir: Path | None,
    master_key_command: str | None,
) -> None:
    """Remove USER's MFA devices and lift their throttling, so that they can enroll again."""
    from rolehop.core.errors import AwsError
    from rolehop.services.iam.mfa import reset_user_mfa

    config = store_config(data_dir=data_dir, database_url=database_url, master_key_command=master_key_command)
    with opened_runtime(config) as rt:
        try:
            if account_id is None:
                with rt.store.transaction() as tx:
                    management = [a.account_id for a in tx.list_accounts() if a.is_management]
                if not management:
                    raise click.ClickException("The store has no management account yet: give --account-id.")
                account_id = management[0]
            removed = reset_user_mfa(rt, account_id, user_name)
        except AwsError as e:
            raise click.ClickException(f"{e.code}: {e.message}") from e
    for serial in removed:
        click.echo(f"  removed {serial}")
    if removed:
        click.echo(f"Reset MFA of {user_name}: they can enroll a new device now (rolehop mfa enroll).")
    else:
        click.echo(f"{user_name} had no MFA device; their failed-attempt throttling is lifted.")
