"""The command line for people under test: the CLI in-process (the test's clock and prompt, through
UserContext) or as a real process (real clock, no controlling terminal, prompts read stdin), and
the people of the Aster Key example with access keys and enrolled virtual MFA devices."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner, Result

from rolehop.cli.main import main
from rolehop.cli.user.context import UserContext
from rolehop.core.totp import Totp, key_from_b32
from rolehop.wire.api import HttpRequest, HttpResponse, Seen
from support import FakeClock, LiveServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "aster-key.yaml"
AK, PRODUCTION, DEVELOP, STAGING = "777764040422", "380735047240", "228923425684", "464677946080"
ADMIN, READONLY = "ak-main-account-admin", "ak-developer-readonly"
ALICE_PROFILES = {
    "ak-admin": AK,
    "develop-admin": DEVELOP,
    "production-admin": PRODUCTION,
    "staging-admin": STAGING,
}


def role_arn(account: str, role: str = ADMIN) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


@dataclass
class Device:
    serial: str
    totp: Totp
    clock: FakeClock

    def code(self) -> str:
        """The next step's code: a device accepts each step once, so a person waits 30 s for it."""
        self.clock.advance(30)
        return self.totp.generate(self.clock.now)


@dataclass
class Person:
    name: str
    key_id: str
    secret: str
    device: Device


def enrolled(org: LiveServer, clock: FakeClock, name: str) -> Person:
    """An access key and an enabled virtual MFA device for `name`, made by the administrator."""
    iam = org.client("iam")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    totp = Totp(key_from_b32(created["Base32StringSeed"].decode()))
    now = clock.now.timestamp()
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=created["SerialNumber"],
        AuthenticationCode1=totp.generate(now - 30),
        AuthenticationCode2=totp.generate(now),
    )
    return Person(
        name, key["AccessKeyId"], key["SecretAccessKey"], Device(created["SerialNumber"], totp, clock)
    )


@dataclass
class Calls:
    """The AWS actions (and other paths) the server was asked for."""

    actions: Counter[str] = field(default_factory=Counter)

    def wrap(self, server: LiveServer) -> None:
        route = server.app.route

        def counting(req: HttpRequest, seen: Seen | None = None) -> HttpResponse:
            # counted once answered: a hot-path request tried on the event loop may start over in a
            # thread (rolehop.offload), and that is still one request
            response = route(req, seen)
            params = parse_qs(req.query_string)
            if req.body and b"=" in req.body:
                params.update(parse_qs(req.body.decode("utf-8", "replace")))
            self.actions[params.get("Action", [req.path])[0]] += 1
            return response

        server.app.route = counting  # type: ignore[method-assign]


def process_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a real process: this HOME, the PATH, nothing of AWS's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLEHOP_"))}
    env.update(HOME=str(home), **extra)
    return env


def run(home: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """`rolehop ARGS` as a real process with no controlling terminal (prompts read stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "rolehop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=process_env(home, **env),
        timeout=120,
        start_new_session=True,
    )


def aws(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The AWS CLI (awscli from PyPI, its own botocore) as a real process, no terminal."""
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        input=stdin,
        capture_output=True,
        text=True,
        env=process_env(home),
        timeout=120,
        start_new_session=True,
    )


@dataclass
class Prompts:
    """The person at the keyboard for in-process commands: answers, and counts, the prompts."""

    answer: Callable[[str], str | None]
    asked: list[str] = field(default_factory=list)

    def __call__(self, prompt: str, *, secret: bool = False) -> str | None:
        self.asked.append(prompt)
        return self.answer(prompt)


def codes_of(device: Device) -> Prompts:
    return Prompts(lambda prompt: device.code())


def never() -> Prompts:
    def refuse(prompt: str) -> str | None:
        raise AssertionError(f"unexpected prompt: {prompt}")

    return Prompts(refuse)


def invoke(
    args: list[str],
    *,
    clock: FakeClock,
    prompts: Prompts | None = None,
    terminal: bool = False,
    browser: Callable[[str], bool] | None = None,
) -> Result:
    """`rolehop ARGS` in-process, with the test's clock and prompt; a traceback fails the test."""
    ctx = UserContext(
        now=lambda: clock.now,
        prompter=prompts or never(),
        key_prompter=never(),
        stdout_is_terminal=lambda: terminal,
        open_browser=browser or (lambda url: False),
    )
    result = CliRunner().invoke(main, args, obj=ctx)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def configure(
    person: Person, org: LiveServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> Result:
    """`rolehop configure` with the person's key in the environment, as the issue's first step."""
    with monkeypatch.context() as m:
        m.setenv("AWS_ACCESS_KEY_ID", person.key_id)
        m.setenv("AWS_SECRET_ACCESS_KEY", person.secret)
        result = invoke(["configure", "--endpoint", org.url, "--user", person.name, *extra], clock=clock)
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result: Result | subprocess.CompletedProcess[str]) -> str:
    """A failure is one line on stderr starting `rolehop: `, never a traceback."""
    stderr = result.stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("rolehop: "), stderr
    return lines[-1]


@dataclass
class TerminalRun:
    returncode: int
    stdout: str
    stderr: str
    terminal: str  # what the process wrote to its terminal


def run_in_terminal(home: Path, *args: str, answers: dict[str, str] | None = None, **env: str) -> TerminalRun:
    """`rolehop ARGS` as a person runs it inside `eval "$(…)"`: a controlling terminal (a pty) on
    stdin, stdout and stderr captured. `answers` maps a prompt's text to what is typed when it shows."""
    import fcntl
    import pty
    import select
    import termios
    import time

    controller, terminal = pty.openpty()

    def take_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "rolehop", *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=process_env(home, **env),
        start_new_session=True,
        preexec_fn=take_terminal,
    )
    os.close(terminal)
    seen = b""
    pending = dict(answers or {})
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                seen += os.read(controller, 1024)
            except OSError:
                break
            for prompt, typed in list(pending.items()):
                if seen.rstrip().endswith(prompt.encode()):
                    os.write(controller, (typed + "\n").encode())
                    del pending[prompt]
    out, err = process.communicate(timeout=60)
    os.close(controller)
    return TerminalRun(process.returncode, out.decode(), err.decode(), seen.decode(errors="replace"))
