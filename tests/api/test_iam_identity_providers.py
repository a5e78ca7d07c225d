"""IAM's identity providers over boto3: OpenID Connect providers (URL, client IDs, thumbprints, tags,
quotas) and SAML providers (metadata generated here with a self-signed certificate, parsed and
checked; ValidUntil; assertion encryption and private keys, which never come back)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from trail_support import module_server

from rolehop.core.keyring import Key, key_id_of
from rolehop.services.admin import keys as ring_keys
from rolehop.services.iam import saml_providers
from support import LiveServer, aws_cli

THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
THUMB2 = "1c58a3a8518e8759bf075b76b750d4f2df264fcd"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def message(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with module_server(tmp_path_factory.mktemp("idp") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def iam(live: LiveServer) -> Any:
    return live.client("iam")


# OpenID Connect


def test_oidc_provider_lifecycle(iam: Any, live: LiveServer) -> None:
    created = iam.create_open_id_connect_provider(
        Url="https://token.example.com/tenant-a",
        ClientIDList=["sts.amazonaws.com", "app-1", "app-1"],
        ThumbprintList=[THUMB],
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    oidc_arn = created["OpenIDConnectProviderArn"]
    assert oidc_arn == f"arn:aws:iam::{live.account_id}:oidc-provider/token.example.com/tenant-a"
    assert created["Tags"] == [{"Key": "team", "Value": "platform"}]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    assert got["Url"] == "token.example.com/tenant-a"
    assert got["ClientIDList"] == ["sts.amazonaws.com", "app-1"]
    assert got["ThumbprintList"] == [THUMB]
    assert got["Tags"] == [{"Key": "team", "Value": "platform"}]
    assert isinstance(got["CreateDate"], datetime)
    listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert {"Arn": oidc_arn} in listed

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ClientID="app-2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ClientID="app-2")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ClientID="app-1")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ClientID="nope")
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=oidc_arn, ThumbprintList=[THUMB2, THUMB]
    )
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    assert got["ClientIDList"] == ["sts.amazonaws.com", "app-2"]
    assert got["ThumbprintList"] == [THUMB2, THUMB]

    iam.tag_open_id_connect_provider(
        OpenIDConnectProviderArn=oidc_arn,
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "TEAM", "Value": "x"}],
    )
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=oidc_arn)
    assert tags["Tags"] == [{"Key": "TEAM", "Value": "x"}, {"Key": "env", "Value": "prod"}]
    assert tags["IsTruncated"] is False
    page = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=oidc_arn, MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Tags"]) == 1
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, TagKeys=["team"])
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=oidc_arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "prod"}]

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    with pytest.raises(ClientError) as exc:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    assert code(exc) == "NoSuchEntity"
    assert message(exc) == f"OpenIDConnect Provider not found for arn {oidc_arn}"
    with pytest.raises(ClientError) as exc:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    assert code(exc) == "NoSuchEntity"
    assert {"Arn": oidc_arn} not in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]


def test_oidc_provider_url_is_unique_per_account(iam: Any) -> None:
    url = "https://issuer.example.org"
    oidc_arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])["OpenIDConnectProviderArn"]
    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["b"])
    assert code(exc) == "EntityAlreadyExists"
    assert message(exc) == f"Provider with url {url} already exists."
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)["ThumbprintList"] == []
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)


@pytest.mark.parametrize(
    "url",
    [
        "http://issuer.example.org",  # https only (http just for a loopback issuer in dev mode)
        "issuer.example.org",
        "https://",
        "https://issuer.example.org/?x=1",
        "https://issuer.example.org/#frag",
        "https://user:pw@issuer.example.org",
        "https://issuer.example.org:/x",
        "https://issuer.example.org/?",
        "https://issuer.example.org:99999",
    ],
)
def test_oidc_provider_url_is_checked(iam: Any, url: str) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])
    assert code(exc) == "InvalidInput"


def test_dev_mode_takes_a_loopback_http_issuer(iam: Any, live: LiveServer) -> None:
    oidc_arn = iam.create_open_id_connect_provider(Url="http://127.0.0.1:8443/idp", ClientIDList=["a"])[
        "OpenIDConnectProviderArn"
    ]
    assert oidc_arn == f"arn:aws:iam::{live.account_id}:oidc-provider/127.0.0.1:8443/idp"
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)["Url"] == "127.0.0.1:8443/idp"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)


def test_oidc_thumbprints_and_client_ids_are_checked(iam: Any) -> None:
    url = "https://checks.example.com"
    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=url, ThumbprintList=["z" * 40])
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=url, ThumbprintList=[f"{i:040x}" for i in range(6)])
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:  # botocore's model: 40 characters exactly
        iam.create_open_id_connect_provider(Url=url, ThumbprintList=["ab" * 21])
    assert code(exc) == "ValidationError"
    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=[f"c{i}" for i in range(101)])
    assert code(exc) == "LimitExceeded"
    oidc_arn = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=[f"c{i}" for i in range(100)], ThumbprintList=[f"{i:040x}" for i in range(5)]
    )["OpenIDConnectProviderArn"]
    with pytest.raises(ClientError) as exc:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ClientID="c100")
    assert code(exc) == "LimitExceeded"
    with pytest.raises(ClientError) as exc:
        iam.update_open_id_connect_provider_thumbprint(
            OpenIDConnectProviderArn=oidc_arn, ThumbprintList=["0" * 39 + "g"]
        )
    assert code(exc) == "InvalidInput"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)


def test_oidc_provider_arns_are_checked(iam: Any, live: LiveServer) -> None:
    with pytest.raises(ClientError) as exc:
        iam.get_open_id_connect_provider(
            OpenIDConnectProviderArn=f"arn:aws:iam::{live.account_id}:role/not-a-provider"
        )
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        iam.tag_open_id_connect_provider(
            OpenIDConnectProviderArn=f"arn:aws:iam::{live.account_id}:oidc-provider/missing.example.com",
            Tags=[{"Key": "k", "Value": "v"}],
        )
    assert code(exc) == "NoSuchEntity"


# SAML

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"


def self_signed(common_name: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert, key


def metadata(
    cert: x509.Certificate | None,
    valid_until: str | None = None,
    use: str = "signing",
    root: str = "EntityDescriptor",
) -> str:
    key_descriptor = ""
    if cert is not None:
        b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        key_descriptor = (
            f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data>'
            f"<ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        )
    until = f' validUntil="{valid_until}"' if valid_until else ""
    return (
        f'<?xml version="1.0"?><md:{root} xmlns:md="{MD_NS}" xmlns:ds="{DS_NS}" '
        f'entityID="https://idp.example.com/metadata"{until}>'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{key_descriptor}"
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://idp.example.com/sso/saml"/>'
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>"
        f"</md:IDPSSODescriptor></md:{root}>"
    )


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def idp_cert() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    return self_signed("idp.example.com")


def test_saml_provider_lifecycle(iam: Any, live: LiveServer, idp_cert: Any) -> None:
    cert, _ = idp_cert
    document = metadata(cert, valid_until="2031-06-01T00:00:00Z")
    created = iam.create_saml_provider(
        Name="corp-idp", SAMLMetadataDocument=document, Tags=[{"Key": "team", "Value": "id"}]
    )
    saml_arn = created["SAMLProviderArn"]
    assert saml_arn == f"arn:aws:iam::{live.account_id}:saml-provider/corp-idp"
    assert created["Tags"] == [{"Key": "team", "Value": "id"}]
    got = iam.get_saml_provider(SAMLProviderArn=saml_arn)
    assert got["SAMLMetadataDocument"] == document
    assert got["ValidUntil"] == datetime(2031, 6, 1, tzinfo=UTC)
    assert got["Tags"] == [{"Key": "team", "Value": "id"}]
    assert len(got["SAMLProviderUUID"]) >= 22 and got["SAMLProviderUUID"].isalnum()
    assert "PrivateKeyList" not in got
    listed = iam.list_saml_providers()["SAMLProviderList"]
    entry = next(e for e in listed if e["Arn"] == saml_arn)
    assert entry["ValidUntil"] == got["ValidUntil"] and entry["CreateDate"] == got["CreateDate"]

    with pytest.raises(ClientError) as exc:
        iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument=document)
    assert code(exc) == "EntityAlreadyExists"

    # new metadata without validUntil: 100 years after the provider's creation
    other, _ = self_signed("idp2.example.com")
    updated = iam.update_saml_provider(SAMLProviderArn=saml_arn, SAMLMetadataDocument=metadata(other))
    assert updated["SAMLProviderArn"] == saml_arn
    got = iam.get_saml_provider(SAMLProviderArn=saml_arn)
    assert got["SAMLMetadataDocument"] == metadata(other)
    assert got["ValidUntil"] - got["CreateDate"] >= timedelta(days=365 * 100)

    iam.tag_saml_provider(SAMLProviderArn=saml_arn, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_saml_provider(SAMLProviderArn=saml_arn, TagKeys=["TEAM"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=saml_arn)["Tags"] == [{"Key": "env", "Value": "prod"}]

    iam.delete_saml_provider(SAMLProviderArn=saml_arn)
    with pytest.raises(ClientError) as exc:
        iam.get_saml_provider(SAMLProviderArn=saml_arn)
    assert code(exc) == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.list_saml_provider_tags(SAMLProviderArn=saml_arn)
    assert code(exc) == "NoSuchEntity"
    # a new provider of the same name starts without the old one's tags
    iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument=document)
    assert iam.get_saml_provider(SAMLProviderArn=saml_arn)["Tags"] == []
    iam.delete_saml_provider(SAMLProviderArn=saml_arn)


def test_saml_metadata_is_parsed_and_checked(iam: Any, idp_cert: Any) -> None:
    cert, _ = idp_cert
    pad = "<!--" + "x" * 1000 + "-->"
    bad = [
        metadata(None) + pad,  # no certificate
        metadata(cert, use="encryption"),  # no signing certificate
        metadata(cert, root="EntitiesDescriptor"),
        metadata(cert).replace("MII", "!!!", 1),  # not base64
        metadata(cert)
        .replace("<md:IDPSSODescriptor", "<md:SPSSODescriptor")
        .replace("</md:IDPSSODescriptor", "</md:SPSSODescriptor"),
        metadata(cert)[:-5],  # not well-formed
        metadata(cert, valid_until="someday"),
        # an entity expansion bomb (defusedxml refuses DTDs)
        '<?xml version="1.0"?><!DOCTYPE md [<!ENTITY a "aaaaaaaaaa">]>' + metadata(cert)[21:],
        "x" * 1200,
    ]
    for document in bad:
        with pytest.raises(ClientError) as exc:
            iam.create_saml_provider(Name="bad", SAMLMetadataDocument=document)
        assert code(exc) == "InvalidInput", document[:200]
        assert message(exc) == "Could not parse metadata"
    with pytest.raises(ClientError) as exc:
        iam.create_saml_provider(Name="bad name!", SAMLMetadataDocument=metadata(cert))
    assert code(exc) == "ValidationError"
    names = [e["Arn"] for e in iam.list_saml_providers()["SAMLProviderList"]]
    assert not any(n.endswith("/bad") for n in names)


def test_saml_private_keys_never_come_back(iam: Any, idp_cert: Any) -> None:
    cert, _ = idp_cert
    _, key1 = self_signed("sp1")
    _, key2 = self_signed("sp2")
    _, key3 = self_signed("sp3")
    with pytest.raises(ClientError) as exc:  # Required without a key to decrypt with
        iam.create_saml_provider(
            Name="enc", SAMLMetadataDocument=metadata(cert), AssertionEncryptionMode="Required"
        )
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        iam.create_saml_provider(Name="enc", SAMLMetadataDocument=metadata(cert), AddPrivateKey="not a key")
    assert code(exc) == "InvalidInput"
    saml_arn = iam.create_saml_provider(
        Name="enc",
        SAMLMetadataDocument=metadata(cert),
        AssertionEncryptionMode="Required",
        AddPrivateKey=pem(key1),
    )["SAMLProviderArn"]
    got = iam.get_saml_provider(SAMLProviderArn=saml_arn)
    assert got["AssertionEncryptionMode"] == "Required"
    [first] = got["PrivateKeyList"]
    assert set(first) == {"KeyId", "Timestamp"}
    assert "PRIVATE KEY" not in str(got)

    iam.update_saml_provider(SAMLProviderArn=saml_arn, AddPrivateKey=pem(key2))
    with pytest.raises(ClientError) as exc:
        iam.update_saml_provider(SAMLProviderArn=saml_arn, AddPrivateKey=pem(key3))
    assert code(exc) == "LimitExceeded"
    keys = iam.get_saml_provider(SAMLProviderArn=saml_arn)["PrivateKeyList"]
    assert len(keys) == 2 and keys[0]["KeyId"] == first["KeyId"]
    # rotation: add the new key and remove the old one in one call
    iam.update_saml_provider(
        SAMLProviderArn=saml_arn, AddPrivateKey=pem(key3), RemovePrivateKey=first["KeyId"]
    )
    keys = iam.get_saml_provider(SAMLProviderArn=saml_arn)["PrivateKeyList"]
    assert len(keys) == 2 and first["KeyId"] not in {k["KeyId"] for k in keys}
    with pytest.raises(ClientError) as exc:
        iam.update_saml_provider(SAMLProviderArn=saml_arn, RemovePrivateKey=first["KeyId"])
    assert code(exc) == "InvalidInput"
    for k in keys[:1]:
        iam.update_saml_provider(SAMLProviderArn=saml_arn, RemovePrivateKey=k["KeyId"])
    with pytest.raises(ClientError) as exc:  # the last key of a provider that requires encryption
        iam.update_saml_provider(SAMLProviderArn=saml_arn, RemovePrivateKey=keys[1]["KeyId"])
    assert code(exc) == "InvalidInput"
    iam.update_saml_provider(
        SAMLProviderArn=saml_arn, AssertionEncryptionMode="Allowed", RemovePrivateKey=keys[1]["KeyId"]
    )
    got = iam.get_saml_provider(SAMLProviderArn=saml_arn)
    assert got["AssertionEncryptionMode"] == "Allowed" and "PrivateKeyList" not in got
    iam.delete_saml_provider(SAMLProviderArn=saml_arn)


def test_saml_store_keeps_keys_sealed_and_certificates_usable(
    live: LiveServer, iam: Any, idp_cert: Any
) -> None:
    """What AssumeRoleWithSAML will read: the provider's signing certificates, and its private keys,
    which the store holds only sealed."""
    cert, _ = idp_cert
    _, key = self_signed("sp")
    saml_arn = iam.create_saml_provider(
        Name="sealed", SAMLMetadataDocument=metadata(cert), AddPrivateKey=pem(key)
    )["SAMLProviderArn"]
    runtime = live.app.rt
    with runtime.store.transaction() as tx:
        provider = tx.get_saml_provider(saml_arn)
    assert provider is not None
    assert b"PRIVATE KEY" not in provider.private_keys[0].sealed_key
    secret = pem(key).splitlines()[5].encode()  # 64 characters of the key's body
    stored = [path.read_bytes() for path in live.config.data_dir.glob("rolehop.db*")]
    assert stored and not any(secret in data for data in stored)  # not in a row, not in the trail
    assert saml_providers.signing_certificates(provider) == (cert,)
    [opened] = saml_providers.private_keys(runtime, provider)
    assert opened.private_numbers() == key.private_numbers()

    # `rolehop keys reseal` moves them to a new sealing key, so that the old one can be retired
    old_ring = runtime.ring
    old_id = key_id_of(provider.private_keys[0].sealed_key)
    assert old_id == old_ring.active_key_id and ring_keys.sealed_by(runtime)[old_id] >= 1
    new_key = Key("k-saml-test", os.urandom(32))
    runtime.ring = old_ring.with_key(new_key).promoted("k-saml-test")
    try:
        assert ring_keys.reseal_all(runtime) >= 1
        assert ring_keys.sealed_by(runtime)["k-saml-test"] >= 1
        with runtime.store.transaction() as tx:
            provider = tx.get_saml_provider(saml_arn)
        assert provider is not None and key_id_of(provider.private_keys[0].sealed_key) == "k-saml-test"
        runtime.ring = runtime.ring.without(old_id)
        [opened] = saml_providers.private_keys(runtime, provider)
        assert opened.private_numbers() == key.private_numbers()
    finally:
        runtime.ring = old_ring.with_key(new_key)  # what the reseal moved stays readable
    iam.delete_saml_provider(SAMLProviderArn=saml_arn)


def test_identity_provider_operations_are_authorized(live: LiveServer, iam: Any) -> None:
    user = iam.create_user(UserName="idp-nobody")["User"]["UserName"]
    nobody = live.client_for("iam", iam.create_access_key(UserName=user)["AccessKey"])
    oidc_arn = iam.create_open_id_connect_provider(Url="https://authz.example.com", ClientIDList=["a"])[
        "OpenIDConnectProviderArn"
    ]
    calls = [
        lambda: nobody.list_open_id_connect_providers(),
        lambda: nobody.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn),
        lambda: nobody.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn),
        lambda: nobody.create_open_id_connect_provider(Url="https://other.example.com"),
        lambda: nobody.list_saml_providers(),
    ]
    for do in calls:
        with pytest.raises(ClientError) as exc:
            do()
        assert code(exc) == "AccessDenied"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)


def test_context_provider_of_trusted_identity_propagation(iam: Any, live: LiveServer, idp_cert: Any) -> None:
    context = {
        "SubjectSourceKey": "sub",
        "KeyDefinitionList": [{"SourceKey": "email", "TargetKey": "user email"}, {"SourceKey": "groups"}],
        "SubjectTypeValue": "user",
    }
    oidc_arn = iam.create_open_id_connect_provider(
        Url="https://tip.example.com", ClientIDList=["a"], ContextProvider=context
    )["OpenIDConnectProviderArn"]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)["ContextProvider"] == context
    with pytest.raises(ClientError) as exc:
        iam.update_open_id_connect_provider(
            OpenIDConnectProviderArn=oidc_arn, ContextProvider=context, RemoveContextProvider=True
        )
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:  # rolehop serves no IAM Identity Center instance
        iam.update_open_id_connect_provider(
            OpenIDConnectProviderArn=oidc_arn,
            IdentityCenterInstanceArn="arn:aws:sso:::instance/ssoins-1234567890abcdef",
        )
    assert code(exc) == "InvalidInput"
    bad = {"SubjectSourceKey": " sub", "SubjectTypeValue": "user"}
    with pytest.raises(ClientError) as exc:
        iam.update_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ContextProvider=bad)
    assert code(exc) == "InvalidInput"
    both = {"SubjectSourceKey": "sub", "SubjectTypeValue": "user", "SubjectTypeSourceKey": "kind"}
    with pytest.raises(ClientError) as exc:
        iam.update_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, ContextProvider=both)
    assert code(exc) == "InvalidInput"
    iam.update_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn, RemoveContextProvider=True)
    assert "ContextProvider" not in iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    iam.update_open_id_connect_provider(
        OpenIDConnectProviderArn=oidc_arn, ContextProvider={"SubjectSourceKey": "oid"}
    )
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
    assert got["ContextProvider"] == {"SubjectSourceKey": "oid"}
    assert got["ClientIDList"] == ["a"]  # the rest of the provider is untouched
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)

    cert, _ = idp_cert
    saml_arn = iam.create_saml_provider(
        Name="tip", SAMLMetadataDocument=metadata(cert), ContextProvider=context
    )["SAMLProviderArn"]
    assert iam.get_saml_provider(SAMLProviderArn=saml_arn)["ContextProvider"] == context
    iam.update_saml_provider(SAMLProviderArn=saml_arn, RemoveContextProvider=True)
    assert "ContextProvider" not in iam.get_saml_provider(SAMLProviderArn=saml_arn)
    with pytest.raises(ClientError) as exc:
        iam.create_saml_provider(
            Name="tip2",
            SAMLMetadataDocument=metadata(cert),
            ContextProvider=context,
            IdentityCenterInstanceArn="arn:aws:sso:::instance/ssoins-1234567890abcdef",
        )
    assert code(exc) == "InvalidInput"
    iam.delete_saml_provider(SAMLProviderArn=saml_arn)


def test_the_aws_cli_manages_providers(live: LiveServer, iam: Any, idp_cert: Any, tmp_path: Path) -> None:
    cert, _ = idp_cert
    document = tmp_path / "metadata.xml"
    document.write_text(metadata(cert))
    done = aws_cli(
        live, tmp_path, "iam", "create-saml-provider", "--name", "cli-idp", "--saml-metadata-document",
        f"file://{document}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saml_arn = json.loads(done.stdout)["SAMLProviderArn"]
    done = aws_cli(
        live, tmp_path, "iam", "create-open-id-connect-provider", "--url", "https://cli.example.com",
        "--client-id-list", "sts.amazonaws.com", "--thumbprint-list", THUMB,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    oidc_arn = json.loads(done.stdout)["OpenIDConnectProviderArn"]
    done = aws_cli(
        live, tmp_path, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", oidc_arn
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Url"] == "cli.example.com"
    assert iam.get_saml_provider(SAMLProviderArn=saml_arn)["SAMLMetadataDocument"] == metadata(cert)
    iam.delete_saml_provider(SAMLProviderArn=saml_arn)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc_arn)
