"""Input the service model lets through but no store can hold — a NUL character (PostgreSQL's text
refuses it), a name longer than its column — gets AWS's validation error and changes nothing, on
SQLite and on PostgreSQL alike. Never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from rolehop.services.pipeline.registry import OPERATIONS
from rolehop.wire.models import ListOf, MapOf, Member, Node, Scalar, Structure, input_plan, operation_model
from rolehop.wire.validation import validate
from support import ROOT_KEY, ROOT_SECRET, FakeClock, LiveServer

NUL = "a\x00b"
SCP = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[LiveServer]:
    """The same tests on both stores: only PostgreSQL refuses NUL and over-long names."""
    url = None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    live = LiveServer(tmp_path / "data", clock, database_url=url)
    yield live
    live.stop()


def refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    error: dict[str, Any] = exc.value.response["Error"]
    error["Status"] = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    error["Reason"] = exc.value.response.get("Reason")  # Organizations' modeled field
    return error


def test_nul_in_organizations_names_and_descriptions_is_invalid_input(server: LiveServer) -> None:
    server.organizations()
    orgs = server.client("organizations", validate=False)
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root, Name="team")["OrganizationalUnit"]
    scp = orgs.create_policy(Name="scp", Description="d", Type="SERVICE_CONTROL_POLICY", Content=SCP)
    policy_id = scp["Policy"]["PolicySummary"]["Id"]
    attempts = [
        (orgs.create_organizational_unit, {"ParentId": root, "Name": NUL}),
        (orgs.update_organizational_unit, {"OrganizationalUnitId": ou["Id"], "Name": NUL}),
        (
            orgs.create_policy,
            {"Name": NUL, "Description": "", "Type": "SERVICE_CONTROL_POLICY", "Content": SCP},
        ),
        (
            orgs.create_policy,
            {"Name": "p", "Description": NUL, "Type": "SERVICE_CONTROL_POLICY", "Content": SCP},
        ),
        (orgs.update_policy, {"PolicyId": policy_id, "Name": NUL}),
        (orgs.update_policy, {"PolicyId": policy_id, "Description": NUL}),
        (orgs.list_accounts, {"NextToken": NUL}),
    ]
    for call, params in attempts:
        error = refused(call, **params)
        assert (error["Status"], error["Code"], error["Reason"]) == (
            400,
            "InvalidInputException",
            "INVALID_PATTERN",
        )
        assert error["Message"] == "You provided a value that does not match the required pattern."
    units = orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    assert [u["Name"] for u in units] == ["team"]
    policies = orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert sorted((p["Name"], p.get("Description")) for p in policies if not p["AwsManaged"]) == [
        ("scp", "d")
    ]


def test_nul_in_iam_arns_and_descriptions_is_a_validation_error(server: LiveServer) -> None:
    iam = server.client("iam", validate=False)
    iam.create_user(UserName="u")
    arn = "arn:aws:iam::aws:policy/" + NUL
    document = SCP
    attempts = [
        (
            iam.create_policy,
            {"PolicyName": "p", "Description": NUL, "PolicyDocument": document},
            "description",
        ),
        (iam.attach_user_policy, {"UserName": "u", "PolicyArn": arn}, "policyArn"),
        (iam.get_policy, {"PolicyArn": arn}, "policyArn"),
        (iam.create_user, {"UserName": "b", "PermissionsBoundary": arn}, "permissionsBoundary"),
        (
            iam.put_user_permissions_boundary,
            {"UserName": "u", "PermissionsBoundary": arn},
            "permissionsBoundary",
        ),
    ]
    for call, params, member in attempts:
        error = refused(call, **params)
        assert (error["Status"], error["Code"]) == (400, "ValidationError")
        assert error["Message"].startswith("1 validation error detected: Value '")
        assert f"' at '{member}' failed to satisfy constraint: Member must not contain" in error["Message"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["u"]
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == []
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]


def test_nul_in_an_sts_parameter_is_a_validation_error(server: LiveServer) -> None:
    error = refused(server.client("sts", validate=False).decode_authorization_message, EncodedMessage=NUL)
    assert (error["Status"], error["Code"]) == (400, "ValidationError")
    assert "at 'encodedMessage' failed to satisfy constraint" in error["Message"]


def _string_nodes(node: Node, seen: set[int]) -> Iterator[Scalar]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Structure):
        for member in node.members:
            yield from _string_nodes(member.node, seen)
    elif isinstance(node, ListOf):
        yield from _string_nodes(node.item, seen)
    elif isinstance(node, MapOf):
        yield from _string_nodes(node.key, seen)
        yield from _string_nodes(node.value, seen)
    elif node.kind == "string":
        yield node


def test_no_string_parameter_of_any_served_operation_accepts_nul() -> None:
    # Whatever a model's pattern says (none, or `[\s\S]*`), a NUL never reaches a service function.
    checked = 0
    for service, name in OPERATIONS:
        plan = input_plan(operation_model(service, name))
        for node in _string_nodes(plan, set()) if plan else ():
            one = Structure(members=(Member("X", "X", "x", node),))
            assert validate(one, {"X": "a\x00b"}), (service, name, node.pattern_text)
            checked += 1
    assert checked > 200  # every served operation's strings, not a handful


def test_virtual_mfa_device_names_have_the_api_references_limit(server: LiveServer) -> None:
    iam = server.client("iam", validate=False)
    longest = iam.create_virtual_mfa_device(VirtualMFADeviceName="m" * 226)["VirtualMFADevice"]
    assert longest["SerialNumber"] == f"arn:aws:iam::{server.account_id}:mfa/{'m' * 226}"
    for length in (227, 500, 3000):
        error = refused(iam.create_virtual_mfa_device, VirtualMFADeviceName="n" * length)
        assert (error["Status"], error["Code"]) == (400, "ValidationError")
        assert error["Message"].endswith(
            "at 'virtualMFADeviceName' failed to satisfy constraint: "
            "Member must have length less than or equal to 226"
        )
    error = refused(iam.create_virtual_mfa_device, VirtualMFADeviceName=NUL)
    assert (error["Status"], error["Code"]) == (400, "ValidationError")
    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in devices] == [longest["SerialNumber"]]


def test_an_mfa_device_whose_serial_number_would_pass_256_characters_is_refused(server: LiveServer) -> None:
    # SerialNumber is at most 256 characters wherever a device is named (EnableMFADevice…)
    iam = server.client("iam")
    prefix = f"arn:aws:iam::{server.account_id}:mfa"
    path = "/" + "p" * (256 - len(prefix) - 3) + "/"
    fits = iam.create_virtual_mfa_device(VirtualMFADeviceName="x", Path=path)["VirtualMFADevice"]
    assert len(fits["SerialNumber"]) == 256
    error = refused(iam.create_virtual_mfa_device, VirtualMFADeviceName="xy", Path=path)
    assert (error["Status"], error["Code"]) == (400, "InvalidInput")
    assert "256" in error["Message"]
    error = refused(iam.create_virtual_mfa_device, VirtualMFADeviceName="m" * 100, Path="/" + "p" * 500 + "/")
    assert (error["Status"], error["Code"]) == (400, "InvalidInput")
    devices = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in devices] == [fits["SerialNumber"]]


def presigned(server: LiveServer, key: str, region: str = "us-east-1", service: str = "sts") -> str:
    request = AWSRequest("GET", server.url + "/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(Credentials(key, ROOT_SECRET), service, region, expires=300).add_auth(request)
    return str(request.url)


def test_nul_in_a_presigned_credential_scope_is_refused(server: LiveServer) -> None:
    key_with_nul = httpx.get(presigned(server, "AKIAROLEHOP\x00TESTROOT1"))
    assert key_with_nul.status_code == 403 and "<Code>InvalidClientTokenId</Code>" in key_with_nul.text
    for region, service in (("us-ea\x00st-1", "sts"), ("us-east-1", "st\x00s")):
        answer = httpx.get(presigned(server, ROOT_KEY, region, service))
        assert answer.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in answer.text
    # nothing was recorded that the trail's next batch would choke on: the last use is this ListUsers
    iam = server.client("iam")
    iam.list_users()
    server.app.rt.trail.flush()
    used = iam.get_access_key_last_used(AccessKeyId=ROOT_KEY)["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("iam", "us-east-1")
