"""Managed and inline policies, versions, attachments and access keys through boto3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

ALLOW_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
ALLOW_EC2 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
)


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_aws_managed_policies_have_real_arns(iam) -> None:
    arns = {p["Arn"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    for name in ("AdministratorAccess", "ReadOnlyAccess", "IAMUserChangePassword"):
        assert f"arn:aws:iam::aws:policy/{name}" in arns
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    doc = iam.get_policy_version(PolicyArn=admin["Arn"], VersionId=admin["DefaultVersionId"])["PolicyVersion"]
    assert doc["Document"]["Statement"][0]["Action"] == "*"


def test_policy_versions_lifecycle(iam, server) -> None:
    policy = iam.create_policy(PolicyName="s3", PolicyDocument=ALLOW_S3, Description="d")["Policy"]
    assert policy["PolicyId"].startswith("ANPA")
    assert policy["Arn"] == f"arn:aws:iam::{server.account_id}:policy/s3"
    assert policy["DefaultVersionId"] == "v1"
    for _ in range(4):
        iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=ALLOW_EC2)
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=ALLOW_EC2)
    assert code(exc) == "LimitExceeded"
    iam.set_default_policy_version(PolicyArn=policy["Arn"], VersionId="v3")
    versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, True, False, False]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=policy["Arn"], VersionId="v3")
    assert code(exc) == "DeleteConflict"
    got = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v3")["PolicyVersion"]
    assert got["Document"]["Statement"][0]["Action"] == "ec2:*"
    for v in ("v1", "v2", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=policy["Arn"], VersionId=v)
    iam.delete_policy(PolicyArn=policy["Arn"])
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=policy["Arn"])
    assert code(exc) == "NoSuchEntity"


def test_malformed_policy_is_refused(iam) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName="bad", PolicyDocument='{"Version": "2012-10-17"}')
    assert code(exc) == "MalformedPolicyDocument"
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_attach_detach_and_entities(iam) -> None:
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_S3)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == [
        {"PolicyName": "p", "PolicyArn": arn}
    ]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [x["UserName"] for x in entities["PolicyUsers"]] == ["u"]
    assert [x["GroupName"] for x in entities["PolicyGroups"]] == ["g"]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert code(exc) == "DeleteConflict"
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.detach_group_policy(GroupName="g", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)


def test_attach_unknown_or_malformed_policy_arn(iam) -> None:
    iam.create_user(UserName="u")
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::123456789012:policy/nothing")
    assert code(exc) == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName="u", PolicyArn="longpolicynamebutnoarn")
    assert code(exc) == "ValidationError"


def test_inline_policies(iam) -> None:
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="inline", PolicyDocument=ALLOW_S3)
    assert iam.list_user_policies(UserName="u")["PolicyNames"] == ["inline"]
    got = iam.get_user_policy(UserName="u", PolicyName="inline")
    assert got["PolicyDocument"] == json.loads(ALLOW_S3)
    iam.create_group(GroupName="g")
    iam.put_group_policy(GroupName="g", PolicyName="gi", PolicyDocument=ALLOW_EC2)
    assert iam.get_group_policy(GroupName="g", PolicyName="gi")["PolicyDocument"] == json.loads(ALLOW_EC2)
    iam.delete_user_policy(UserName="u", PolicyName="inline")
    with pytest.raises(ClientError) as exc:
        iam.get_user_policy(UserName="u", PolicyName="inline")
    assert code(exc) == "NoSuchEntity"


def test_access_keys_lifecycle(iam, server) -> None:
    iam.create_user(UserName="k")
    first = iam.create_access_key(UserName="k")["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40
    iam.create_access_key(UserName="k")
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName="k")
    assert code(exc) == "LimitExceeded"
    listed = iam.list_access_keys(UserName="k")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} >= {first["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)
    # the new key works, then stops working when made inactive
    sts = server.client_for("sts", first)
    assert sts.get_caller_identity()["Arn"].endswith(":user/k")
    last = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert last["UserName"] == "k" and last["AccessKeyLastUsed"]["ServiceName"] == "sts"
    iam.update_access_key(UserName="k", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert code(exc) == "InvalidClientTokenId"
    iam.delete_access_key(UserName="k", AccessKeyId=first["AccessKeyId"])
    assert len(iam.list_access_keys(UserName="k")["AccessKeyMetadata"]) == 1


def test_secrets_are_sealed_at_rest(iam, server) -> None:
    import sqlite3

    iam.create_user(UserName="k")
    secret = iam.create_access_key(UserName="k")["AccessKey"]["SecretAccessKey"]
    db = sqlite3.connect(server.config.data_dir / "rolehop.db")
    blobs = [row[0] for row in db.execute("select sealed_secret from access_keys")]
    db.close()
    assert blobs and all(secret.encode() not in bytes(b) for b in blobs)
