"""What the audit trail costs (issue 14): STS throughput with the trail on and off, bytes per event,
and the storage a day at the measured rates.

Starts two `rolehop serve --dev` processes (SQLite, one worker each, default settings): one as users
run it, one with `--no-audit-trail`. Sets both up as bench/run_sts.py does (a user with a key, a
role it may assume) and, for GetCallerIdentity and then AssumeRole, measures the trail-on server and
right after it the trail-off one (wrk replaying one signed request, bench/wrk_replay.lua): each pair
back to back, so that both see the same machine.

Bytes per event: every request of a run (warm-up included) is one event (an AssumeRole of a role in
the caller's own account is recorded once). After each run on the trail-on server, once its last
batch is written, the WAL is checkpointed into the database file and the file's growth is divided
by the events added: record, columns, the primary key and the six lookup indexes, and page slack.
The average record (canonical JSON) and row (all columns) are reported beside it, and sqlite's
dbstat splits the trail's bytes between the table and its indexes. With --postgresql, the same
AssumeRole load runs against a fresh PostgreSQL database and the trail's relations' total size
(pg_total_relation_size: heap, TOAST and indexes) is divided by its events.

    .venv/bin/python bench/trail.py [--duration 10s] [--connections 32] [--postgresql [ADMIN_URL]]

Prints the figures and writes bench/results/trail-<time>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from run_sts import (
    BIN,
    PROJECT,
    RESULTS,
    ROLE,
    ROOT_KEY_ID,
    ROOT_SECRET,
    SESSION,
    USER,
    Load,
    Principal,
    Row,
    machine,
    measure,
    set_up,
    started,
    table,
)
from sqlalchemy import create_engine, text

FLUSH_WAIT = 2.5  # the trail writes its batch every second: wait for the last one
DAY = 86_400
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TRAIL_TABLES = ("trail_events", "trail_resources")


def serve_command(data: str, *extra: str) -> list[str]:
    return [str(BIN / "rolehop"), "serve", "--dev", "--port", "{port}", "--data-dir", data, *extra]


def sqlite_state(db: Path) -> tuple[int, int]:
    """(events, database file bytes) once the WAL is folded into the file."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        events = conn.execute("SELECT count(*) FROM trail_events").fetchone()[0]
    finally:
        conn.close()
    return int(events), db.stat().st_size


def averages(db: Path, event_name: str) -> dict[str, float]:
    """Average record and row (every column's stored length) of one operation's events."""
    conn = sqlite3.connect(db)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(trail_events)")]
        row = " + ".join(f"coalesce(length(CAST({c} AS BLOB)), 0)" for c in columns)
        found = conn.execute(
            f"SELECT avg(length(CAST(record AS BLOB))), avg({row}) FROM trail_events WHERE event_name = ?",
            (event_name,),
        ).fetchone()
    finally:
        conn.close()
    return {"record_bytes": round(found[0] or 0, 1), "row_bytes": round(found[1] or 0, 1)}


def dbstat(db: Path) -> dict[str, int]:
    """Bytes of the pages of each trail table and index (sqlite's dbstat)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE '%trail_events%' "
            "OR name LIKE '%trail_resources%' GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    finally:
        conn.close()
    return {str(name): int(size) for name, size in rows}


def postgresql_bytes(admin_url: str, load: Load, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Bytes per AssumeRole event on a fresh PostgreSQL database."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"rolehop_bench_{uuid.uuid4().hex[:12]}"
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        command = serve_command("data-pg", "--database-url", url, "--migrate")
        with started("rolehop-pg", command, "/_rolehop/health", workdir, env) as server:
            fx = set_up(server.url, Principal(ROOT_KEY_ID, ROOT_SECRET))
            params = {"Action": "AssumeRole", "RoleArn": fx.role_arn, "RoleSessionName": SESSION}
            before = _pg_state(url)
            row = measure(server, "AssumeRole", fx.user, params, f"assumed-role/{ROLE}/{SESSION}</Arn>",
                          load, workdir, retries=0, quiet_wait=0)  # fmt: skip
            time.sleep(FLUSH_WAIT)
        after = _pg_state(url)  # the server has stopped: everything written
        events = after["events"] - before["events"]
        grown = after["bytes"] - before["bytes"]
        return {
            "events": events,
            "bytes": grown,
            "bytes_per_event": round(grown / max(events, 1), 1),
            "relations": after["relations"],
            "requests_per_second": row.requests_per_second,
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_state(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            events = conn.execute(text("SELECT count(*) FROM trail_events")).scalar_one()
            relations = {
                t: int(conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
                for t in TRAIL_TABLES
            }
    finally:
        engine.dispose()
    return {"events": int(events), "bytes": sum(relations.values()), "relations": relations}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    load = Load(args.threads, args.connections, args.duration, args.warmup)
    env = {"ROLEHOP_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "ROLEHOP_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}
    root = Principal(ROOT_KEY_ID, ROOT_SECRET)
    info = machine()
    info["load_average_at_start"] = os.getloadavg()
    rows: list[Row] = []
    sizes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rolehop-trail-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        on = stack.enter_context(
            started("trail-on", serve_command("data-on"), "/_rolehop/health", workdir, env)
        )
        off = stack.enter_context(
            started(
                "trail-off", serve_command("data-off", "--no-audit-trail"), "/_rolehop/health", workdir, env
            )
        )
        fixtures = {on.name: set_up(on.url, root), off.name: set_up(off.url, root)}
        db = workdir / "data-on" / "rolehop.db"
        time.sleep(FLUSH_WAIT)
        plans = [
            ("GetCallerIdentity", lambda fx: fx.user, lambda fx: {"Action": "GetCallerIdentity"},
             f":user/{USER}</Arn>"),
            ("AssumeRole", lambda fx: fx.user,
             lambda fx: {"Action": "AssumeRole", "RoleArn": fx.role_arn, "RoleSessionName": SESSION},
             f"assumed-role/{ROLE}/{SESSION}</Arn>"),
        ]  # fmt: skip
        for operation, who, params, expect in plans:
            for server in (on, off):
                fx = fixtures[server.name]
                events0, size0 = sqlite_state(db)
                row = measure(server, operation, who(fx), params(fx), expect, load, workdir,
                              retries=args.retries, quiet_wait=args.quiet_wait)  # fmt: skip
                row.target = f"rolehop, trail {server.name.removeprefix('trail-')}"
                rows.append(row)
                if server is on:
                    time.sleep(FLUSH_WAIT)
                    events1, size1 = sqlite_state(db)
                    sizes[operation] = {
                        "events": events1 - events0,
                        "file_growth": size1 - size0,
                        "bytes_per_event": round((size1 - size0) / max(events1 - events0, 1), 1),
                        **averages(db, operation),
                    }
        commands = {s.name: " ".join(s.command).replace(str(PROJECT) + "/", "") for s in (on, off)}
        stack.close()  # both servers stop: the trail's last batch is written
        pages = dbstat(db)
        postgresql = postgresql_bytes(args.postgresql, load, workdir, env) if args.postgresql else None
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "command": " ".join([".venv/bin/python", "bench/trail.py", *sys.argv[1:]]),
        "load": asdict(load),
        "servers": commands,
        "rows": [asdict(r) for r in rows],
        "sqlite_bytes": sizes,
        "sqlite_pages": pages,
        "postgresql_bytes": postgresql,
    }


def report(result: dict[str, Any]) -> str:
    rows = [Row(**r) for r in result["rows"]]
    info = result["machine"]
    out = [
        f"Machine: {info['cpus']} CPUs, {info['cpu_model']}; Python {info['python']}; {info['wrk']}; "
        f"load average at start {', '.join(f'{x:.1f}' for x in info['load_average_at_start'])}",
        f"rolehop: working tree (repository at {info['commit']})",
        f"Load: wrk -t{result['load']['threads']} -c{result['load']['connections']} "
        f"-d{result['load']['duration']} --latency (after a {result['load']['warmup']} warm-up)",
        "",
        table(rows),
        "",
        "| operation | throughput, trail off → on | server CPU µs/req, off → on "
        "| bytes per event (SQLite file) | record / row bytes | storage a day at the trail-on rate |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    by = {(r.operation, r.target.endswith("on")): r for r in rows}
    for operation, size in result["sqlite_bytes"].items():
        r_on, r_off = by[(operation, True)], by[(operation, False)]
        change = (r_on.requests_per_second / r_off.requests_per_second - 1) * 100
        day = r_on.requests_per_second * DAY * size["bytes_per_event"]
        out.append(
            f"| {operation} | {r_off.requests_per_second:,.0f} → {r_on.requests_per_second:,.0f} "
            f"({change:+.0f}%) | {r_off.server_cpu_us_per_request:,.0f} → "
            f"{r_on.server_cpu_us_per_request:,.0f} | {size['bytes_per_event']:,.0f} "
            f"({size['events']:,} events, +{size['file_growth'] / 1e6:,.1f} MB) | "
            f"{size['record_bytes']:,.0f} / {size['row_bytes']:,.0f} | {day / 1e9:,.1f} GB |"
        )
    pages = result["sqlite_pages"]
    total = sum(pages.values()) or 1
    out.append("")
    out.append(
        "SQLite pages of the trail (dbstat): "
        + ", ".join(f"{name} {size / total:.0%}" for name, size in pages.items())
        + f" of {total / 1e6:,.1f} MB"
    )
    pg = result["postgresql_bytes"]
    if pg:
        day = pg["requests_per_second"] * DAY * pg["bytes_per_event"]
        out.append(
            f"PostgreSQL: {pg['bytes_per_event']:,.0f} bytes per AssumeRole event "
            f"({pg['events']:,} events, +{pg['bytes'] / 1e6:,.1f} MB in {', '.join(pg['relations'])} with "
            f"TOAST and indexes); {pg['requests_per_second']:,.0f} AssumeRole/s on PostgreSQL, "
            f"{day / 1e9:,.1f} GB a day at that rate"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--duration", default="10s", help="wrk duration of each measured run (default 10s)")
    parser.add_argument("--warmup", default="2s", help="unmeasured wrk run before each one (default 2s)")
    parser.add_argument("--retries", type=int, default=0, help="as bench/run_sts.py (default 0)")
    parser.add_argument("--quiet-wait", type=float, default=0, help="as bench/run_sts.py (default 0)")
    parser.add_argument(
        "--postgresql",
        nargs="?",
        const=PG_ADMIN,
        metavar="ADMIN_URL",
        help=f"also measure bytes per event on a fresh PostgreSQL database (default server: {PG_ADMIN})",
    )
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/)")
    result = bench(parser.parse_args())
    RESULTS.mkdir(exist_ok=True)
    out = parser.parse_args().json or RESULTS / f"trail-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    print(f"\nwritten: {out}")
    bad = [r for r in result["rows"] if r["non_2xx"] or r["socket_errors"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
