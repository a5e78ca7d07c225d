"""IAM users' SSH public keys, signing certificates and service-specific credentials, and the
account's server certificates, through boto3: keys and certificates generated with `cryptography`
here, every refusal AWS documents, quotas, paging, and secrets returned once only."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from trail_support import module_server

from rolehop.core.keyring import Key, key_id_of
from rolehop.services.admin import keys as ring_keys
from rolehop.services.iam import certificates, service_credentials
from support import LiveServer, user_keys


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("keys") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def iam(live: LiveServer) -> Any:
    return live.client("iam")


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return str(exc.value.response["Error"]["Code"]), str(exc.value.response["Error"]["Message"])


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def openssh(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, comment: str = "me@host") -> str:
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {comment}"


def md5_fingerprint(ssh_line: str) -> str:
    digest = hashlib.md5(base64.b64decode(ssh_line.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


# --- SSH public keys -----------------------------------------------------------------------------


def test_ssh_key_lifecycle(iam: Any) -> None:
    iam.create_user(UserName="git")
    key = rsa_key()
    line = openssh(key)
    uploaded = iam.upload_ssh_public_key(UserName="git", SSHPublicKeyBody=line)["SSHPublicKey"]
    key_id = uploaded["SSHPublicKeyId"]
    assert re.fullmatch(r"APKA[A-Z2-7]{16}", key_id)
    assert uploaded["Status"] == "Active" and uploaded["UserName"] == "git"
    assert uploaded["Fingerprint"] == md5_fingerprint(line)
    assert uploaded["SSHPublicKeyBody"] == line.rsplit(" ", 1)[0]

    ssh = iam.get_ssh_public_key(UserName="git", SSHPublicKeyId=key_id, Encoding="SSH")["SSHPublicKey"]
    assert ssh["SSHPublicKeyBody"] == line.rsplit(" ", 1)[0]
    pem = iam.get_ssh_public_key(UserName="git", SSHPublicKeyId=key_id, Encoding="PEM")["SSHPublicKey"]
    loaded = serialization.load_pem_public_key(pem["SSHPublicKeyBody"].encode())
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == key.public_key().public_numbers()

    listed = iam.list_ssh_public_keys(UserName="git")["SSHPublicKeys"]
    assert listed == [
        {
            "UserName": "git",
            "SSHPublicKeyId": key_id,
            "Status": "Active",
            "UploadDate": uploaded["UploadDate"],
        }
    ]
    iam.update_ssh_public_key(UserName="git", SSHPublicKeyId=key_id, Status="Inactive")
    assert iam.list_ssh_public_keys(UserName="git")["SSHPublicKeys"][0]["Status"] == "Inactive"
    with pytest.raises(ClientError) as exc:
        iam.update_ssh_public_key(UserName="git", SSHPublicKeyId=key_id, Status="Expired")
    assert error(exc)[0] == "InvalidInput"

    # the same key in PEM is the same key: a duplicate
    pem_body = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ClientError) as exc:
        iam.upload_ssh_public_key(UserName="git", SSHPublicKeyBody=pem_body.decode())
    assert error(exc)[0] == "DuplicateSSHPublicKey"

    iam.delete_ssh_public_key(UserName="git", SSHPublicKeyId=key_id)
    assert iam.list_ssh_public_keys(UserName="git")["SSHPublicKeys"] == []
    with pytest.raises(ClientError) as exc:
        iam.get_ssh_public_key(UserName="git", SSHPublicKeyId=key_id, Encoding="SSH")
    assert error(exc)[0] == "NoSuchEntity"
    # a PEM upload works too (PKCS#1 "RSA PUBLIC KEY" as well as SubjectPublicKeyInfo)
    pkcs1 = rsa_key().public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    again = iam.upload_ssh_public_key(UserName="git", SSHPublicKeyBody=pkcs1.decode())["SSHPublicKey"]
    assert again["SSHPublicKeyBody"].startswith("ssh-rsa AAAA")


def test_ssh_key_refusals(iam: Any) -> None:
    iam.create_user(UserName="picky")
    refused = {
        "ed25519": openssh(ed25519.Ed25519PrivateKey.generate()),
        "ecdsa-pem": ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "garbage": "hello world",
        "short": openssh(rsa_key(1024)),
        "broken": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ broken",
    }
    codes = {}
    for name, body in refused.items():
        with pytest.raises(ClientError) as exc:
            iam.upload_ssh_public_key(UserName="picky", SSHPublicKeyBody=body)
        codes[name] = error(exc)[0]
    assert codes == {
        "ed25519": "UnrecognizedPublicKeyEncoding",
        "ecdsa-pem": "UnrecognizedPublicKeyEncoding",
        "garbage": "UnrecognizedPublicKeyEncoding",
        "short": "InvalidPublicKey",
        "broken": "InvalidPublicKey",
    }
    with pytest.raises(ClientError) as exc:
        iam.upload_ssh_public_key(UserName="nobody", SSHPublicKeyBody=openssh(rsa_key()))
    assert error(exc)[0] == "NoSuchEntity"


def test_ssh_key_quota_and_paging(iam: Any) -> None:
    iam.create_user(UserName="many")
    ids = [
        iam.upload_ssh_public_key(UserName="many", SSHPublicKeyBody=openssh(rsa_key()))["SSHPublicKey"][
            "SSHPublicKeyId"
        ]
        for _ in range(5)
    ]
    with pytest.raises(ClientError) as exc:
        iam.upload_ssh_public_key(UserName="many", SSHPublicKeyBody=openssh(rsa_key()))
    assert error(exc)[0] == "LimitExceeded"
    first = iam.list_ssh_public_keys(UserName="many", MaxItems=3)
    assert first["IsTruncated"] and len(first["SSHPublicKeys"]) == 3
    rest = iam.list_ssh_public_keys(UserName="many", Marker=first["Marker"])
    assert not rest["IsTruncated"]
    seen = [k["SSHPublicKeyId"] for k in first["SSHPublicKeys"] + rest["SSHPublicKeys"]]
    assert seen == sorted(ids)


def test_ssh_keys_need_permission(iam: Any, live: LiveServer) -> None:
    other = live.client_for("iam", user_keys(iam, "stranger"))
    with pytest.raises(ClientError) as exc:
        other.upload_ssh_public_key(UserName="git", SSHPublicKeyBody=openssh(rsa_key()))
    assert error(exc)[0] == "AccessDenied"
    # a user lists its own keys without naming itself once allowed to
    iam.put_user_policy(
        UserName="stranger",
        PolicyName="own",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*SSHPublicKey*",'
        '"Resource":"arn:aws:iam::*:user/stranger"}]}',
    )
    assert other.list_ssh_public_keys()["SSHPublicKeys"] == []


# --- certificates --------------------------------------------------------------------------------

KEYS: dict[str, rsa.RSAPrivateKey] = {}


def cert_key(name: str) -> rsa.RSAPrivateKey:
    if name not in KEYS:
        KEYS[name] = rsa_key()
    return KEYS[name]


def make_cert(
    subject: str,
    now: datetime,
    issuer: str | None = None,
    key: rsa.RSAPrivateKey | None = None,
    days: tuple[int, int] = (-1, 365),
    ca: bool = False,
) -> str:
    """A PEM certificate for `subject` (key: cert_key(subject)), signed by `issuer` (self-signed if None)."""
    issuer = issuer or subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key((key or cert_key(subject)).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(cert_key(issuer), hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def private_pem(name: str) -> str:
    return (
        cert_key(name)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def test_signing_certificate_lifecycle(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    iam.create_user(UserName="signer")
    body = make_cert("signer-1", now)
    cert = iam.upload_signing_certificate(UserName="signer", CertificateBody=body)["Certificate"]
    assert re.fullmatch(r"[A-Z2-7]{32}", cert["CertificateId"])
    assert cert["UserName"] == "signer" and cert["Status"] == "Active"
    assert cert["CertificateBody"] == body.strip()
    with pytest.raises(ClientError) as exc:
        iam.upload_signing_certificate(UserName="signer", CertificateBody=body)
    assert error(exc)[0] == "DuplicateCertificate"
    iam.create_user(UserName="cosigner")
    with pytest.raises(ClientError) as exc:  # once per account, whoever holds it
        iam.upload_signing_certificate(UserName="cosigner", CertificateBody=body)
    assert error(exc)[0] == "DuplicateCertificate"
    iam.upload_signing_certificate(UserName="signer", CertificateBody=make_cert("signer-2", now))
    with pytest.raises(ClientError) as exc:
        iam.upload_signing_certificate(UserName="signer", CertificateBody=make_cert("signer-3", now))
    assert error(exc)[0] == "LimitExceeded"

    listed = iam.list_signing_certificates(UserName="signer")["Certificates"]
    assert sorted(c["CertificateId"] for c in listed) == [c["CertificateId"] for c in listed]
    assert cert in listed
    iam.update_signing_certificate(UserName="signer", CertificateId=cert["CertificateId"], Status="Inactive")
    statuses = {
        c["CertificateId"]: c["Status"]
        for c in iam.list_signing_certificates(UserName="signer")["Certificates"]
    }
    assert statuses[cert["CertificateId"]] == "Inactive"
    iam.delete_signing_certificate(UserName="signer", CertificateId=cert["CertificateId"])
    with pytest.raises(ClientError) as exc:
        iam.delete_signing_certificate(UserName="signer", CertificateId=cert["CertificateId"])
    assert error(exc)[0] == "NoSuchEntity"
    # the certificate may now go to another user
    iam.upload_signing_certificate(UserName="cosigner", CertificateBody=body)
    # the root user's own certificates (no UserName)
    root = iam.upload_signing_certificate(CertificateBody=make_cert("root-cert", now))["Certificate"]
    assert root["UserName"] == live.account_id
    assert [c["CertificateId"] for c in iam.list_signing_certificates()["Certificates"]] == [
        root["CertificateId"]
    ]


def test_signing_certificate_refusals(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    iam.create_user(UserName="refused")
    cases = {
        "not pem": ("hello", "MalformedCertificate"),
        "key not cert": (private_pem("k"), "MalformedCertificate"),
        "expired": (make_cert("old", now, days=(-30, -1)), "InvalidCertificate"),
        "not yet valid": (make_cert("young", now, days=(2, 30)), "InvalidCertificate"),
    }
    for name, (body, code) in cases.items():
        with pytest.raises(ClientError) as exc:
            iam.upload_signing_certificate(UserName="refused", CertificateBody=body)
        assert error(exc)[0] == code, name
    with pytest.raises(ClientError) as exc:
        iam.upload_signing_certificate(UserName="ghost", CertificateBody=make_cert("g", now))
    assert error(exc)[0] == "NoSuchEntity"
    assert iam.list_signing_certificates(UserName="refused")["Certificates"] == []


def test_server_certificate_lifecycle(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    account = live.account_id
    root_ca = make_cert("Root CA", now, ca=True, days=(-10, 3650))
    intermediate = make_cert("Intermediate CA", now, issuer="Root CA", ca=True, days=(-10, 1000))
    leaf = make_cert("www.example.com", now, issuer="Intermediate CA", days=(-1, 90))
    meta = iam.upload_server_certificate(
        ServerCertificateName="web",
        Path="/cloudfront/",
        CertificateBody=leaf,
        PrivateKey=private_pem("www.example.com"),
        CertificateChain=intermediate + root_ca,
        Tags=[{"Key": "env", "Value": "prod"}],
    )
    assert meta["Tags"] == [{"Key": "env", "Value": "prod"}]
    md = meta["ServerCertificateMetadata"]
    assert re.fullmatch(r"ASCA[A-Z2-7]{17}", md["ServerCertificateId"])
    assert md["Arn"] == f"arn:aws:iam::{account}:server-certificate/cloudfront/web"
    assert md["Path"] == "/cloudfront/" and md["ServerCertificateName"] == "web"
    assert md["Expiration"] == (now + timedelta(days=90)).replace(microsecond=0)

    got = iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]
    assert got["ServerCertificateMetadata"] == md
    assert got["CertificateBody"] == leaf.strip()
    assert got["CertificateChain"] == (intermediate + root_ca).strip()
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert "PrivateKey" not in got and "PRIVATE KEY" not in str(got)

    with pytest.raises(ClientError) as exc:
        iam.upload_server_certificate(
            ServerCertificateName="WEB", CertificateBody=leaf, PrivateKey=private_pem("www.example.com")
        )
    assert error(exc)[0] == "EntityAlreadyExists"
    iam.upload_server_certificate(
        ServerCertificateName="api", CertificateBody=make_cert("api", now), PrivateKey=private_pem("api")
    )
    names = [
        m["ServerCertificateName"] for m in iam.list_server_certificates()["ServerCertificateMetadataList"]
    ]
    assert names == ["api", "web"]
    only = iam.list_server_certificates(PathPrefix="/cloud")["ServerCertificateMetadataList"]
    assert [m["ServerCertificateName"] for m in only] == ["web"]
    page = iam.list_server_certificates(MaxItems=1)
    assert page["IsTruncated"] and page["ServerCertificateMetadataList"][0]["ServerCertificateName"] == "api"
    rest = iam.list_server_certificates(Marker=page["Marker"])
    assert [m["ServerCertificateName"] for m in rest["ServerCertificateMetadataList"]] == ["web"]

    # tags
    iam.tag_server_certificate(ServerCertificateName="web", Tags=[{"Key": "team", "Value": "edge"}])
    iam.untag_server_certificate(ServerCertificateName="web", TagKeys=["ENV"])
    assert iam.list_server_certificate_tags(ServerCertificateName="web")["Tags"] == [
        {"Key": "team", "Value": "edge"}
    ]
    # rename and re-path
    with pytest.raises(ClientError) as exc:
        iam.update_server_certificate(ServerCertificateName="web", NewServerCertificateName="API")
    assert error(exc)[0] == "EntityAlreadyExists"
    iam.update_server_certificate(
        ServerCertificateName="web", NewServerCertificateName="www", NewPath="/edge/"
    )
    moved = iam.get_server_certificate(ServerCertificateName="www")["ServerCertificate"]
    assert moved["ServerCertificateMetadata"]["Arn"] == f"arn:aws:iam::{account}:server-certificate/edge/www"
    assert moved["ServerCertificateMetadata"]["ServerCertificateId"] == md["ServerCertificateId"]
    with pytest.raises(ClientError) as exc:
        iam.get_server_certificate(ServerCertificateName="web")
    assert error(exc)[0] == "NoSuchEntity"
    iam.delete_server_certificate(ServerCertificateName="www")
    iam.delete_server_certificate(ServerCertificateName="api")
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []
    with pytest.raises(ClientError) as exc:
        iam.delete_server_certificate(ServerCertificateName="www")
    assert error(exc)[0] == "NoSuchEntity"


def test_server_certificate_refusals(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    leaf = make_cert("shop", now, issuer="Shop CA")
    ca = make_cert("Shop CA", now, ca=True)
    other_ca = make_cert("Other CA", now, ca=True)
    expired_ca = make_cert("Shop CA", now, ca=True, days=(-100, -1))
    cases = {
        "malformed body": (
            dict(CertificateBody="nope", PrivateKey=private_pem("shop")),
            "MalformedCertificate",
        ),
        "malformed key": (dict(CertificateBody=leaf, PrivateKey="nope"), "MalformedCertificate"),
        "expired body": (
            dict(CertificateBody=make_cert("shop", now, days=(-9, -1)), PrivateKey=private_pem("shop")),
            "MalformedCertificate",
        ),
        "other key": (dict(CertificateBody=leaf, PrivateKey=private_pem("Shop CA")), "KeyPairMismatch"),
        "wrong chain": (
            dict(CertificateBody=leaf, PrivateKey=private_pem("shop"), CertificateChain=other_ca),
            "MalformedCertificate",
        ),
        "expired chain": (
            dict(CertificateBody=leaf, PrivateKey=private_pem("shop"), CertificateChain=expired_ca),
            "MalformedCertificate",
        ),
        "bad path": (
            dict(CertificateBody=leaf, PrivateKey=private_pem("shop"), Path="nope"),
            "ValidationError",
        ),
    }
    for name, (params, code) in cases.items():
        with pytest.raises(ClientError) as exc:
            iam.upload_server_certificate(ServerCertificateName="shop", **params)
        assert error(exc)[0] == code, name
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []
    # the right chain is accepted
    iam.upload_server_certificate(
        ServerCertificateName="shop",
        CertificateBody=leaf,
        PrivateKey=private_pem("shop"),
        CertificateChain=ca,
    )
    iam.delete_server_certificate(ServerCertificateName="shop")


def test_server_certificates_need_permission(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    iam.upload_server_certificate(
        ServerCertificateName="guarded", CertificateBody=make_cert("g1", now), PrivateKey=private_pem("g1")
    )
    other = live.client_for("iam", user_keys(iam, "certreader"))
    with pytest.raises(ClientError) as exc:
        other.get_server_certificate(ServerCertificateName="guarded")
    assert error(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        other.upload_server_certificate(
            ServerCertificateName="mine", CertificateBody=make_cert("g2", now), PrivateKey=private_pem("g2")
        )
    assert error(exc)[0] == "AccessDenied"
    iam.delete_server_certificate(ServerCertificateName="guarded")


# --- service-specific credentials ----------------------------------------------------------------


def test_service_specific_password_lifecycle(iam: Any, live: LiveServer) -> None:
    account = live.account_id
    iam.create_user(UserName="coder")
    created = iam.create_service_specific_credential(
        UserName="coder", ServiceName="codecommit.amazonaws.com"
    )["ServiceSpecificCredential"]
    cred_id = created["ServiceSpecificCredentialId"]
    assert re.fullmatch(r"ACCA[A-Z2-7]{17}", cred_id)
    assert created["ServiceUserName"] == f"coder-at-{account}"
    assert created["Status"] == "Active" and created["ServiceName"] == "codecommit.amazonaws.com"
    password = created["ServicePassword"]
    assert len(password) == 44
    assert "ExpirationDate" not in created and "ServiceCredentialSecret" not in created

    listed = iam.list_service_specific_credentials(UserName="coder")["ServiceSpecificCredentials"]
    assert listed == [{k: v for k, v in created.items() if k != "ServicePassword"}]
    assert password not in str(listed)

    reset = iam.reset_service_specific_credential(UserName="coder", ServiceSpecificCredentialId=cred_id)[
        "ServiceSpecificCredential"
    ]
    assert reset["ServicePassword"] != password and reset["ServiceSpecificCredentialId"] == cred_id
    iam.update_service_specific_credential(
        UserName="coder", ServiceSpecificCredentialId=cred_id, Status="Inactive"
    )
    assert iam.list_service_specific_credentials(UserName="coder")["ServiceSpecificCredentials"][0][
        "Status"
    ] == ("Inactive")

    iam.create_service_specific_credential(UserName="coder", ServiceName="codecommit.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName="coder", ServiceName="codecommit.amazonaws.com")
    assert error(exc)[0] == "LimitExceeded"
    # the quota is per service
    keyspaces = iam.create_service_specific_credential(
        UserName="coder", ServiceName="cassandra.amazonaws.com"
    )
    assert keyspaces["ServiceSpecificCredential"]["ServiceName"] == "cassandra.amazonaws.com"
    only = iam.list_service_specific_credentials(UserName="coder", ServiceName="cassandra.amazonaws.com")
    assert len(only["ServiceSpecificCredentials"]) == 1
    page = iam.list_service_specific_credentials(UserName="coder", MaxItems=2)
    assert page["IsTruncated"] and len(page["ServiceSpecificCredentials"]) == 2
    rest = iam.list_service_specific_credentials(UserName="coder", Marker=page["Marker"])
    assert len(rest["ServiceSpecificCredentials"]) == 1 and not rest["IsTruncated"]

    iam.delete_service_specific_credential(UserName="coder", ServiceSpecificCredentialId=cred_id)
    with pytest.raises(ClientError) as exc:
        iam.delete_service_specific_credential(UserName="coder", ServiceSpecificCredentialId=cred_id)
    assert error(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.reset_service_specific_credential(UserName="coder", ServiceSpecificCredentialId=cred_id)
    assert error(exc)[0] == "NoSuchEntity"


def test_service_specific_api_keys_expire(iam: Any, live: LiveServer) -> None:
    iam.create_user(UserName="modeler")
    created = iam.create_service_specific_credential(
        UserName="modeler", ServiceName="bedrock.amazonaws.com", CredentialAgeDays=1
    )["ServiceSpecificCredential"]
    assert created["ServiceCredentialSecret"].startswith("ABSK")
    alias = created["ServiceCredentialAlias"]
    assert alias.startswith("modeler") and base64.b64decode(
        created["ServiceCredentialSecret"][4:]
    ).decode().startswith(alias + ":")
    assert "ServicePassword" not in created and "ServiceUserName" not in created
    assert created["ExpirationDate"] == live.clock.now + timedelta(days=1)
    live.clock.advance(86400 + 1)
    try:
        listed = iam.list_service_specific_credentials(UserName="modeler")["ServiceSpecificCredentials"]
    finally:
        live.clock.advance(-(86400 + 1))
    assert listed[0]["Status"] == "Expired" and "ServiceCredentialSecret" not in listed[0]
    # every user's credentials of the account, for one service
    everyone = iam.list_service_specific_credentials(AllUsers=True, ServiceName="bedrock.amazonaws.com")
    assert [c["UserName"] for c in everyone["ServiceSpecificCredentials"]] == ["modeler"]


def test_service_specific_credential_refusals(iam: Any, live: LiveServer) -> None:
    iam.create_user(UserName="plain")
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName="plain", ServiceName="s3.amazonaws.com")
    assert error(exc)[0] == "NotSupportedService"
    with pytest.raises(ClientError) as exc:
        iam.list_service_specific_credentials(UserName="plain", ServiceName="s3.amazonaws.com")
    assert error(exc)[0] == "NotSupportedService"
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(
            UserName="plain", ServiceName="codecommit.amazonaws.com", CredentialAgeDays=3
        )
    assert error(exc)[0] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName="nobody", ServiceName="codecommit.amazonaws.com")
    assert error(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.list_service_specific_credentials(UserName="plain", AllUsers=True)
    assert error(exc)[0] == "ValidationError"
    with pytest.raises(ClientError) as exc:  # the root user has none and must name a user
        iam.list_service_specific_credentials()
    assert error(exc)[0] == "ValidationError"
    other = live.client_for("iam", user_keys(iam, "nosy"))
    with pytest.raises(ClientError) as exc:
        other.create_service_specific_credential(UserName="plain", ServiceName="codecommit.amazonaws.com")
    assert error(exc)[0] == "AccessDenied"


def test_delete_user_waits_for_its_keys_and_credentials(iam: Any, live: LiveServer) -> None:
    iam.create_user(UserName="leaving")
    ssh = iam.upload_ssh_public_key(UserName="leaving", SSHPublicKeyBody=openssh(rsa_key()))["SSHPublicKey"]
    cert = iam.upload_signing_certificate(
        UserName="leaving", CertificateBody=make_cert("leaving", live.clock.now)
    )
    cred = iam.create_service_specific_credential(UserName="leaving", ServiceName="codecommit.amazonaws.com")
    steps = [
        lambda: iam.delete_signing_certificate(
            UserName="leaving", CertificateId=cert["Certificate"]["CertificateId"]
        ),
        lambda: iam.delete_ssh_public_key(UserName="leaving", SSHPublicKeyId=ssh["SSHPublicKeyId"]),
        lambda: iam.delete_service_specific_credential(
            UserName="leaving",
            ServiceSpecificCredentialId=cred["ServiceSpecificCredential"]["ServiceSpecificCredentialId"],
        ),
    ]
    for step in steps:
        with pytest.raises(ClientError) as exc:
            iam.delete_user(UserName="leaving")
        assert error(exc)[0] == "DeleteConflict"
        step()
    iam.delete_user(UserName="leaving")


def test_secrets_are_sealed_at_rest_and_left_out_of_the_trail(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    iam.create_user(UserName="secretive")
    key_pem = private_pem("sealed.example.com")
    body = make_cert("sealed.example.com", now)
    iam.upload_server_certificate(ServerCertificateName="sealed", CertificateBody=body, PrivateKey=key_pem)
    password = iam.create_service_specific_credential(
        UserName="secretive", ServiceName="cassandra.amazonaws.com"
    )["ServiceSpecificCredential"]["ServicePassword"]
    api_secret = iam.create_service_specific_credential(
        UserName="secretive", ServiceName="logs.amazonaws.com"
    )["ServiceSpecificCredential"]["ServiceCredentialSecret"]
    live.app.rt.trail.flush()
    database = live.config.data_dir / "rolehop.db"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    stored = b"".join(path.read_bytes() for path in database.parent.glob("rolehop.db*"))
    key_lines = [line for line in key_pem.splitlines() if not line.startswith("-----")]
    assert len(key_lines) > 10
    assert body.splitlines()[2].encode() in stored  # the search finds what is stored in clear
    for secret in (password, api_secret, *key_lines[1:-1]):
        assert secret.encode() not in stored
    iam.delete_server_certificate(ServerCertificateName="sealed")


def test_summary_and_credential_report_count_certificates(iam: Any, live: LiveServer) -> None:
    now = live.clock.now
    before = iam.get_account_summary()["SummaryMap"]
    iam.upload_server_certificate(
        ServerCertificateName="counted",
        CertificateBody=make_cert("counted", now),
        PrivateKey=private_pem("counted"),
    )
    iam.create_user(UserName="reported")
    first = iam.upload_signing_certificate(UserName="reported", CertificateBody=make_cert("reported-1", now))
    live.clock.advance(5)
    second = iam.upload_signing_certificate(UserName="reported", CertificateBody=make_cert("reported-2", now))
    iam.update_signing_certificate(
        UserName="reported", CertificateId=second["Certificate"]["CertificateId"], Status="Inactive"
    )
    after = iam.get_account_summary()["SummaryMap"]
    assert after["ServerCertificates"] == before["ServerCertificates"] + 1
    root_certs = iam.list_signing_certificates()["Certificates"]  # the root user's own
    assert after["AccountSigningCertificatesPresent"] == int(bool(root_certs))

    iam.generate_credential_report()
    rows = list(csv.reader(io.StringIO(iam.get_credential_report()["Content"].decode())))
    row = dict(zip(rows[0], next(r for r in rows if r[0] == "reported"), strict=True))

    def stamp(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    assert row["cert_1_active"] == "true"
    assert row["cert_1_last_rotated"] == stamp(first["Certificate"]["UploadDate"])
    assert row["cert_2_active"] == "false"
    assert row["cert_2_last_rotated"] == stamp(second["Certificate"]["UploadDate"])
    root = dict(zip(rows[0], rows[1], strict=True))
    assert root["cert_1_active"] == str(any(c["Status"] == "Active" for c in root_certs[:1])).lower()
    assert root["cert_2_last_rotated"] == "N/A"  # the root user holds one at most in this module
    iam.delete_server_certificate(ServerCertificateName="counted")


def test_sealed_secrets_move_with_a_key_rotation(iam: Any, live: LiveServer) -> None:
    """`rolehop keys reseal` re-seals server certificates' keys and service credentials' secrets too."""
    now = live.clock.now
    runtime = live.app.rt
    iam.create_user(UserName="rotated")
    key_pem = private_pem("rotated.example.com")
    iam.upload_server_certificate(
        ServerCertificateName="rotated",
        CertificateBody=make_cert("rotated.example.com", now),
        PrivateKey=key_pem,
    )
    password = iam.create_service_specific_credential(
        UserName="rotated", ServiceName="codecommit.amazonaws.com"
    )["ServiceSpecificCredential"]["ServicePassword"]
    old_ring = runtime.ring
    old_id = old_ring.active_key_id
    before = ring_keys.sealed_by(runtime)[old_id]
    new_key = Key("k-certs-test", os.urandom(32))
    runtime.ring = old_ring.with_key(new_key).promoted("k-certs-test")
    try:
        assert ring_keys.reseal_all(runtime) >= 2
        counts = ring_keys.sealed_by(runtime)
        assert counts["k-certs-test"] >= before and counts[old_id] == 0
        runtime.ring = runtime.ring.without(old_id)
        with runtime.store.transaction() as tx:
            cert = tx.get_server_certificate(live.account_id, "rotated")
            user = tx.get_identity("user", live.account_id, "rotated")
            assert cert is not None and user is not None
            [cred] = tx.service_credentials_of(live.account_id, user.unique_id)
        assert key_id_of(cert.sealed_private_key) == "k-certs-test"
        assert certificates.open_private_key(runtime, cert).decode() == key_pem.strip()
        assert service_credentials.open_service_secret(runtime, cred) == password
    finally:
        runtime.ring = old_ring.with_key(new_key)  # what the reseal moved stays readable
    iam.delete_server_certificate(ServerCertificateName="rotated")
