"""Compare rolehop's policy evaluator with @cloud-copilot/iam-simulate on the policy_eval.py set.

Exports the exact policy set and requests of bench/policy_eval.py as JSON, installs
@cloud-copilot/iam-simulate (AGPL: used only as an external comparator, never vendored) with
npm into bench/.node/ if missing, runs bench/iam_simulate_bench.mjs on the same requests, checks
that both engines reach the same decision for every request and prints both rates.

    .venv/bin/python bench/compare_iam_simulate.py [--seconds 3] [--version 0.1.173]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import policy_eval as pe

from rolehop.core.policy import evaluate

BENCH = Path(__file__).resolve().parent
NODE_PREFIX = BENCH / ".node"
NODE_SCRIPT = BENCH / "iam_simulate_bench.mjs"
PACKAGE = "@cloud-copilot/iam-simulate"


def export_workload() -> dict[str, Any]:
    return {
        "account": pe.ACCOUNT,
        "identity": pe.IDENTITY,
        "boundary": pe.BOUNDARY,
        "scps": pe.SCPS,
        "requests": [
            {
                "principal": r.principal,
                "action": r.action,
                "resource": r.resource,
                "accountId": r.resource_account,
                "context": dict(r.context),
            }
            for r in pe.build_requests()
        ],
    }


def ensure_package(version: str) -> None:
    installed = NODE_PREFIX / "node_modules" / PACKAGE / "package.json"
    if installed.is_file() and json.loads(installed.read_text())["version"] == version:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm not found: Node.js 20+ with npm is needed for the comparator")
    NODE_PREFIX.mkdir(exist_ok=True)
    manifest = NODE_PREFIX / "package.json"
    if not manifest.exists():
        manifest.write_text('{"private": true}\n')
    print(f"installing {PACKAGE}@{version} into {NODE_PREFIX} ...", file=sys.stderr)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--save-exact", f"{PACKAGE}@{version}"],
        cwd=NODE_PREFIX,
        check=True,
    )


def run_node(workload: dict[str, Any], seconds: float) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        sys.exit("node not found")
    with tempfile.TemporaryDirectory(prefix="rolehop-iamsim-") as tmp:
        path = Path(tmp) / "workload.json"
        path.write_text(json.dumps(workload))
        out = subprocess.run(
            [node, str(NODE_SCRIPT), str(path), str(seconds)],
            env={**os.environ, "IAM_SIMULATE_PREFIX": str(NODE_PREFIX)},
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--version", default="0.1.173", help=f"{PACKAGE} version to install")
    args = parser.parse_args()

    workload = export_workload()
    ensure_package(args.version)

    sets = pe.build_policy_set()
    requests = pe.build_requests()
    ours = [evaluate(r, sets).decision for r in requests]
    prebuilt = pe.measure_rates(lambda: [evaluate(r, sets) for r in requests], len(requests), args.seconds)
    per_call = pe.measure_rates(
        lambda: [evaluate(r, sets) for r in pe.build_requests()], len(requests), args.seconds
    )

    theirs = run_node(workload, args.seconds)

    statements = sum(len(d["Statement"]) for d in pe.IDENTITY)
    print(
        f"set: {len(pe.IDENTITY)} identity policies ({statements} statements), 1 boundary, "
        f"{len(pe.SCPS)} SCP levels; {len(requests)} requests"
    )
    print(f"comparator: {PACKAGE} {theirs['version']} on Node.js {theirs['node']}")
    print()
    disagreements = 0
    print(f"{'#':>2}  {'action':<32} {'rolehop':<17} {'iam-simulate':<17}")
    for i, (req, mine, other, unsafe) in enumerate(
        zip(requests, ours, theirs["decisions"], theirs["unsafeDecisions"], strict=True)
    ):
        decision = other["decision"]
        mark = ""
        if decision != mine:
            disagreements += 1
            mark = "  <-- DISAGREE"
            if decision == "error":
                mark += f": {other['detail'].get('message', other['detail'])}"
        if unsafe != decision:
            mark += f"  (runUnsafeSimulation: {unsafe})"
        ignored = other.get("ignoredContextKeys") or []
        if ignored and decision != mine:
            mark += f"  ignored context keys: {', '.join(ignored)}"
        print(f"{i:>2}  {req.action:<32} {mine:<17} {decision:<17}{mark}")
    print()
    agreed = len(requests) - disagreements
    print(f"decisions agree on {agreed}/{len(requests)} requests")
    print()
    print("evaluations/s, one core (best / median of 100 ms rounds):")
    rows = [
        ("rolehop evaluate (requests prebuilt)", prebuilt),
        ("rolehop Request(...) + evaluate", per_call),
        ("iam-simulate runSimulation", (theirs["runSimulation"]["best"], theirs["runSimulation"]["median"])),
        (
            "iam-simulate runUnsafeSimulation",
            (theirs["runUnsafeSimulation"]["best"], theirs["runUnsafeSimulation"]["median"]),
        ),
    ]
    for label, (best, median) in rows:
        print(f"  {label:<38} {best:>12,.0f} / {median:>12,.0f}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    raise SystemExit(main())
