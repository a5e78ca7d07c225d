"""Persona x operation: every IAM, STS and Organizations operation rolehop serves, called by each
persona over the live API, is allowed or refused as the persona's policies say.

Expectations come from rules on action names written here (not from the engine), and every
registered operation must appear, so an operation that forgets to authorize fails this test.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.session import get_session

from rolehop.services.pipeline.registry import OPERATIONS
from support import LiveServer

MEMBER = "380735047240"
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
DELEGATION_POLICY = json.dumps(  # delegates to an account that is not in the organization
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "organizations:DescribeOrganization",
                "Resource": "*",
            }
        ],
    }
)
READ_ONLY = (
    "iam:Generate*",  # AWS's ReadOnlyAccess allows iam:Generate* (service last accessed reports)
    "iam:Get*",
    "iam:List*",
    "iam:Simulate*",  # and the policy simulator
    "organizations:Describe*",
    "organizations:List*",
    "sts:GetAccessKeyInfo",
    "cloudtrail:LookupEvents",
)
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity", "sts:GetSessionToken"}
SKIPPED = {("sts", "AssumeRole")}  # decided by trust policies: tests of its own in test_organization_example
# what a member account may call (for itself); all else is for the management account only
MEMBER_ORGANIZATIONS_OPS = {
    "AcceptHandshake",
    "CreateOrganization",  # refused (already in an organization), not denied
    "DeclineHandshake",
    "DescribeEffectivePolicy",
    "DescribeHandshake",
    "DescribeOrganization",
    "LeaveOrganization",
    "ListHandshakesForAccount",
}


def value_for(name: str, shape: Any, account: str) -> Any:
    """A well-formed value for a required member, naming entities that do not exist."""
    if shape.name == "ResourcePolicyContent":  # Organizations' delegation policy (PutResourcePolicy)
        return DELEGATION_POLICY
    if shape.type_name == "list":
        return [] if name in ("Tags",) else [value_for(name, shape.member, account)]
    if shape.type_name == "structure":
        return {m: value_for(m, s, account) for m, s in shape.members.items() if m in shape.required_members}
    if shape.type_name in ("integer", "long"):
        return max(int(shape.metadata.get("min", 1)), 900 if "Duration" in name else 1)
    if shape.type_name == "boolean":
        return False
    if "enum" in shape.metadata:
        return shape.metadata["enum"][0]
    specific = {
        "PolicyArn": f"arn:aws:iam::{account}:policy/matrix-target",
        "PermissionsBoundary": f"arn:aws:iam::{account}:policy/matrix-target",
        "PolicyDocument": ALLOW_ALL,
        "AssumeRolePolicyDocument": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
        "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
        "VersionId": "v1",
        "AccountId": "111111111111",
        "AccountAlias": "matrix-alias",
        "Email": "matrix@example.com",
        "CreateAccountRequestId": "car-0123456789abcdef",
        "Key": "k",
        "Value": "v",
        "TagKeys": "k",
        "Description": "matrix",
        "AuthenticationCode1": "123456",
        "AuthenticationCode2": "654321",
        "Content": ALLOW_ALL,
        "PolicyId": "p-matrix0000",
        "TargetId": "111111111111",
        "ResourceId": "111111111111",
        "ServicePrincipal": "config.amazonaws.com",
        "ChildId": "111111111111",
        "ParentId": "r-abcd",
        "RootId": "r-abcd",
        "SourceParentId": "r-abcd",
        "DestinationParentId": "ou-abcd-12345678",
        "OrganizationalUnitId": "ou-abcd-12345678",
        "Arn": f"arn:aws:iam::{account}:user/matrix-target",
        "PolicySourceArn": f"arn:aws:iam::{account}:user/matrix-target",  # the simulator's
        "JobId": "11111111-2222-4333-8444-555555555555",
        "HandshakeId": "h-matrix0000",
        "SSHPublicKeyId": "APKAMATRIXTARGET0000",  # IDs of at least 20 (24) characters
        "CertificateId": "MATRIXTARGETCERTIFICATE0",
        "ServiceSpecificCredentialId": "ACCAMATRIXTARGET00000",
        "EntityPath": "o-abcdefghij/r-abcd",  # GenerateOrganizationsAccessReport
        "OpenIDConnectProviderArn": f"arn:aws:iam::{account}:oidc-provider/matrix.example.com",
        "Url": "https://matrix.example.com",
        "ThumbprintList": "0" * 40,  # each member of the list
        "SAMLProviderArn": f"arn:aws:iam::{account}:saml-provider/matrix-target",
        "SAMLMetadataDocument": "<matrix/>" + " " * 1000,  # unparsable: InvalidInput once authorized
    }
    return specific.get(name, "matrix-target")


def params_for(service: str, op: str, account: str) -> dict[str, Any]:
    shape = get_session().get_service_model(service).operation_model(op).input_shape
    if shape is None:
        return {}
    # name a user even where the caller's own is the default, so role sessions are asked too
    wanted = set(shape.required_members) | ({"UserName"} & set(shape.members))
    return {m: value_for(m, s, account) for m, s in shape.members.items() if m in wanted}


def snake(op: str) -> str:
    return xform_name(op)  # botocore's own: CreateVirtualMFADevice -> create_virtual_mfa_device


def outcome(client: Any, op: str, params: dict[str, Any]) -> str:
    try:
        getattr(client, snake(op))(**params)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code in ("AccessDenied", "AccessDeniedException"):
            return "denied"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] < 500, (op, e.response)
        assert code not in ("ValidationError", "InvalidParameterValue", "InvalidInputException"), (op, code)
    return "allowed"


def run_matrix(
    server: LiveServer, clients: dict[str, Any], account: str, expected: Callable[[str, str], bool]
) -> None:
    orgs = server.client("organizations")
    # Organizations' operations are asked of an organization (a fresh store has none)
    with contextlib.suppress(orgs.exceptions.AlreadyInOrganizationException):  # a member fixture made it
        orgs.create_organization()
    wrong = []
    for service, op in sorted(OPERATIONS):
        if (service, op) in SKIPPED:
            continue
        got = outcome(clients[service], op, params_for(service, op, account))
        want = "allowed" if expected(service, op) else "denied"
        if got != want:
            wrong.append(f"{service}:{op} {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


def matches(action: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def clients_of(server: LiveServer, creds: dict[str, Any]) -> dict[str, Any]:
    return {s: server.client_for(s, creds) for s in ("iam", "sts", "organizations", "cloudtrail")}


def new_user(
    server: LiveServer, name: str, *, policy: str | None = None, boundary: str | None = None
) -> dict[str, Any]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if policy:
        iam.attach_user_policy(UserName=name, PolicyArn=policy)
    if boundary:
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_root(server: LiveServer) -> None:
    clients = {s: server.client(s) for s in ("iam", "sts", "organizations", "cloudtrail")}
    run_matrix(server, clients, server.account_id, lambda service, op: True)


def test_administrator(server: LiveServer) -> None:
    keys = new_user(server, "admin", policy="arn:aws:iam::aws:policy/AdministratorAccess")
    run_matrix(server, clients_of(server, keys), server.account_id, lambda service, op: True)


def read_only(service: str, op: str) -> bool:
    action = f"{service}:{op}"
    return action in NEEDS_NO_PERMISSION or matches(action, READ_ONLY)


def test_read_only_user(server: LiveServer) -> None:
    keys = new_user(server, "reader", policy="arn:aws:iam::aws:policy/ReadOnlyAccess")
    run_matrix(server, clients_of(server, keys), server.account_id, read_only)


def test_user_without_policies(server: LiveServer) -> None:
    keys = new_user(server, "nobody")
    run_matrix(
        server,
        clients_of(server, keys),
        server.account_id,
        lambda service, op: f"{service}:{op}" in NEEDS_NO_PERMISSION,
    )


def test_administrator_under_a_read_only_boundary(server: LiveServer) -> None:
    keys = new_user(
        server,
        "bounded",
        policy="arn:aws:iam::aws:policy/AdministratorAccess",
        boundary="arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    run_matrix(server, clients_of(server, keys), server.account_id, read_only)


@pytest.fixture
def member_admin_session(server: LiveServer) -> dict[str, Any]:
    """An administrator of the management account assumes OrganizationAccountAccessRole in a member."""
    orgs = server.organizations()
    status = orgs.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    keys = new_user(server, "operator", policy="arn:aws:iam::aws:policy/AdministratorAccess")
    creds = server.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{member['AccountId']}:role/OrganizationAccountAccessRole",
        RoleSessionName="matrix",
    )["Credentials"]
    return {"creds": creds, "account": member["AccountId"]}


def test_cross_account_role_session(server: LiveServer, member_admin_session: dict[str, Any]) -> None:
    def expected(service: str, op: str) -> bool:
        if op in ("GetSessionToken", "GetFederationToken"):
            return False  # never with session credentials
        return not (service == "organizations" and op not in MEMBER_ORGANIZATIONS_OPS)

    run_matrix(
        server, clients_of(server, member_admin_session["creds"]), member_admin_session["account"], expected
    )


def test_session_narrowed_by_a_session_policy(
    server: LiveServer, member_admin_session: dict[str, Any]
) -> None:
    keys = new_user(server, "narrowed", policy="arn:aws:iam::aws:policy/AdministratorAccess")
    policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}]}
    )
    creds = server.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{member_admin_session['account']}:role/OrganizationAccountAccessRole",
        RoleSessionName="narrow",
        Policy=policy,
    )["Credentials"]

    def expected(service: str, op: str) -> bool:
        return f"{service}:{op}" == "sts:GetCallerIdentity" or matches(f"{service}:{op}", ("iam:List*",))

    run_matrix(server, clients_of(server, creds), member_admin_session["account"], expected)
