"""SSH public keys of IAM users (for CodeCommit): UploadSSHPublicKey, GetSSHPublicKey,
ListSSHPublicKeys, UpdateSSHPublicKey, DeleteSSHPublicKey.

As AWS: RSA keys only, in OpenSSH (`ssh-rsa AAAA…`) or PEM format, at least 2048 bits; at most five
per user; the fingerprint is the MD5 digest of the key as OpenSSH encodes it, colon-separated (what
`ssh-keygen -l -E md5` prints; docs/decisions.md).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from rolehop.core.entities import Identity
from rolehop.core.errors import (
    DuplicateSSHPublicKey,
    InvalidInput,
    InvalidPublicKey,
    LimitExceeded,
    NoSuchEntity,
    UnrecognizedPublicKeyEncoding,
)
from rolehop.core.ids import unique_id
from rolehop.services.iam.common import existing, hold, paginate
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.iam_credentials import SshPublicKey

SSH_KEY_PREFIX = "APKA"
KEYS_PER_USER = 5  # IAM's quota SSHPublicKeysPerUser
MIN_BITS = 2048


def parse_public_key(body: str) -> rsa.RSAPublicKey:
    """The RSA key of an OpenSSH `ssh-rsa` line or a PEM public key. Anything else is
    UnrecognizedPublicKeyEncoding; a recognized but broken or short key is InvalidPublicKey."""
    text = body.strip()
    key: PublicKeyTypes
    if text.startswith("-----BEGIN"):
        if not text.startswith(("-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----")):
            raise UnrecognizedPublicKeyEncoding(
                "The public key encoding format is unsupported or unrecognized."
            )
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError) as e:
            raise InvalidPublicKey("The public key is malformed or otherwise invalid.") from e
    elif text.startswith("ssh-rsa "):
        try:
            key = serialization.load_ssh_public_key(text.encode())
        except (ValueError, TypeError) as e:
            raise InvalidPublicKey("The public key is malformed or otherwise invalid.") from e
    else:
        raise UnrecognizedPublicKeyEncoding("The public key encoding format is unsupported or unrecognized.")
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnrecognizedPublicKeyEncoding("The public key encoding format is unsupported or unrecognized.")
    if key.key_size < MIN_BITS:
        raise InvalidPublicKey(f"The public key must be an RSA key of at least {MIN_BITS} bits.")
    return key


def _openssh(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)


def fingerprint(key: rsa.RSAPublicKey) -> str:
    blob = base64.b64decode(_openssh(key).split()[1])
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def check_status(status: str) -> str:
    """Only Active and Inactive can be set (Expired is a state IAM reaches itself)."""
    if status not in ("Active", "Inactive"):
        raise InvalidInput(f"Invalid status {status}: it must be Active or Inactive.")
    return status


def _metadata(key: SshPublicKey, user: Identity) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "SSHPublicKeyId": key.key_id,
        "Status": key.status,
        "UploadDate": key.uploaded_at,
    }


def _full(key: SshPublicKey, user: Identity, encoding: str = "SSH") -> dict[str, Any]:
    parsed = parse_public_key(key.body)
    if encoding == "PEM":
        body = parsed.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    else:
        body = _openssh(parsed).decode()
    return {
        "UserName": user.name,
        "SSHPublicKeyId": key.key_id,
        "Fingerprint": key.fingerprint,
        "SSHPublicKeyBody": body,
        "Status": key.status,
        "UploadDate": key.uploaded_at,
    }


def _key_of(call: Call, user: Identity, key_id: str) -> SshPublicKey:
    with call.runtime.store.transaction() as tx:
        found = [k for k in tx.ssh_keys_of(user.unique_id) if k.key_id == key_id]
    if not found:
        raise NoSuchEntity(f"The Public Key with id {key_id} cannot be found.")
    return found[0]


@operation("iam", "UploadSSHPublicKey")
def upload_ssh_public_key(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:UploadSSHPublicKey")
    parsed = parse_public_key(p["SSHPublicKeyBody"])
    rt = call.runtime
    key = SshPublicKey(
        unique_id(SSH_KEY_PREFIX, rt.random(11))[:20],  # 20 characters, as AWS's APKA… IDs
        user.account_id,
        user.unique_id,
        p["SSHPublicKeyBody"].strip(),
        fingerprint(parsed),
        "Active",
        call.now,
    )
    with rt.store.transaction() as tx:
        hold(tx, user)  # concurrent uploads count each other; DeleteUser waits
        keys = tx.ssh_keys_of(user.unique_id)
        if any(k.fingerprint == key.fingerprint for k in keys):
            raise DuplicateSSHPublicKey(
                "The SSH public key is already associated with the specified IAM user."
            )
        if len(keys) >= KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for PublicKeysPerUser: {KEYS_PER_USER}")
        tx.insert_ssh_key(key)
    rt.changed()
    return {"SSHPublicKey": _full(key, user)}


@operation("iam", "GetSSHPublicKey")
def get_ssh_public_key(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:GetSSHPublicKey")
    key = _key_of(call, user, p["SSHPublicKeyId"])
    return {"SSHPublicKey": _full(key, user, p["Encoding"])}


@operation("iam", "ListSSHPublicKeys")
def list_ssh_public_keys(call: Call, p: Params) -> Result:
    name = p.get("UserName") or call.caller.user_name
    if name is None:
        # the account's root user (or a role) has no SSH keys: AWS answers an empty list
        authorize(call, "iam:ListSSHPublicKeys", call.caller.arn)
        return {"SSHPublicKeys": [], "IsTruncated": False}
    user = existing(call, "user", name, "iam:ListSSHPublicKeys")
    with call.runtime.store.transaction() as tx:
        keys = tx.ssh_keys_of(user.unique_id)
    page, more = paginate(keys, p, key=lambda k: k.key_id)
    return {"SSHPublicKeys": [_metadata(k, user) for k in page], **more}


@operation("iam", "UpdateSSHPublicKey")
def update_ssh_public_key(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:UpdateSSHPublicKey")
    key = _key_of(call, user, p["SSHPublicKeyId"])
    with call.runtime.store.transaction() as tx:
        tx.set_ssh_key_status(key.key_id, check_status(p["Status"]))
    call.runtime.changed()
    return {}


@operation("iam", "DeleteSSHPublicKey")
def delete_ssh_public_key(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:DeleteSSHPublicKey")
    key = _key_of(call, user, p["SSHPublicKeyId"])
    with call.runtime.store.transaction() as tx:
        tx.delete_ssh_key(key.key_id)
    call.runtime.changed()
    return {}
