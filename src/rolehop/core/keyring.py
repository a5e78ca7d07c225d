"""A rotating key ring for sealing secrets at rest and session tokens (AES-256-GCM).

Sealed blob layout: version byte (1) | key id length (1) | key id | 12-byte nonce | ciphertext+tag.
One key seals; every key in the ring opens, so adding a key never breaks live sessions. A rotation
across nodes is add (every node learns to open the new key), promote (it becomes the sealing key),
reseal (stored secrets move to it), retire (the old key leaves the ring). Nonces are supplied by
the caller (the core draws no randomness).
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
    def __init__(self, keys: list[Key], *, sealing: str | None = None) -> None:
        """`sealing` names the key that seals; by default the newest (last) one."""
        if not keys:
            raise ValueError("a key ring needs at least one key")
        for k in keys:
            if len(k.material) != 32 or not 0 < len(k.key_id.encode()) < 256:
                raise ValueError("keys are 32 bytes with a short id")
        self._keys = {k.key_id: k for k in keys}
        if len(self._keys) != len(keys):
            raise ValueError("key ids must be unique")
        if sealing is not None and sealing not in self._keys:
            raise ValueError(f"the sealing key {sealing!r} is not in the ring")
        self._active = self._keys[sealing] if sealing is not None else keys[-1]
        self._aead = {k.key_id: AESGCM(k.material) for k in keys}

    @property
    def active_key_id(self) -> str:
        """The key that seals."""
        return self._active.key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key that opens, oldest first."""
        return tuple(self._keys)

    def with_key(self, key: Key) -> KeyRing:
        """This ring plus `key`, which opens but does not seal yet."""
        return KeyRing([*self._keys.values(), key], sealing=self._active.key_id)

    def promoted(self, key_id: str) -> KeyRing:
        """This ring with `key_id` sealing from now on."""
        return KeyRing(list(self._keys.values()), sealing=key_id)

    def without(self, key_id: str) -> KeyRing:
        """This ring without `key_id`; what it sealed no longer opens. The sealing key cannot go."""
        if key_id == self._active.key_id:
            raise ValueError(f"{key_id} seals: promote another key first")
        if key_id not in self._keys:
            raise ValueError(f"{key_id} is not in the ring")
        return KeyRing([k for k in self._keys.values() if k.key_id != key_id], sealing=self._active.key_id)

    def to_text(self) -> str:
        """The key file's form (secret material: write it 0600, never log it)."""
        return "".join(
            key_line(k.key_id, k.material, seals=k.key_id == self._active.key_id) + "\n"
            for k in self._keys.values()
        )

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
    """Key file / ROLEHOP_MASTER_KEY format: JSON lines {"id": …, "key": base64(32 bytes)}, oldest
    first, the sealing one marked "seals": true (without a mark, the newest seals); a bare base64 key
    is accepted as a one-key ring with id "k0"."""
    keys: list[Key] = []
    sealing: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            entry = json.loads(line)
            keys.append(Key(str(entry["id"]), base64.b64decode(entry["key"])))
            if entry.get("seals"):
                sealing.append(str(entry["id"]))
        else:
            keys.append(Key("k0", base64.b64decode(line)))
    if len(sealing) > 1:
        raise ValueError(f"more than one key seals: {', '.join(sealing)}")
    return KeyRing(keys, sealing=sealing[0] if sealing else None)


def key_line(key_id: str, material: bytes, *, seals: bool = False) -> str:
    entry: dict[str, object] = {"id": key_id, "key": base64.b64encode(material).decode()}
    if seals:
        entry["seals"] = True
    return json.dumps(entry)


def key_id_of(blob: bytes) -> str | None:
    """The id of the key that sealed `blob` (from its header), or None if it is not a sealed blob."""
    if len(blob) < 2 or blob[0] != SEAL_VERSION or len(blob) < 2 + blob[1]:
        return None
    return blob[2 : 2 + blob[1]].decode("utf-8", "replace")
