"""The AWS CLI (awscli from PyPI, its own botocore) as a subprocess with a temporary HOME."""

from __future__ import annotations

import json
from pathlib import Path

from support import aws_cli


def test_aws_cli_iam_and_sts(server, tmp_path: Path) -> None:
    created = aws_cli(server, tmp_path, "iam", "create-user", "--user-name", "cli-user")
    assert created.returncode == 0, created.stderr
    listed = aws_cli(server, tmp_path, "iam", "list-users")
    assert listed.returncode == 0, listed.stderr
    assert [u["UserName"] for u in json.loads(listed.stdout)["Users"]] == ["cli-user"]
    ident = aws_cli(server, tmp_path, "sts", "get-caller-identity")
    assert ident.returncode == 0, ident.stderr
    assert json.loads(ident.stdout)["Arn"] == f"arn:aws:iam::{server.account_id}:root"


def test_aws_cli_shows_aws_errors(server, tmp_path: Path) -> None:
    missing = aws_cli(server, tmp_path, "iam", "get-user", "--user-name", "nobody")
    assert missing.returncode != 0
    assert "NoSuchEntity" in missing.stderr and "The user with name nobody cannot be found." in missing.stderr
