"""The audit trail's hash chain and its verification, over chains built in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from rolehop.core.trail_chain import (
    GENESIS,
    ChainCheck,
    Entry,
    SignedDigest,
    canonical,
    digest_payload,
    key_id,
    link,
    parse_public_key,
    public_key_of,
    public_pem,
    sign,
    signature_valid,
)

CHAIN = "c0ffee"
PRIVATE = bytes(range(32))
PUBLIC = public_key_of(PRIVATE)
KEYS = {key_id(PUBLIC): PUBLIC}
T0 = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def fields(seq: int) -> dict[str, object]:
    return {
        "event_id": f"ev-{seq}",
        "request_id": f"req-{seq}",
        "event_time": (T0 + timedelta(seconds=seq)).isoformat(),
        "event_name": "CreateUser" if seq % 2 else "ListUsers",
        "record": canonical({"eventName": "CreateUser", "n": seq}),
        "resources": [["AWS::IAM::User", f"user-{seq}"]],
    }


def chain(n: int, start: int = 1, prev: str = GENESIS) -> list[Entry]:
    out = []
    for seq in range(start, start + n):
        f = fields(seq)
        this = link(prev, CHAIN, seq, f)
        out.append(Entry(seq, prev, this, f))
        prev = this
    return out


def digests(entries: Sequence[Entry], ends: Sequence[int], private: bytes = PRIVATE) -> list[SignedDigest]:
    by_seq = {e.seq: e for e in entries}
    out: list[SignedDigest] = []
    start, before = 1, ""
    for i, end in enumerate(ends):
        at = T0 + timedelta(minutes=i + 1)
        last = by_seq[end].hash
        signature = sign(private, digest_payload(CHAIN, start, end, last, at, before))
        out.append(SignedDigest(start, end, last, at, key_id(public_key_of(private)), before, signature))
        start, before = end + 1, signature
    return out


def check(
    entries: Sequence[Entry],
    signed: Sequence[SignedDigest],
    *,
    head: tuple[int, str] | None = None,
    keys: dict[str, bytes] | None = None,
) -> ChainCheck:
    c = ChainCheck(CHAIN, signed, KEYS if keys is None else keys, head=head)
    c.feed(entries[:4])  # in pages, as verify reads them
    c.feed(entries[4:])
    c.finish()
    return c


def kinds(c: ChainCheck) -> list[tuple[str, int | None]]:
    return [(f.kind, f.seq) for f in c.findings]


# links and digests


def test_a_link_covers_the_previous_link_the_chain_the_position_and_every_field() -> None:
    base = link(GENESIS, CHAIN, 1, fields(1))
    assert base == link(GENESIS, CHAIN, 1, dict(reversed(list(fields(1).items()))))  # canonical: key order
    assert link("1" * 64, CHAIN, 1, fields(1)) != base
    assert link(GENESIS, "other", 1, fields(1)) != base
    assert link(GENESIS, CHAIN, 2, fields(1)) != base
    for name in fields(1):
        changed = {**fields(1), name: "x"}
        assert link(GENESIS, CHAIN, 1, changed) != base, name


def test_a_digest_payload_covers_every_field_and_its_signature_verifies_with_the_public_key_only() -> None:
    args = (CHAIN, 1, 9, "a" * 64, T0, "")
    payload = digest_payload(*args)
    variants = [
        ("other", 1, 9, "a" * 64, T0, ""),
        (CHAIN, 2, 9, "a" * 64, T0, ""),
        (CHAIN, 1, 8, "a" * 64, T0, ""),
        (CHAIN, 1, 9, "b" * 64, T0, ""),
        (CHAIN, 1, 9, "a" * 64, T0 + timedelta(seconds=1), ""),
        (CHAIN, 1, 9, "a" * 64, T0, "ab"),
    ]
    for other in variants:
        assert digest_payload(*other) != payload
    signature = sign(PRIVATE, payload)
    assert signature_valid(PUBLIC, payload, signature)
    assert not signature_valid(PUBLIC, digest_payload(*variants[3]), signature)
    assert not signature_valid(public_key_of(bytes(32)), payload, signature)
    assert not signature_valid(PUBLIC, payload, "not hex")
    assert not signature_valid(PUBLIC, payload, signature[:-2])


def test_public_keys_parse_from_hex_and_pem_and_nothing_else() -> None:
    assert parse_public_key(PUBLIC.hex()) == PUBLIC
    assert parse_public_key(f"  {PUBLIC.hex().upper()}\n") == PUBLIC
    assert parse_public_key(public_pem(PUBLIC)) == PUBLIC
    assert len(key_id(PUBLIC)) == 16
    garbled_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    for bad in ("", "abc", PUBLIC.hex()[:-2], "zz" * 32, garbled_pem):
        with pytest.raises(ValueError):
            parse_public_key(bad)


# verification


def test_an_intact_chain_verifies_and_its_unsigned_tail_is_counted() -> None:
    entries = chain(10)
    c = check(entries, digests(entries, [4, 8]), head=(10, entries[-1].hash))
    assert c.ok, c.findings
    assert (c.events, c.digested_through, c.unsigned, c.pruned_through) == (10, 8, 2, 0)


def test_an_altered_event_is_named() -> None:
    entries = chain(10)
    entries[4] = dataclasses.replace(entries[4], fields={**entries[4].fields, "record": "{}"})
    c = check(entries, digests(entries, [8]))
    assert kinds(c) == [("altered", 5)]
    assert c.findings[0].event_id == "ev-5" and c.findings[0].request_id == "req-5"


def test_a_removed_event_is_named_by_its_place() -> None:
    entries = chain(10)
    del entries[3]
    c = check(entries, digests(chain(10), [8]))
    assert kinds(c) == [("removed", 4)]
    how = c.findings[0].how
    assert "seq 4 is missing" in how and "ev-3" in how and "ev-5" in how


@pytest.mark.parametrize("with_links", [True, False], ids=["rows-swapped", "contents-swapped"])
def test_a_swapped_pair_is_reordered(with_links: bool) -> None:
    entries = chain(10)
    a, b = entries[5], entries[6]
    if with_links:  # the seqs swapped: each row keeps its own links
        entries[5], entries[6] = dataclasses.replace(b, seq=6), dataclasses.replace(a, seq=7)
    else:  # only the contents swapped: the links stay in place
        entries[5] = dataclasses.replace(a, fields=b.fields)
        entries[6] = dataclasses.replace(b, fields=a.fields)
    c = check(entries, digests(chain(10), [9]))
    assert [f.kind for f in c.findings] == ["reordered"]
    assert "ev-6" in c.findings[0].how and "ev-7" in c.findings[0].how


def test_a_cut_off_end_is_caught_by_the_last_digest_or_else_by_the_head() -> None:
    entries = chain(10)
    signed = digests(entries, [4, 8])
    c = check(entries[:6], signed, head=(10, entries[-1].hash))
    assert kinds(c) == [("cut-off", 7)] and "seq 7..8" in c.findings[0].how
    c = check(entries[:9], signed, head=(10, entries[-1].hash))  # past the last digest: the head row
    assert kinds(c) == [("cut-off", 10)]
    assert check(entries[:9], signed).ok  # without the head row, an unsigned tail cannot be missed


def test_a_pruned_start_verifies_only_where_a_digest_ends() -> None:
    entries = chain(10)
    signed = digests(entries, [4, 8])
    c = check(entries[4:], signed)  # events 1..4 pruned; the digest ending at 4 is their anchor
    assert c.ok and c.pruned_through == 4
    c = check(entries[8:], signed[1:])  # pruned through 8, with the digests before its anchor
    assert c.ok and c.pruned_through == 8 and c.unsigned == 2
    c = check(entries[3:], signed)  # cut at 3, where no digest ends: not a prune's doing
    assert kinds(c) == [("removed", 1)]
    c = check(entries[4:], signed[1:])  # the anchor itself is gone
    assert kinds(c) == [("removed", 1), ("digest", 8)]


def test_a_fully_pruned_chain_verifies_against_its_head() -> None:
    entries = chain(8)
    signed = digests(entries, [4, 8])
    assert check([], signed[1:], head=(8, entries[-1].hash)).ok
    assert kinds(check([], signed[1:], head=(9, "f" * 64))) == [("cut-off", 9)]


def test_forged_altered_or_missing_digests_fail() -> None:
    entries = chain(10)
    signed = digests(entries, [3, 6, 9])
    forged = dataclasses.replace(signed[1], last_hash="e" * 64)
    assert ("digest", 6) in kinds(check(entries, [signed[0], forged, signed[2]]))
    assert kinds(check(entries, [signed[0], signed[2]])) == [("digest", 9), ("digest", 9)]
    other = bytes([7] * 32)
    c = check(entries, digests(entries, [3, 6, 9], private=other))  # signed with a key nobody trusts
    assert [k for k, _ in kinds(c)] == ["digest"] * 3
    assert "not in the store" in c.findings[0].how
    c = check(entries, signed, keys={key_id(PUBLIC): public_key_of(other)})  # its ID, another key
    assert [k for k, _ in kinds(c)] == ["digest"] * 3


def test_events_rewritten_with_their_links_recomputed_fail_at_the_digest() -> None:
    signed = digests(chain(10), [5, 10])
    rewritten = chain(2)
    prev = rewritten[-1].hash
    for seq in range(3, 11):  # seq 3 altered, every link after it recomputed (no key: the digests stay)
        f = {**fields(3), "record": "{}"} if seq == 3 else fields(seq)
        this = link(prev, CHAIN, seq, f)
        rewritten.append(Entry(seq, prev, this, f))
        prev = this
    c = check(rewritten, signed)
    assert kinds(c) == [("altered", 5), ("altered", 10)]
    assert "seq 1..5 was rewritten" in c.findings[0].how
