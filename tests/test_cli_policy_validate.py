"""`rolehop policy validate` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOOD = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def run(tmp_path: Path, doc: object, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "policy.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return subprocess.run(
        [sys.executable, "-m", "rolehop", "policy", "validate", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_identity_policy(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD)
    assert result.returncode == 0 and result.stdout.strip() == "valid"


def test_identity_policy_without_resource(tmp_path: Path) -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}
    result = run(tmp_path, doc)
    assert result.returncode == 1
    assert result.stderr.startswith("MalformedPolicyDocument: ")


def test_trust_policy_rules_differ(tmp_path: Path) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert run(tmp_path, trust, "--kind", "trust").returncode == 0
    assert run(tmp_path, trust).returncode == 1  # an identity policy may not name a principal


def test_not_json(tmp_path: Path) -> None:
    result = run(tmp_path, "{nope")
    assert result.returncode == 1 and "Traceback" not in result.stderr
