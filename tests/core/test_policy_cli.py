"""`rolehop policy evaluate`: one JSON decision a line, in input order, exit 0 whatever the
decisions; malformed policies fail closed with an "error" field; unreadable input fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from rolehop.cli.policy_cmd import policy

USER = "arn:aws:iam::123456789012:user/alice"
ALLOW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
DENY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]}
BROKEN = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqualz": {"a": "b"}}}
    ],
}


def request(**extra: Any) -> dict[str, Any]:
    return {
        "principal": USER,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "resource_account": "123456789012",
        **extra,
    }


def run(tmp_path: Path, content: str, *args: str) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "in.json"
    path.write_text(content)
    result = CliRunner().invoke(policy, ["evaluate", *args, str(path)])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines


def test_single_object(tmp_path: Path) -> None:
    code, lines = run(tmp_path, json.dumps(request(identity_policies=[ALLOW])))
    assert code == 0
    assert lines == [
        {
            "decision": "Allowed",
            "missing": [],
            "matched": [{"policy": "identity_policies[0]", "statement": 0, "sid": None, "effect": "Allow"}],
        }
    ]


def test_list_and_jsonl_keep_input_order(tmp_path: Path) -> None:
    reqs = [request(identity_policies=[ALLOW]), request(), request(identity_policies=[ALLOW, DENY])]
    expected = ["Allowed", "ImplicitlyDenied", "ExplicitlyDenied"]
    code, lines = run(tmp_path, json.dumps(reqs))
    assert code == 0 and [line["decision"] for line in lines] == expected
    code, lines = run(tmp_path, "\n".join(json.dumps(r) for r in reqs) + "\n", "--jsonl")
    assert code == 0 and [line["decision"] for line in lines] == expected
    assert lines[1]["missing"] == ["identity"]


def test_malformed_policy_fails_closed_without_stopping_the_batch(tmp_path: Path) -> None:
    reqs = [
        request(identity_policies=[ALLOW, BROKEN]),  # would be allowed without the broken one
        request(identity_policies=[BROKEN, DENY]),  # an explicit deny elsewhere still decides
        "not an object",
        {"action": "s3:GetObject"},  # no principal
        request(identity_policies=[ALLOW]),
    ]
    code, lines = run(tmp_path, "\n".join(json.dumps(r) for r in reqs) + "\n{broken json\n", "--jsonl")
    assert code == 0
    assert [line["decision"] for line in lines] == [
        "ImplicitlyDenied",
        "ExplicitlyDenied",
        "ImplicitlyDenied",
        "ImplicitlyDenied",
        "Allowed",
        "ImplicitlyDenied",
    ]
    assert "StringEqualz" in lines[0]["error"]
    assert all("error" in line for line in lines[:4]) and "error" not in lines[4] and "error" in lines[5]


def test_all_policy_layers_are_read(tmp_path: Path) -> None:
    req = request(
        principal="arn:aws:sts::123456789012:assumed-role/app/s",
        identity_policies=[ALLOW],
        permissions_boundaries=[ALLOW],
        session_policies=[ALLOW],
        scps=[[ALLOW], [ALLOW]],
        rcps=[
            [
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
                }
            ]
        ],
        resource_policy=None,
        context={"aws:SecureTransport": True, "aws:TagKeys": ["a", "b"]},
    )
    code, lines = run(tmp_path, json.dumps(req))
    assert code == 0 and lines[0]["decision"] == "Allowed"
    req["scps"] = [[ALLOW], []]
    code, lines = run(tmp_path, json.dumps(req))
    assert lines[0]["decision"] == "ImplicitlyDenied" and lines[0]["missing"] == ["scp"]


def test_resource_patterns_and_literal_flag(tmp_path: Path) -> None:
    only_public = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/*"}],
    }
    req = request(resource="arn:aws:s3:::b/*", identity_policies=[only_public])
    _, lines = run(tmp_path, json.dumps(req))
    assert lines[0]["decision"] == "Allowed"  # some object under b/ is allowed
    _, lines = run(tmp_path, json.dumps(req), "--literal-resources")
    assert lines[0]["decision"] == "ImplicitlyDenied"


def test_unreadable_input_fails(tmp_path: Path) -> None:
    code, _ = run(tmp_path, "{not json")
    assert code != 0
    result = CliRunner().invoke(policy, ["evaluate", str(tmp_path / "missing.json")])
    assert result.exit_code != 0
