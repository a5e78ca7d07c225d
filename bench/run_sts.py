"""STS throughput and latency: rolehop against moto's server and an empty endpoint, in one run.

Starts each server on a free port in a temporary directory (one process, default settings),
creates a user with an access key and a role it may assume (boto3, once), signs ONE request per
operation with botocore's SigV4Auth, checks the answer, and has wrk replay exactly those bytes
from a separate process (bench/wrk_replay.lua). The empty endpoint is a trivial ASGI app on the
same HTTP stack as rolehop (uvicorn, one worker, same options): the ceiling of that stack.

    .venv/bin/python bench/run_sts.py [--duration 10s] [--threads 2] [--connections 32]

Prints a markdown table and writes bench/results/sts-<time>.json (git-ignored). With --profile,
one extra AssumeRole load on rolehop runs under py-spy (not part of the figures, which it would
slow down) and the hottest functions are printed. --commit runs rolehop from a commit's src/
instead of the working tree; --quiet-wait and --retries are for machines shared with other work.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BIN = Path(sys.executable).parent  # run with .venv/bin/python: rolehop and moto_server live next to it
LUA = HERE / "wrk_replay.lua"
RESULTS = HERE / "results"
NOISE_LIMIT = 10.0  # % of one core used by other processes during a run above which it is disturbed

ACCOUNT = "123456789012"  # rolehop --dev and moto both use it
REGION = "us-east-1"
ROOT_KEY_ID = "AKIAROLEHOPBENCHROOT1"
ROOT_SECRET = "rolehop-bench-root-secret-not-for-production"
USER = "bench"
ROLE = "bench-role"
SESSION = "bench"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
}

Scope = MutableMapping[str, Any]


# ---------------------------------------------------------------------------- the empty endpoint


async def empty_app(scope: Scope, receive: Any, send: Any) -> None:
    """Answers every HTTP request 200 after reading its body: the ceiling of uvicorn itself."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def serve_empty(port: int) -> None:
    import uvicorn

    # exactly how `rolehop serve` runs uvicorn (src/rolehop/cli/main.py)
    uvicorn.run(empty_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    command: list[str]
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process (all its threads) so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(server: Server, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"{server.name} exited early:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{server.name} did not answer {path} in {timeout}s:\n{server.log.read_text()}")


@contextmanager
def started(
    name: str, command: list[str], ready_path: str, workdir: Path, env: Mapping[str, str]
) -> Iterator[Server]:
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=workdir, env={**os.environ, **env}, stdout=out, stderr=out)
    server = Server(name, command, f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_ready(server, ready_path)
        yield server
    finally:  # only the process started here, by its id
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------- setup and signing


@dataclass(frozen=True)
class Principal:
    access_key_id: str
    secret: str
    token: str | None = None

    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret, self.token)


@dataclass(frozen=True)
class Fixture:
    user: Principal
    role_arn: str
    session: Principal  # the role's session credentials, from one AssumeRole


def client(service: str, url: str, who: Principal) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=who.access_key_id,
        aws_secret_access_key=who.secret,
        aws_session_token=who.token,
    )


def set_up(url: str, root: Principal) -> Fixture:
    """The same user, key, role and permission on rolehop and on moto."""
    iam = client("iam", url, root)
    iam.create_user(UserName=USER)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    iam.put_user_policy(UserName=USER, PolicyName="assume-bench-role", PolicyDocument=json.dumps(allow))
    user = Principal(key["AccessKeyId"], key["SecretAccessKey"])
    # IAM is eventually consistent in AWS; rolehop's own writes are visible at once, but be patient anyway
    last_error: Exception | None = None
    for _ in range(50):
        try:
            creds = client("sts", url, user).assume_role(RoleArn=role_arn, RoleSessionName=SESSION)[
                "Credentials"
            ]
            break
        except Exception as e:  # botocore's ClientError, or a connection error
            last_error = e
            time.sleep(0.1)
    else:
        raise SystemExit(f"{url}: the bench user cannot assume {role_arn}: {last_error}")
    return Fixture(
        user, role_arn, Principal(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    )


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    def write(self, path: Path) -> None:
        head = [self.method, self.path, *(f"{k}: {v}" for k, v in self.headers.items())]
        path.write_bytes(("\r\n".join(head) + "\r\n\r\n" + self.body).encode())


def sign_sts(url: str, who: Principal, params: Mapping[str, str]) -> SignedRequest:
    """One STS Query request as boto3 would send it (POST form body), signed now with SigV4."""
    body = urlencode({**params, "Version": "2011-06-15"})
    host = urlsplit(url).netloc
    request = AWSRequest(
        method="POST", url=url + "/", data=body, headers={"Content-Type": FORM, "Host": host}
    )
    SigV4Auth(who.credentials(), "sts", REGION).add_auth(request)
    return SignedRequest("POST", "/", {k: str(v) for k, v in request.headers.items()}, body)


def send(url: str, req: SignedRequest) -> tuple[int, str]:
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request(req.method, req.path, body=req.body.encode(), headers=req.headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def check(url: str, req: SignedRequest, expect: str) -> None:
    """The exact bytes wrk will replay must succeed, and succeed again when replayed."""
    for attempt in ("first", "replayed"):
        status, text = send(url, req)
        if status != 200 or expect not in text:
            raise SystemExit(f"{url}: {attempt} request got {status}, expected 200 with {expect!r}:\n{text}")


# ---------------------------------------------------------------------------- load


@dataclass
class Row:
    target: str
    operation: str
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    server_cpu_us_per_request: float
    server_cpu_percent: float
    wrk_cpu_percent: float
    other_cpu_percent: float  # everything else on the machine during the run (100 = one core)
    command: str
    wrk_output: str = field(repr=False)
    attempts: int = 1  # runs made to get one with other processes under NOISE_LIMIT (--retries)


@dataclass(frozen=True)
class Load:
    threads: int
    connections: int
    duration: str
    warmup: str

    def command(self, url: str, duration: str) -> list[str]:
        return [
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{duration}",
            "--latency",
            "-s",
            str(LUA),
            url + "/",
        ]


def _machine_busy_seconds() -> float:
    """CPU seconds of all processes (user, nice, system) on all cores since boot, from /proc/stat.

    Interrupt and softirq time is left out: loopback TCP is largely processed there, on behalf of
    the benchmark itself, and is charged to no process."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (ticks[0] + ticks[1] + ticks[2]) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(server: Server, operation: str, req: SignedRequest, load: Load, workdir: Path) -> Row:
    spec = workdir / (re.sub(r"\W+", "-", f"{server.name}-{operation}").strip("-") + ".http")
    req.write(spec)
    env = {**os.environ, "WRK_REQUEST": str(spec)}
    if load.warmup not in ("", "0", "0s"):
        subprocess.run(load.command(server.url, load.warmup), env=env, check=True, capture_output=True)
    command = load.command(server.url, load.duration)
    cpu0, wrk0, all0, t0 = server.cpu_seconds(), _children_cpu(), _machine_busy_seconds(), time.monotonic()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = time.monotonic() - t0
    server_cpu, wrk_cpu = server.cpu_seconds() - cpu0, _children_cpu() - wrk0
    other_cpu = max(0.0, _machine_busy_seconds() - all0 - server_cpu - wrk_cpu)
    found = re.search(r"^RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no RESULT line:\n{done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    errors, lat = result["errors"], result["latency_us"]
    seconds = result["duration_us"] / 1e6
    requests = int(result["requests"])
    return Row(
        target=server.name,
        operation=operation,
        requests=requests,
        seconds=round(seconds, 3),
        requests_per_second=round(requests / seconds, 1),
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        non_2xx=int(errors["status"]),
        socket_errors=sum(int(errors[k]) for k in ("connect", "read", "write", "timeout")),
        server_cpu_us_per_request=round(server_cpu / max(requests, 1) * 1e6, 1),
        server_cpu_percent=round(server_cpu / wall * 100, 1),
        wrk_cpu_percent=round(wrk_cpu / wall * 100, 1),
        other_cpu_percent=round(other_cpu / wall * 100, 1),
        command=f"WRK_REQUEST={spec.name} " + " ".join(command).replace(str(PROJECT) + "/", ""),
        wrk_output=done.stdout,
    )


def wait_quiet(limit_seconds: float) -> None:
    """Waits (at most `limit_seconds`) for 2 s in which all processes together use under NOISE_LIMIT
    % of one core: on a shared machine, starts a measurement between other people's jobs."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        before = _machine_busy_seconds()
        time.sleep(2.0)
        if (_machine_busy_seconds() - before) / 2.0 * 100 < NOISE_LIMIT:
            return


def measure(
    server: Server,
    operation: str,
    who: Principal,
    params: Mapping[str, str],
    expect: str,
    load: Load,
    workdir: Path,
    *,
    retries: int,
    quiet_wait: float,
) -> Row:
    """One row; on a shared machine, runs again while other processes disturbed it (up to `retries`
    more times) and keeps the least disturbed run, whatever its figures."""
    best: Row | None = None
    for attempt in range(1, retries + 2):
        if quiet_wait:
            wait_quiet(quiet_wait)
        req = sign_sts(server.url, who, params)  # signed just before its run: well inside 15 minutes
        check(server.url, req, expect)
        row = run_wrk(server, operation, req, load, workdir)
        row.attempts = attempt
        if best is None or row.other_cpu_percent < best.other_cpu_percent:
            best = row
        print(
            f"  {server.name} {operation}: {row.requests_per_second:,.0f} req/s "
            f"(other processes {row.other_cpu_percent:.0f}% of a core)",
            file=sys.stderr,
        )
        if best.other_cpu_percent <= NOISE_LIMIT:
            break
    assert best is not None
    return best


# ---------------------------------------------------------------------------- profile


def profile_assume_role(server: Server, req: SignedRequest, load: Load, workdir: Path, seconds: int) -> Path:
    """py-spy samples the rolehop process during an AssumeRole load; writes collapsed stacks."""
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-assumerole-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
    spec = workdir / "profile.http"
    req.write(spec)
    env = {**os.environ, "WRK_REQUEST": str(spec)}
    record = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # let py-spy attach
    subprocess.run(load.command(server.url, f"{seconds + 2}s"), env=env, check=True, capture_output=True)
    _, err = record.communicate(timeout=60)
    if record.returncode != 0:
        raise SystemExit(f"py-spy failed: {err.decode()}")
    return out


def summarize_profile(collapsed: Path, top: int = 20) -> str:
    """Shares of the busy samples: rolehop functions inclusive, each sample charged to its deepest
    rolehop frame (the rolehop function whose own code or direct library calls were running), and
    self time of any function."""
    inclusive: Counter[str] = Counter()
    deepest: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        ours = [f for f in frames if "(rolehop/" in f and "rolehop/cli/" not in f]
        total += count
        self_[frames[-1]] += count
        deepest[ours[-1] if ours else "(outside rolehop: uvicorn, asyncio)"] += count
        for frame in set(ours):
            inclusive[frame] += count
    if not total:
        return "no samples"

    def section(title: str, counts: Counter[str]) -> list[str]:
        return ["", title, *(f"  {n / total:6.1%}  {f}" for f, n in counts.most_common(top))]

    return "\n".join(
        [
            f"{total} samples",
            *section("rolehop functions, inclusive:", inclusive),
            *section("charged to the deepest rolehop frame:", deepest),
            *section("self (any code):", self_),
        ]
    )


def snapshot_src(rev: str, workdir: Path) -> tuple[str, Path]:
    """src/ of commit `rev` (git archive: read-only) unpacked in `workdir`: the server runs that code
    (through PYTHONPATH, ahead of the editable install) instead of a working tree being edited."""
    git = ["git", "-C", str(PROJECT)]
    commit = subprocess.run([*git, "rev-parse", "--short", rev], capture_output=True, text=True, check=True)
    tar = subprocess.run(
        [*git, "archive", "--format=tar", commit.stdout.strip(), "src"], capture_output=True, check=True
    )
    dest = workdir / "snapshot"
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
        archive.extractall(dest, filter="data")
    return commit.stdout.strip(), dest / "src"


# ---------------------------------------------------------------------------- report


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


def machine() -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?"
    )
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT, capture_output=True, text=True
    )
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk.stdout + wrk.stderr).splitlines()[0],
        "commit": git.stdout.strip() + (" (with local changes)" if dirty.stdout.strip() else ""),
        "versions": {
            p: _version(p) for p in ("rolehop", "moto", "uvicorn", "uvloop", "httptools", "werkzeug")
        },
    }


def table(rows: list[Row]) -> str:
    out = [
        "| server | operation | requests/s | p50 ms | p99 ms | non-2xx | socket errors "
        "| server CPU µs/req | CPU % server / wrk / other |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r.target} | {r.operation} | {r.requests_per_second:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.non_2xx} | {r.socket_errors} | {r.server_cpu_us_per_request:,.0f} | "
            f"{r.server_cpu_percent:.0f} / {r.wrk_cpu_percent:.0f} / {r.other_cpu_percent:.0f} |"
        )
    return "\n".join(out)


# ---------------------------------------------------------------------------- main


def bench(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    load = Load(args.threads, args.connections, args.duration, args.warmup)
    load_at_start = os.getloadavg()
    info = machine()  # before the run: the commit the run started from
    root = Principal(ROOT_KEY_ID, ROOT_SECRET)
    rolehop_env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    servers = {
        "rolehop": (
            [
                str(BIN / "rolehop"),
                "serve",
                "--dev",
                "--port",
                "{port}",
                "--data-dir",
                "data",
                "--workers",
                str(args.workers),
            ],
            "/_rolehop/health",
            rolehop_env,
        ),
        "moto": ([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", "{port}"], "/moto-api/", {}),
        "empty": ([sys.executable, str(Path(__file__).resolve()), "--serve-empty", "{port}"], "/", {}),
    }
    rows: list[Row] = []
    profile: str | None = None
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rolehop-bench-")))
        source = "working tree"
        if args.commit:
            commit, src = snapshot_src(args.commit, workdir)
            rolehop_env["PYTHONPATH"] = str(src)
            source = f"src/ of commit {commit}"
        running = {
            name: stack.enter_context(started(name, cmd, ready, workdir, env))
            for name, (cmd, ready, env) in servers.items()
            if name in args.only
        }
        for name in ("rolehop", "moto"):
            server = running.get(name)
            if server is None:
                continue
            fx = set_up(server.url, root)
            plans = [
                ("GetCallerIdentity", fx.user, {"Action": "GetCallerIdentity"}, f":user/{USER}</Arn>"),
                (
                    "AssumeRole",
                    fx.user,
                    {"Action": "AssumeRole", "RoleArn": fx.role_arn, "RoleSessionName": SESSION},
                    f"assumed-role/{ROLE}/{SESSION}</Arn>",
                ),
                (
                    "GetCallerIdentity (role session)",
                    fx.session,
                    {"Action": "GetCallerIdentity"},
                    f"assumed-role/{ROLE}/{SESSION}</Arn>",
                ),
            ]
            for operation, who, params, expect in plans:
                rows.append(
                    measure(
                        server,
                        operation,
                        who,
                        params,
                        expect,
                        load,
                        workdir,
                        retries=args.retries,
                        quiet_wait=args.quiet_wait,
                    )
                )
            if name == "rolehop" and args.profile:
                req = sign_sts(server.url, fx.user, plans[1][2])
                out = profile_assume_role(server, req, load, workdir, args.profile)
                profile = summarize_profile(out)
                print(f"  profile written to {out.relative_to(PROJECT)}", file=sys.stderr)
        if "empty" in running:
            server = running["empty"]
            # the same bytes as an AssumeRole request (signed by anyone: nothing checks them)
            params = {
                "Action": "AssumeRole",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
                "RoleSessionName": SESSION,
            }
            operation = "empty 200 (AssumeRole request)"
            rows.append(
                measure(
                    server,
                    operation,
                    root,
                    params,
                    "ok",
                    load,
                    workdir,
                    retries=args.retries,
                    quiet_wait=args.quiet_wait,
                )
            )
        commands = {s.name: " ".join(s.command).replace(str(PROJECT) + "/", "") for s in running.values()}

    bad = [r for r in rows if r.non_2xx or r.socket_errors]
    noisy = [r for r in rows if r.other_cpu_percent > NOISE_LIMIT]
    info["load_average_at_start"] = load_at_start
    info["rolehop_source"] = source
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "command": " ".join([".venv/bin/python", "bench/run_sts.py", *sys.argv[1:]]),
        "load": asdict(load),
        "servers": commands,
        "rows": [asdict(r) for r in rows],
        "profile": profile,
    }
    RESULTS.mkdir(exist_ok=True)
    out = args.json or RESULTS / f"sts-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")

    print(f"Machine: {info['cpus']} CPUs, {info['cpu_model']}; Python {info['python']}; {info['wrk']}")
    print(f"rolehop: {source} (repository at {info['commit']})")
    print(
        f"Load: wrk -t{load.threads} -c{load.connections} -d{load.duration} --latency "
        f"(after a {load.warmup} warm-up), one signed request replayed\n"
    )
    print(table(rows))
    if profile:
        print("\nrolehop AssumeRole profile (py-spy, busy samples only):\n" + profile)
    if noisy:
        print(
            f"\nWARNING: other processes used more than {NOISE_LIMIT:.0f}% of a core during: "
            + ", ".join(f"{r.target} {r.operation}" for r in noisy)
            + " (figures disturbed)"
        )
    print(f"\nwritten: {out}")
    if bad:
        print(
            "FAILED: non-2xx answers or socket errors in "
            + ", ".join(f"{r.target} {r.operation}" for r in bad)
        )
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--duration", default="10s", help="wrk duration of each measured run (default 10s)")
    parser.add_argument("--warmup", default="2s", help="unmeasured wrk run before each one (default 2s)")
    parser.add_argument(
        "--only",
        default="rolehop,moto,empty",
        type=lambda s: s.split(","),
        help="servers to run (default all)",
    )
    parser.add_argument(
        "--json", type=Path, help="where to write the results (default bench/results/sts-*.json)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also sample rolehop under an AssumeRole load with py-spy for SECONDS (needs py-spy)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help=f"run a measurement again, up to this many times, while other processes use more than "
        f"{NOISE_LIMIT:.0f}%% of a core during it; the least disturbed run is kept (default 0)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help=f"before each measurement, wait up to SECONDS for 2 s in which the machine's processes use "
        f"under {NOISE_LIMIT:.0f}%% of a core (default 0: do not wait)",
    )
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="run rolehop from src/ of this commit (git archive) instead of the working tree",
    )
    parser.add_argument("--workers", type=int, default=1, help="rolehop serve --workers (default 1)")
    parser.add_argument("--serve-empty", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_empty:
        serve_empty(args.serve_empty)
        return 0
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
