"""The key ring: one key seals, every key opens; add, promote and retire keep what was sealed
openable until its key leaves; the key file round-trips and never shows material."""

from __future__ import annotations

import pytest

from rolehop.core.keyring import Key, KeyRing, UnsealError, key_id_of, keyring_from_text

PURPOSE = b"test/"
NONCE = bytes(12)


def key(kid: str, byte: int) -> Key:
    return Key(kid, bytes([byte]) * 32)


def test_the_newest_key_seals_unless_one_is_marked() -> None:
    assert KeyRing([key("k1", 1), key("k2", 2)]).active_key_id == "k2"
    assert KeyRing([key("k1", 1), key("k2", 2)], sealing="k1").active_key_id == "k1"
    with pytest.raises(ValueError, match="not in the ring"):
        KeyRing([key("k1", 1)], sealing="k9")
    with pytest.raises(ValueError, match="unique"):
        KeyRing([key("k1", 1), key("k1", 2)])


def test_an_added_key_opens_but_does_not_seal_until_promoted() -> None:
    old = KeyRing([key("k1", 1)])
    sealed_by_old = old.seal(b"secret", purpose=PURPOSE, nonce=NONCE)
    added = old.with_key(key("k2", 2))
    assert added.active_key_id == "k1" and added.key_ids == ("k1", "k2")
    promoted = added.promoted("k2")
    sealed_by_new = promoted.seal(b"secret", purpose=PURPOSE, nonce=NONCE)
    assert key_id_of(sealed_by_new) == "k2" and key_id_of(sealed_by_old) == "k1"
    assert added.open(sealed_by_new, purpose=PURPOSE) == ("k2", b"secret")  # a node not yet promoted
    assert promoted.open(sealed_by_old, purpose=PURPOSE) == ("k1", b"secret")  # live sessions survive
    retired = promoted.without("k1")
    with pytest.raises(UnsealError):
        retired.open(sealed_by_old, purpose=PURPOSE)
    with pytest.raises(ValueError, match="promote another key first"):
        promoted.without("k2")


def test_the_key_file_round_trips_with_its_sealing_mark() -> None:
    ring = KeyRing([key("k1", 1), key("k2", 2), key("k3", 3)], sealing="k2")
    again = keyring_from_text(ring.to_text())
    assert (again.key_ids, again.active_key_id) == (("k1", "k2", "k3"), "k2")
    assert repr(again) == "KeyRing(active='k2', keys=3)"
    with pytest.raises(ValueError, match="more than one key seals"):
        keyring_from_text(ring.to_text().replace('"k1", "key"', '"k1", "seals": true, "key"'))


def test_key_id_of_reads_only_sealed_blobs() -> None:
    assert key_id_of(b"") is None and key_id_of(b"\x07abc") is None and key_id_of(b"\x01\x09ab") is None
