"""The command line for people: `rolehop configure`, `assume`, `login`, `console`, `whoami`,
`roles` and `logout`. A pure client of a rolehop endpoint (botocore and HTTP): it imports nothing of
the server's packages, so it behaves on a laptop as against any remote rolehop."""

from __future__ import annotations

from rolehop.cli.user.assume import assume, login
from rolehop.cli.user.configure import configure
from rolehop.cli.user.console import console
from rolehop.cli.user.info import logout, roles, whoami

__all__ = ["assume", "configure", "console", "login", "logout", "roles", "whoami"]
