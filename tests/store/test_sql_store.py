"""The storage port's contract, on every supported database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from rolehop.core.entities import (
    AccessKey,
    Account,
    Identity,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    Tag,
)
from rolehop.core.errors import EntityAlreadyExists
from rolehop.store.engine import downgrade, make_engine, migrate
from rolehop.store.schema import metadata
from rolehop.store.sql import SqlStore

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = Account("111122223333", "main", "m@example.com", NOW, is_management=True)


def _user(name: str, uid: str = "AIDAEXAMPLE000000001") -> Identity:
    return Identity("user", uid, ACCOUNT.account_id, name, "/", NOW)


def test_identities_round_trip_and_names_ignore_case(store_url: str) -> None:
    store = SqlStore(store_url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
        tx.insert_identity(_user("Alice"))
    with store.transaction() as tx:
        got = tx.get_identity("user", ACCOUNT.account_id, "alice")
        assert got == _user("Alice")
        assert got is not None and got.created_at.tzinfo is not None
    with pytest.raises(EntityAlreadyExists), store.transaction() as tx:
        tx.insert_identity(_user("ALICE", "AIDAEXAMPLE000000002"))
    with store.transaction() as tx:
        assert [u.name for u in tx.list_identities("user", ACCOUNT.account_id)] == ["Alice"]
    store.close()


def test_failed_transaction_changes_nothing(store_url: str) -> None:
    store = SqlStore(store_url)
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert_identity(_user("bob"))
        raise RuntimeError("boom")
    with store.transaction() as tx:
        assert tx.get_identity("user", ACCOUNT.account_id, "bob") is None
    store.close()


def test_policies_attachments_inline_keys_tags_and_cascade(store_url: str) -> None:
    store = SqlStore(store_url)
    policy = ManagedPolicy(
        "ANPAEXAMPLE000000001", "arn:aws:iam::111122223333:policy/p", "111122223333", "p", "/", "v1", NOW, NOW
    )
    user = _user("carol")
    with store.transaction() as tx:
        tx.put_account(ACCOUNT)
        tx.insert_identity(user)
        tx.insert_policy(policy, PolicyVersion(policy.policy_id, "v1", "{}", NOW))
        tx.insert_version(PolicyVersion(policy.policy_id, "v2", '{"a": 1}', NOW))
        tx.attach(policy.policy_id, "user", user.unique_id)
        tx.attach(policy.policy_id, "user", user.unique_id)  # attaching twice is one attachment
        tx.put_inline(InlinePolicy("user", user.unique_id, "inline", "{}"))
        tx.insert_key(
            AccessKey("AKIAEXAMPLE000000001", ACCOUNT.account_id, user.unique_id, b"sealed", "Active", NOW)
        )
        tx.set_tags("user", user.unique_id, [Tag("team", "a")])
    with store.transaction() as tx:
        got = tx.get_policy(policy.arn)
        assert got is not None and got.attachment_count == 1
        assert [v.version_id for v in tx.list_versions(policy.policy_id)] == ["v2", "v1"]
        assert [p.arn for p in tx.attached_policies("user", user.unique_id)] == [policy.arn]
        assert tx.tags_of("user", user.unique_id) == [Tag("team", "a")]
        assert tx.get_key("AKIAEXAMPLE000000001") is not None
        tx.delete_identity(user.unique_id)
    with store.transaction() as tx:  # deleting the user took its keys, inline policies, attachments and tags
        assert tx.get_key("AKIAEXAMPLE000000001") is None
        assert tx.list_inline("user", user.unique_id) == []
        assert tx.attachments_of(policy.policy_id) == []
        assert tx.tags_of("user", user.unique_id) == []
    store.close()


def test_migrations_walk_up_and_down_and_match_the_schema(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)
    for name, table in metadata.tables.items():
        columns = {c["name"] for c in inspect(engine).get_columns(name)}
        assert columns == {c.name for c in table.columns}, name
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    migrate(engine)
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == tables
    engine.dispose()
