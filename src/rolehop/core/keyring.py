"""A rotating key ring for sealing secrets at rest and session tokens (AES-256-GCM).

Sealed blob layout: version byte (1) | key id length (1) | key id | 12-byte nonce | ciphertext+tag.
The newest key seals; every key in the ring opens, so adding a key never breaks live sessions.
Nonces are supplied by the caller (the core draws no randomness).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEAL_VERSION = 1
NONCE_BYTES = 12


class UnsealError(Exception):
    """The blob was not sealed by this ring (unknown key, tampered, truncated or wrong purpose)."""


@dataclass(frozen=True)
class Key:
    key_id: str
    material: bytes

    def __repr__(self) -> str:  # never show key material
        return f"Key({self.key_id!r}, <{len(self.material)} bytes>)"


class KeyRing:
    def __init__(self, keys: list[Key]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        for k in keys:
            if len(k.material) != 32 or not 0 < len(k.key_id.encode()) < 256:
                raise ValueError("keys are 32 bytes with a short id")
        self._keys = {k.key_id: k for k in keys}
        self._active = keys[-1]
        self._aead = {k.key_id: AESGCM(k.material) for k in keys}

    @property
    def active_key_id(self) -> str:
        return self._active.key_id

    def __repr__(self) -> str:
        return f"KeyRing(active={self._active.key_id!r}, keys={len(self._keys)})"

    def seal(self, plaintext: bytes, *, purpose: bytes, nonce: bytes) -> bytes:
        if len(nonce) != NONCE_BYTES:
            raise ValueError("nonce must be 12 bytes")
        kid = self._active.key_id.encode()
        header = bytes([SEAL_VERSION, len(kid)]) + kid
        return header + nonce + self._aead[self._active.key_id].encrypt(nonce, plaintext, header + purpose)

    def open(self, blob: bytes, *, purpose: bytes) -> tuple[str, bytes]:
        """Returns (key id, plaintext). `purpose` binds a blob to its use: a sealed secret is no token."""
        if len(blob) < 2 or blob[0] != SEAL_VERSION:
            raise UnsealError("unknown format")
        end = 2 + blob[1]
        kid = blob[2:end].decode("utf-8", "replace")
        aead = self._aead.get(kid)
        if aead is None or len(blob) < end + NONCE_BYTES + 16:
            raise UnsealError("unknown key or truncated")
        nonce = blob[end : end + NONCE_BYTES]
        try:
            return kid, aead.decrypt(nonce, blob[end + NONCE_BYTES :], blob[:end] + purpose)
        except InvalidTag as e:
            raise UnsealError("tampered") from e

    def derive(self, key_id: str, label: bytes) -> bytes:
        """A deterministic HMAC-SHA256 value under one key of the ring (e.g. temporary secrets)."""
        key = self._keys.get(key_id)
        if key is None:
            raise UnsealError("unknown key")
        return hmac.new(key.material, label, hashlib.sha256).digest()


def keyring_from_text(text: str) -> KeyRing:
    """Key file / ROLEHOP_MASTER_KEY format: JSON lines {"id": …, "key": base64(32 bytes)}, newest last;
    a bare base64 key is accepted as a one-key ring with id "k0"."""
    keys: list[Key] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            entry = json.loads(line)
            keys.append(Key(str(entry["id"]), base64.b64decode(entry["key"])))
        else:
            keys.append(Key("k0", base64.b64decode(line)))
    return KeyRing(keys)


def key_line(key_id: str, material: bytes) -> str:
    return json.dumps({"id": key_id, "key": base64.b64encode(material).decode()})
