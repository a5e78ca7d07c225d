"""`rolehop accounts create-standalone NAME [--email EMAIL]`: an account outside any organization
(as one a person signs up for at AWS), to invite into the organization. Its root user's access key
is printed once: the store keeps the secret sealed and never shows it again."""

from __future__ import annotations

from pathlib import Path

import click

from rolehop.cli.store_options import (
    opened_runtime,
    store_config,
    with_master_key_option,
    with_store_options,
)


@click.group()
def accounts() -> None:
    """AWS accounts outside the organization."""


@accounts.command(name="create-standalone")
@click.argument("name")
@click.option("--email", help="The account's root email address [default: ACCOUNT-ID@example.invalid].")
@with_store_options
@with_master_key_option
def create_standalone(
    name: str,
    email: str | None,
    database_url: str | None,
    data_dir: Path | None,
    master_key_command: str | None,
) -> None:
    """Create account NAME outside any organization and print its root access key (once).

    Invite it with `aws organizations invite-account-to-organization --target Type=ACCOUNT,Id=ID`;
    it accepts with its own key (`aws organizations accept-handshake`)."""
    from rolehop.services.admin.standalone_accounts import (  # the store only for the commands that need it
        StandaloneAccountError,
        check_name_and_email,
        create_standalone_account,
    )

    try:
        check_name_and_email(name, email)  # before the store is opened
    except StandaloneAccountError as e:
        raise click.ClickException(str(e)) from None
    config = store_config(
        database_url=database_url,
        data_dir=data_dir,
        master_key_command=master_key_command,
        migrate="when-empty",
    )
    with opened_runtime(config) as rt:
        try:
            made = create_standalone_account(rt, name, email)
        except StandaloneAccountError as e:
            raise click.ClickException(str(e)) from None
    click.echo(f"Created account {made.account_id} ({made.name}, {made.email}) outside any organization.")
    click.echo("Its root user's access key, shown this once (the store keeps the secret sealed):")
    click.echo(f"  aws_access_key_id = {made.access_key_id}")
    click.echo(f"  aws_secret_access_key = {made.secret_access_key}")
