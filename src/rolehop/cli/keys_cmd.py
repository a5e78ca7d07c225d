"""`rolehop keys`: the key ring that seals secrets at rest and session tokens, rotated without
logging anyone out. A rotation across nodes: `keys add` (every node learns to open the new key),
restart the nodes one by one; `keys promote KEY-ID` (it seals from now on), restart again;
`keys reseal` (stored secrets move to it); `keys retire OLD-ID` once sessions sealed with the old
key have expired. `keys rotate` is add + promote in one step, for a single node.

The ring lives in DATA_DIR/keyring, or comes from --master-key-command or ROLEHOP_MASTER_KEY: then
nothing is written and the new ring is printed, for the operator to store where it comes from. Key
material is never shown otherwise."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from rolehop.cli.store_options import (
    opened_runtime,
    store_config,
    with_master_key_option,
    with_store_options,
)
from rolehop.config import (
    MASTER_KEY_ENV,
    ConfigError,
    ServerConfig,
    keyring_file,
    load_keyring,
    save_keyring,
)
from rolehop.core.keyring import Key, KeyRing


def _config(database_url: str | None, data_dir: Path | None, master_key_command: str | None) -> ServerConfig:
    return store_config(database_url=database_url, data_dir=data_dir, master_key_command=master_key_command)


def _ring(config: ServerConfig) -> KeyRing:
    try:
        return load_keyring(config)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


def _store(config: ServerConfig, ring: KeyRing, done: str) -> None:
    source = "--master-key-command" if config.master_key_command else MASTER_KEY_ENV
    if config.master_key_command or config.master_key:
        click.echo(f"{source} holds the key ring: nothing written. The new ring:", err=True)
        click.echo(ring.to_text(), nl=False)
    else:
        save_keyring(config, ring)
        click.echo(f"{done} ({keyring_file(config)}).")


def _next_id(ring: KeyRing) -> str:
    numbers = [int(k[1:]) for k in ring.key_ids if k[:1] == "k" and k[1:].isdigit()]
    return f"k{max(numbers, default=0) + 1}"


@click.group()
def keys() -> None:
    """Rotate the key ring that seals secrets and session tokens."""


@keys.command(name="list")
@with_store_options
@with_master_key_option
def list_keys(database_url: str | None, data_dir: Path | None, master_key_command: str | None) -> None:
    """The ring's key IDs, oldest first, and which one seals."""
    ring = _ring(_config(database_url, data_dir, master_key_command))
    for key_id in ring.key_ids:
        click.echo(f"{key_id}{'  (seals)' if key_id == ring.active_key_id else ''}")


@keys.command()
@click.option("--id", "key_id", help="The new key's ID [default: the next kN].")
@with_store_options
@with_master_key_option
def add(
    key_id: str | None, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Add a new random key that every node can open; it does not seal until promoted."""
    config = _config(database_url, data_dir, master_key_command)
    ring = _ring(config)
    new_id = key_id or _next_id(ring)
    if new_id in ring.key_ids:
        raise click.ClickException(f"{new_id} is already in the ring")
    _store(
        config,
        ring.with_key(Key(new_id, secrets.token_bytes(32))),
        f"Added {new_id}; {ring.active_key_id} still seals",
    )


@keys.command()
@click.argument("key_id")
@with_store_options
@with_master_key_option
def promote(
    key_id: str, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Make KEY-ID the sealing key (once every node has it)."""
    config = _config(database_url, data_dir, master_key_command)
    ring = _ring(config)
    if key_id not in ring.key_ids:
        raise click.ClickException(f"{key_id} is not in the ring: add it first")
    _store(config, ring.promoted(key_id), f"{key_id} seals from now on")


@keys.command()
@with_store_options
@with_master_key_option
def rotate(database_url: str | None, data_dir: Path | None, master_key_command: str | None) -> None:
    """Add a new key and make it the sealing key (a single node, or a shared key source)."""
    config = _config(database_url, data_dir, master_key_command)
    ring = _ring(config)
    new_id = _next_id(ring)
    rotated = ring.with_key(Key(new_id, secrets.token_bytes(32))).promoted(new_id)
    _store(config, rotated, f"Rotated: {new_id} seals from now on, {ring.active_key_id} still opens")


@keys.command()
@with_store_options
@with_master_key_option
def reseal(database_url: str | None, data_dir: Path | None, master_key_command: str | None) -> None:
    """Re-seal every stored secret (access-key secrets, MFA seeds) with the sealing key."""
    from rolehop.services.admin.keys import reseal_all  # the store only for the commands that need it

    with opened_runtime(_config(database_url, data_dir, master_key_command)) as rt:
        moved = reseal_all(rt)
    click.echo(f"Re-sealed {moved} stored secret{'' if moved == 1 else 's'} with {rt.ring.active_key_id}.")


@keys.command()
@click.argument("key_id")
@click.option("--force", is_flag=True, help="Retire it even though stored secrets still need it.")
@with_store_options
@with_master_key_option
def retire(
    key_id: str, force: bool, database_url: str | None, data_dir: Path | None, master_key_command: str | None
) -> None:
    """Remove KEY-ID from the ring: what it sealed no longer opens (sessions it sealed end)."""
    config = _config(database_url, data_dir, master_key_command)
    try:
        retired = _ring(config).without(key_id)
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    from rolehop.services.admin.keys import sealed_by

    with opened_runtime(config) as rt:
        still = sealed_by(rt)[key_id]
    if still and not force:
        raise click.ClickException(
            f"{still} stored secret(s) are sealed with {key_id}: run `rolehop keys reseal` first"
        )
    _store(config, retired, f"Retired {key_id}")
