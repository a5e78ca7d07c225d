"""Random and malformed requests get AWS-shaped 4xx errors, never a 500, and change nothing."""

from __future__ import annotations

import json
import random
import string
import urllib.error
import urllib.request
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import get_session

from support import ROOT_KEY, ROOT_SECRET

QUERY_SERVICES = {"iam": "2010-05-08", "sts": "2011-06-15"}


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def signed_post(server, service: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = AWSRequest("POST", server.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), service, "us-east-1").add_auth(req)
    return post(server.url + "/", body, dict(req.headers))


def junk(rng: random.Random) -> str:
    alphabet = string.printable + "ü€\x00%&=.[]{}"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def random_query_params(
    rng: random.Random, operations: list[str], members: dict[str, list[str]]
) -> dict[str, str]:
    op = rng.choice([*operations, "NoSuchOperation", ""])
    params = {"Action": op, "Version": rng.choice(["2010-05-08", "2011-06-15", junk(rng)])}
    names = [*members.get(op, []), "Bogus", "Tags.member.1.Key", "PolicyArns.member.x.arn", "MaxItems"]
    for _ in range(rng.randint(0, 6)):
        params[rng.choice(names)] = rng.choice([junk(rng), "-1", "99999999999999999999", "true", "", "{}"])
    return params


def test_a_thousand_random_query_and_json_requests(server) -> None:
    rng = random.Random(20261128)
    session = get_session()
    models = {name: session.get_service_model(name) for name in ("iam", "sts", "organizations")}
    ops = {name: list(m.operation_names) for name, m in models.items()}
    members = {
        op: list(models[s].operation_model(op).input_shape.members)
        if models[s].operation_model(op).input_shape
        else []
        for s in QUERY_SERVICES
        for op in ops[s]
    }
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    server.client("iam").create_user(UserName="bystander")
    statuses: dict[int, int] = {}
    for i in range(1000):
        if i % 4 == 3:  # JSON 1.1 to Organizations
            op = rng.choice([*ops["organizations"], "Nope"])
            body = rng.choice(
                [
                    junk(rng).encode(),
                    json.dumps({junk(rng): junk(rng)}).encode(),
                    json.dumps({"AccountId": junk(rng), "MaxResults": rng.randint(-5, 500)}).encode(),
                    b"[1, 2, 3]",
                    b"",
                ]
            )
            headers = {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"AWSOrganizationsV20161128.{op}",
            }
            status, raw = signed_post(server, "organizations", body, headers)
            assert status < 500, (status, raw[:300])
            if status >= 400:
                err = json.loads(raw)
                assert "__type" in err and "message" in err
        else:
            service = rng.choice(list(QUERY_SERVICES))
            params = random_query_params(
                rng, [o for o in ops[service] if not o.startswith("Delete")], members
            )
            body = urlencode(params).encode() if rng.random() < 0.9 else junk(rng).encode("utf-8", "replace")
            status, raw = signed_post(server, service, body, form)
            assert status < 500, (params, status, raw[:300])
            if status >= 400:
                assert b"<ErrorResponse" in raw and b"<Code>" in raw and b"<RequestId>" in raw, raw[:300]
        statuses[status] = statuses.get(status, 0) + 1
    assert sum(n for s, n in statuses.items() if s >= 400) > 500
    # random calls may have created users, but the store is intact and the service still answers
    names = [u["UserName"] for u in server.client("iam").list_users()["Users"]]
    assert "bystander" in names
    assert server.client("sts").get_caller_identity()["Account"] == server.account_id


def test_unsigned_garbage_is_refused(server) -> None:
    rng = random.Random(7)
    for _ in range(50):
        body = junk(rng).encode("utf-8", "replace")
        status, raw = post(
            server.url + "/",
            b"Action=ListUsers&" + body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert 400 <= status < 500, raw[:200]
