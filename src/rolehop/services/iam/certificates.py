"""X.509 certificates: users' signing certificates (Upload/List/Update/DeleteSigningCertificate) and the
account's server certificates (Upload/Get/List/Update/DeleteServerCertificate and their tags).

Certificates are parsed with `cryptography`: a body that is no PEM certificate is
MalformedCertificate, one outside its validity period is refused (InvalidCertificate for a signing
certificate, MalformedCertificate for a server certificate, whose operation has no other code), a
server certificate's private key must match its public key (KeyPairMismatch) and each certificate of
its chain must be valid and issue the one before it. The private key is sealed with the key ring and
never returned.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from rolehop.core import arn
from rolehop.core.entities import Identity, Tag
from rolehop.core.errors import (
    DuplicateCertificate,
    InvalidCertificate,
    KeyPairMismatch,
    LimitExceeded,
    MalformedCertificate,
    NoSuchEntity,
    ValidationError,
)
from rolehop.core.ids import unique_id
from rolehop.core.keyring import key_id_of
from rolehop.services.iam.common import (
    add_tags,
    authorize_tagged,
    check_path,
    existing,
    hold,
    paginate,
    remove_tag_keys,
    request_tag_context,
    tag_shapes,
    tags_param,
)
from rolehop.services.iam.ssh_keys import check_status
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.iam_credentials import ServerCertificate, SigningCertificate
from rolehop.services.ports.store import Tx

SIGNING_CERTIFICATES_PER_USER = 2  # IAM's quota SigningCertificatesPerUser
SERVER_CERTIFICATES_PER_ACCOUNT = 20  # IAM's quota ServerCertificatesPerAccount
SERVER_CERT_PREFIX = "ASCA"
KIND = "server-certificate"  # the tags' resource kind and the ARN's resource type
KEY_PURPOSE = b"rolehop/iam-server-certificate-key/"
PEM_CERT = "-----BEGIN CERTIFICATE-----"


# --- parsing -------------------------------------------------------------------------------------


def parse_certificate(body: str) -> x509.Certificate:
    text = body.strip()
    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError as e:
        raise MalformedCertificate(
            "Unable to parse certificate. Please ensure the certificate is in PEM format."
        ) from e
    if len(certs) != 1 or not text.startswith(PEM_CERT):
        raise MalformedCertificate(
            "Unable to parse certificate. Please ensure the certificate is in PEM format."
        )
    return certs[0]


def valid_now(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(key: Any) -> bytes:
    return bytes(
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _check_chain(cert: x509.Certificate, chain_text: str, now: datetime) -> None:
    try:
        chain = x509.load_pem_x509_certificates(chain_text.strip().encode())
    except ValueError as e:
        raise MalformedCertificate(
            "Unable to parse certificate chain. Please ensure it is in PEM format."
        ) from e
    issued = cert
    for issuer in chain:
        if not valid_now(issuer, now):
            raise MalformedCertificate(
                "Unable to validate certificate chain: a certificate is not valid now."
            )
        try:
            issued.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as e:
            raise MalformedCertificate(
                "Unable to validate certificate chain. The certificate chain must start with the "
                "immediate signing certificate, followed by any intermediaries in order."
            ) from e
        issued = issuer


# --- signing certificates ------------------------------------------------------------------------


def _owner(call: Call, p: Params, action: str) -> Identity | None:
    """The user named in the request, else the caller itself (None: the account's root)."""
    name = p.get("UserName") or call.caller.user_name
    if name is None and call.caller.is_root:
        authorize(call, action, call.caller.arn)
        return None
    if name is None:
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return existing(call, "user", name, action)


def _signing_shape(cert: SigningCertificate, owner: Identity | None, call: Call) -> dict[str, Any]:
    return {
        # the root user's certificates carry the account ID as their user name, as IAM's do
        "UserName": owner.name if owner else call.caller.account_id,
        "CertificateId": cert.cert_id,
        "CertificateBody": cert.body,
        "Status": cert.status,
        "UploadDate": cert.uploaded_at,
    }


def _signing_of(call: Call, owner: Identity | None, cert_id: str) -> SigningCertificate:
    with call.runtime.store.transaction() as tx:
        certs = tx.signing_certificates_of(call.caller.account_id, owner.unique_id if owner else None)
    found = [c for c in certs if c.cert_id == cert_id]
    if not found:
        raise NoSuchEntity(f"The Certificate with id {cert_id} cannot be found.")
    return found[0]


@operation("iam", "UploadSigningCertificate")
def upload_signing_certificate(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:UploadSigningCertificate")
    parsed = parse_certificate(p["CertificateBody"])
    if not valid_now(parsed, call.now):
        raise InvalidCertificate("The certificate is not valid: it has expired or is not yet valid.")
    rt = call.runtime
    account = call.caller.account_id
    cert = SigningCertificate(
        base64.b32encode(rt.random(20)).decode(),
        account,
        owner.unique_id if owner else None,
        p["CertificateBody"].strip(),
        "Active",
        call.now,
    )
    with rt.store.transaction() as tx:
        if owner is None:
            tx.lock_account(account)
        else:
            hold(tx, owner)
        if any(_der(parse_certificate(b)) == _der(parsed) for b in tx.signing_certificate_bodies(account)):
            raise DuplicateCertificate(
                "The certificate is already associated with an IAM user in the account."
            )
        if len(tx.signing_certificates_of(account, cert.user_id)) >= SIGNING_CERTIFICATES_PER_USER:
            raise LimitExceeded(
                f"Cannot exceed quota for SigningCertificatesPerUser: {SIGNING_CERTIFICATES_PER_USER}"
            )
        tx.insert_signing_certificate(cert)
    rt.changed()
    return {"Certificate": _signing_shape(cert, owner, call)}


@operation("iam", "ListSigningCertificates")
def list_signing_certificates(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:ListSigningCertificates")
    with call.runtime.store.transaction() as tx:
        certs = tx.signing_certificates_of(call.caller.account_id, owner.unique_id if owner else None)
    page, more = paginate(certs, p, key=lambda c: c.cert_id)
    return {"Certificates": [_signing_shape(c, owner, call) for c in page], **more}


@operation("iam", "UpdateSigningCertificate")
def update_signing_certificate(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:UpdateSigningCertificate")
    status = check_status(p["Status"])
    cert = _signing_of(call, owner, p["CertificateId"])
    with call.runtime.store.transaction() as tx:
        tx.set_signing_certificate_status(cert.cert_id, status)
    call.runtime.changed()
    return {}


@operation("iam", "DeleteSigningCertificate")
def delete_signing_certificate(call: Call, p: Params) -> Result:
    owner = _owner(call, p, "iam:DeleteSigningCertificate")
    cert = _signing_of(call, owner, p["CertificateId"])
    with call.runtime.store.transaction() as tx:
        tx.delete_signing_certificate(cert.cert_id)
    call.runtime.changed()
    return {}


# --- server certificates -------------------------------------------------------------------------


def _server_metadata(cert: ServerCertificate) -> dict[str, Any]:
    return {
        "Path": cert.path,
        "ServerCertificateName": cert.name,
        "ServerCertificateId": cert.cert_id,
        "Arn": cert.arn,
        "UploadDate": cert.uploaded_at,
        "Expiration": cert.expires_at,
    }


def _existing_server(
    call: Call, name: str, action: str, context: dict[str, str | list[str]] | None = None
) -> ServerCertificate:
    """Authorize `action` on the certificate's ARN (its tags as aws:ResourceTag/…), then return it."""
    account = call.caller.account_id
    with call.runtime.store.transaction() as tx:
        found = tx.get_server_certificate(account, name)
        tags = tx.tags_of(KIND, found.cert_id) if found else []
    authorize_tagged(
        call, action, found.arn if found else arn.iam_arn(account, KIND, "/", name), tags, context
    )
    if found is None:
        raise NoSuchEntity(f"The Server Certificate with name {name} cannot be found.")
    return found


def _still_there(tx: Tx, cert: ServerCertificate) -> None:
    if tx.get_server_certificate(cert.account_id, cert.name) is None:
        raise NoSuchEntity(f"The Server Certificate with name {cert.name} cannot be found.")


@operation("iam", "UploadServerCertificate")
def upload_server_certificate(call: Call, p: Params) -> Result:
    path = check_path(p.get("Path"))
    name = p["ServerCertificateName"]
    tags = tags_param(p)
    account = call.caller.account_id
    authorize(
        call,
        "iam:UploadServerCertificate",
        arn.iam_arn(account, KIND, path, name),
        context=request_tag_context(tags),
    )
    body = parse_certificate(p["CertificateBody"])
    if not valid_now(body, call.now):
        raise MalformedCertificate("The certificate is not valid: it has expired or is not yet valid.")
    try:
        private_key = serialization.load_pem_private_key(p["PrivateKey"].strip().encode(), password=None)
    except (ValueError, TypeError) as e:
        raise MalformedCertificate(
            "Unable to parse the private key. It must be an unencrypted PEM key."
        ) from e
    if _spki(private_key.public_key()) != _spki(body.public_key()):
        raise KeyPairMismatch(
            "Unable to validate certificate or private key: the key does not match the certificate."
        )
    chain = p.get("CertificateChain")
    if chain:
        _check_chain(body, chain, call.now)
    rt = call.runtime
    cert_id = unique_id(SERVER_CERT_PREFIX, rt.random(11))
    sealed = rt.ring.seal(
        p["PrivateKey"].strip().encode(), purpose=KEY_PURPOSE + cert_id.encode(), nonce=rt.random(12)
    )
    cert = ServerCertificate(
        cert_id,
        account,
        name,
        path,
        p["CertificateBody"].strip(),
        chain.strip() if chain else None,
        sealed,
        call.now,
        body.not_valid_after_utc,
    )
    with rt.store.transaction() as tx:
        tx.lock_account(account)  # the quota is counted one writer at a time
        if len(tx.list_server_certificates(account)) >= SERVER_CERTIFICATES_PER_ACCOUNT:
            raise LimitExceeded(
                f"Cannot exceed quota for ServerCertificatesPerAccount: {SERVER_CERTIFICATES_PER_ACCOUNT}"
            )
        tx.insert_server_certificate(cert)
        add_tags(tx, KIND, cert.cert_id, tags)
    rt.changed()
    result: dict[str, Any] = {"ServerCertificateMetadata": _server_metadata(cert)}
    if tags:
        result["Tags"] = tag_shapes(tags)
    return result


@operation("iam", "GetServerCertificate")
def get_server_certificate(call: Call, p: Params) -> Result:
    cert = _existing_server(call, p["ServerCertificateName"], "iam:GetServerCertificate")
    with call.runtime.store.transaction() as tx:
        tags = tx.tags_of(KIND, cert.cert_id)
    shape: dict[str, Any] = {
        "ServerCertificateMetadata": _server_metadata(cert),
        "CertificateBody": cert.body,
    }
    if cert.chain:
        shape["CertificateChain"] = cert.chain
    shape["Tags"] = tag_shapes(tags)
    return {"ServerCertificate": shape}


@operation("iam", "ListServerCertificates")
def list_server_certificates(call: Call, p: Params) -> Result:
    prefix = p.get("PathPrefix") or "/"
    if not prefix.startswith("/"):
        raise ValidationError("The specified value for pathPrefix is invalid. It must begin with /.")
    account = call.caller.account_id
    authorize(call, "iam:ListServerCertificates", arn.iam_arn(account, KIND, "/", "*"))
    with call.runtime.store.transaction() as tx:
        certs = [c for c in tx.list_server_certificates(account) if c.path.startswith(prefix)]
    certs.sort(key=lambda c: c.name.lower())
    page, more = paginate(certs, p, key=lambda c: c.name.lower())
    return {"ServerCertificateMetadataList": [_server_metadata(c) for c in page], **more}


@operation("iam", "UpdateServerCertificate")
def update_server_certificate(call: Call, p: Params) -> Result:
    action = "iam:UpdateServerCertificate"
    cert = _existing_server(call, p["ServerCertificateName"], action)
    new_name = p.get("NewServerCertificateName") or cert.name
    new_path = check_path(p.get("NewPath") or cert.path)
    if (new_name, new_path) != (cert.name, cert.path):
        # renaming is allowed on both the old ARN and the new one, as IAM requires
        authorize(call, action, arn.iam_arn(cert.account_id, KIND, new_path, new_name))
        with call.runtime.store.transaction() as tx:
            _still_there(tx, cert)
            tx.rename_server_certificate(cert.cert_id, new_name, new_path)
        call.runtime.changed()
    return {}


@operation("iam", "DeleteServerCertificate")
def delete_server_certificate(call: Call, p: Params) -> Result:
    cert = _existing_server(call, p["ServerCertificateName"], "iam:DeleteServerCertificate")
    with call.runtime.store.transaction() as tx:
        tx.delete_server_certificate(cert.cert_id)
    call.runtime.changed()
    return {}


@operation("iam", "TagServerCertificate")
def tag_server_certificate(call: Call, p: Params) -> Result:
    tags = tags_param(p)
    cert = _existing_server(
        call, p["ServerCertificateName"], "iam:TagServerCertificate", request_tag_context(tags)
    )
    with call.runtime.store.transaction() as tx:
        _still_there(tx, cert)
        add_tags(tx, KIND, cert.cert_id, tags)
    call.runtime.changed()
    return {}


@operation("iam", "UntagServerCertificate")
def untag_server_certificate(call: Call, p: Params) -> Result:
    keys: list[str] = list(p["TagKeys"])
    cert = _existing_server(
        call, p["ServerCertificateName"], "iam:UntagServerCertificate", {"aws:TagKeys": keys}
    )
    with call.runtime.store.transaction() as tx:
        remove_tag_keys(tx, KIND, cert.cert_id, keys)
    call.runtime.changed()
    return {}


@operation("iam", "ListServerCertificateTags")
def list_server_certificate_tags(call: Call, p: Params) -> Result:
    cert = _existing_server(call, p["ServerCertificateName"], "iam:ListServerCertificateTags")
    with call.runtime.store.transaction() as tx:
        tags: list[Tag] = sorted(tx.tags_of(KIND, cert.cert_id), key=lambda t: t.key)
    page, more = paginate(tags, p, key=lambda t: t.key)
    return {"Tags": tag_shapes(page), **more}


# --- the key ring --------------------------------------------------------------------------------


def stored_server_certificates(tx: Tx) -> list[ServerCertificate]:
    """Every account's server certificates (`rolehop keys`: what the ring seals)."""
    return [c for account in tx.list_accounts() for c in tx.list_server_certificates(account.account_id)]


def open_private_key(rt: Runtime, cert: ServerCertificate) -> bytes:
    """The private key's PEM (never returned by the API: the key ring's reseal reads it)."""
    _kid, pem = rt.ring.open(cert.sealed_private_key, purpose=KEY_PURPOSE + cert.cert_id.encode())
    return pem


def reseal_server_certificates(rt: Runtime, tx: Tx) -> int:
    """Re-seals with the ring's sealing key every private key another key sealed; returns how many."""
    moved = 0
    for cert in stored_server_certificates(tx):
        if key_id_of(cert.sealed_private_key) != rt.ring.active_key_id:
            purpose = KEY_PURPOSE + cert.cert_id.encode()
            sealed = rt.ring.seal(open_private_key(rt, cert), purpose=purpose, nonce=rt.random(12))
            tx.reseal_server_certificate_key(cert.cert_id, sealed)
            moved += 1
    return moved
