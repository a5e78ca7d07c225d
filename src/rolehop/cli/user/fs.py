"""Files that hold secrets: a directory only the user may enter (0700), files only the user may
read (0600), written atomically so that a reader never sees half a file, and a lock so that two
commands started at once do not both ask for an MFA code."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rolehop.cli.user.errors import UserError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def rolehop_home() -> Path:
    """~/.rolehop: the MFA session, role credentials and the record of what configure wrote."""
    return Path.home() / ".rolehop"


def private_dir(path: Path) -> Path:
    """Creates `path` (mode 0700) or checks an existing one: it must belong to this user, and any
    group or other access is taken away (as ssh does with ~/.ssh, but mending rather than refusing)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path} is not a directory", "remove it and run the command again")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UserError(f"{path} belongs to another user", "remove it or set HOME to your own directory")
    if info.st_mode & 0o077:
        path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Writes `data` to a new file of `mode` beside `path`, then renames it over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_json(path: Path, payload: dict[str, Any]) -> None:
    write_private(path, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`; None when the file is missing or unreadable (a cache is disposable)."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created 0600) for as long as the block runs; a no-op where the
    platform has no fcntl."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
