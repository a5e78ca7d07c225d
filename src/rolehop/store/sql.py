"""The SQLAlchemy implementation of the storage port (services.ports.Tx / Store)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from rolehop.config import MigratePolicy
from rolehop.core.entities import (
    AccessKey,
    Account,
    CreateAccountRequest,
    Identity,
    IdentityKind,
    InlinePolicy,
    ManagedPolicy,
    PolicyVersion,
    Tag,
)
from rolehop.core.errors import ConcurrentModification, EntityAlreadyExists
from rolehop.store import schema as t
from rolehop.store.conflicts import answered_when_unreachable, error_code, is_duplicate, lost_race
from rolehop.store.console_store import UserSessionsSqlMixin
from rolehop.store.credentials_store import CredentialSqlMixin
from rolehop.store.delegation_store import DelegationSqlMixin
from rolehop.store.engine import make_engine
from rolehop.store.federation_store import FederationSqlMixin
from rolehop.store.handshake_store import HandshakeSqlMixin
from rolehop.store.iam_credentials_store import IamCredentialSqlMixin
from rolehop.store.instance_profile_store import InstanceProfileSqlMixin
from rolehop.store.org_store import OrgSqlMixin
from rolehop.store.revisions import prepare
from rolehop.store.rows import insert_unique
from rolehop.store.rows import row_dict as _row_dict
from rolehop.store.service_last_accessed_store import AccessReportSqlMixin
from rolehop.store.trail_store import TrailSqlMixin
from rolehop.store.versions import VersionWatcher, begin_tracking, bump, bump_if_written, track_writes

log = logging.getLogger("rolehop.store")


def _account(row: Row[Any]) -> Account:
    return Account(**_row_dict(row))


def _identity(row: Row[Any]) -> Identity:
    d = _row_dict(row)
    d.pop("name_key", None)
    return Identity(**d)


def _policy_columns(counted_in: str | None = None) -> list[Any]:
    counted = t.attachments.alias("counted")
    query = select(func.count()).select_from(counted)
    if counted_in is not None:  # only the attachments of that account's users, groups and roles
        holder = t.identities.alias("holder")
        query = query.join(holder, holder.c.unique_id == counted.c.principal_id).where(
            holder.c.account_id == counted_in
        )
    counts = (
        query.where(counted.c.policy_id == t.policies.c.policy_id).correlate(t.policies).scalar_subquery()
    )
    return [*(c for c in t.policies.c if c.name != "arn_key"), counts.label("attachment_count")]


def _policy(row: Row[Any]) -> ManagedPolicy:
    return ManagedPolicy(**_row_dict(row))


class SqlTx(
    CredentialSqlMixin,
    OrgSqlMixin,
    HandshakeSqlMixin,
    DelegationSqlMixin,
    UserSessionsSqlMixin,
    TrailSqlMixin,
    AccessReportSqlMixin,
    InstanceProfileSqlMixin,
    FederationSqlMixin,
    IamCredentialSqlMixin,
):
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    # row locks: FOR UPDATE on PostgreSQL; a SQLite transaction holds the database's write lock already
    def lock_account(self, account_id: str) -> Account | None:
        q = select(t.accounts).where(t.accounts.c.account_id == account_id).with_for_update()
        row = self.c.execute(q).first()
        return _account(row) if row else None

    def lock_identity(self, unique_id: str) -> Identity | None:
        q = select(t.identities).where(t.identities.c.unique_id == unique_id).with_for_update()
        row = self.c.execute(q).first()
        return _identity(row) if row else None

    def lock_policy(self, policy_id: str) -> ManagedPolicy | None:
        p = t.policies.c
        # the bare row is locked, then read with its attachment count (an aggregate)
        bare = select(p.policy_id).where(p.policy_id == policy_id).with_for_update()
        if self.c.execute(bare).first() is None:
            return None
        row = self.c.execute(select(*_policy_columns()).where(p.policy_id == policy_id)).first()
        return _policy(row) if row else None

    # accounts
    def get_account(self, account_id: str) -> Account | None:
        row = self.c.execute(select(t.accounts).where(t.accounts.c.account_id == account_id)).first()
        return _account(row) if row else None

    def account_by_alias(self, alias: str) -> Account | None:
        row = self.c.execute(select(t.accounts).where(t.accounts.c.alias == alias)).first()
        return _account(row) if row else None

    def list_accounts(self) -> list[Account]:
        rows = self.c.execute(select(t.accounts).order_by(t.accounts.c.created_at, t.accounts.c.account_id))
        return [_account(r) for r in rows]

    def put_account(self, account: Account) -> None:
        values = {f: getattr(account, f) for f in Account.__dataclass_fields__}
        found = self.c.execute(
            update(t.accounts).where(t.accounts.c.account_id == account.account_id).values(values)
        )
        if found.rowcount == 0:
            self._insert(t.accounts, values, f"Account {account.account_id} already exists.")

    # identities
    def get_identity(self, kind: IdentityKind, account_id: str, name: str) -> Identity | None:
        c = t.identities.c
        q = select(t.identities).where(c.kind == kind, c.account_id == account_id, c.name_key == name.lower())
        row = self.c.execute(q).first()
        return _identity(row) if row else None

    def get_identity_by_id(self, unique_id: str) -> Identity | None:
        row = self.c.execute(select(t.identities).where(t.identities.c.unique_id == unique_id)).first()
        return _identity(row) if row else None

    def list_identities(self, kind: IdentityKind, account_id: str, path_prefix: str = "/") -> list[Identity]:
        c = t.identities.c
        q = select(t.identities).where(c.kind == kind, c.account_id == account_id)
        if path_prefix != "/":
            q = q.where(c.path.startswith(path_prefix, autoescape=True))
        return [_identity(r) for r in self.c.execute(q.order_by(c.name_key))]

    def insert_identity(self, identity: Identity) -> None:
        values = {f: getattr(identity, f) for f in Identity.__dataclass_fields__}
        values["name_key"] = identity.name.lower()
        what = identity.kind.capitalize()
        self._insert(t.identities, values, f"{what} with name {identity.name} already exists.")

    def update_identity(self, identity: Identity) -> None:
        values = {f: getattr(identity, f) for f in Identity.__dataclass_fields__}
        values["name_key"] = identity.name.lower()
        what = identity.kind.capitalize()
        try:
            with self.c.begin_nested():
                self.c.execute(
                    update(t.identities).where(t.identities.c.unique_id == identity.unique_id).values(values)
                )
        except IntegrityError as e:
            if not is_duplicate(e):
                raise
            raise EntityAlreadyExists(f"{what} with name {identity.name} already exists.") from e

    def delete_identity(self, unique_id: str) -> None:
        self.c.execute(delete(t.identities).where(t.identities.c.unique_id == unique_id))
        self.c.execute(delete(t.tags).where(t.tags.c.resource_id == unique_id))

    # group membership
    def add_member(self, group_id: str, user_id: str) -> None:
        m = t.group_members.c
        exists = self.c.execute(
            select(m.group_id).where(m.group_id == group_id, m.user_id == user_id)
        ).first()
        if not exists:
            self.c.execute(insert(t.group_members).values(group_id=group_id, user_id=user_id))

    def remove_member(self, group_id: str, user_id: str) -> None:
        m = t.group_members.c
        self.c.execute(delete(t.group_members).where(m.group_id == group_id, m.user_id == user_id))

    def group_members(self, group_id: str) -> list[Identity]:
        m, i = t.group_members.c, t.identities.c
        q = select(t.identities).join(t.group_members, m.user_id == i.unique_id).where(m.group_id == group_id)
        return [_identity(r) for r in self.c.execute(q.order_by(i.name_key))]

    def groups_of(self, user_id: str) -> list[Identity]:
        m, i = t.group_members.c, t.identities.c
        q = select(t.identities).join(t.group_members, m.group_id == i.unique_id).where(m.user_id == user_id)
        return [_identity(r) for r in self.c.execute(q.order_by(i.name_key))]

    # managed policies
    def get_policy(self, policy_arn: str, *, counted_in: str | None = None) -> ManagedPolicy | None:
        q = select(*_policy_columns(counted_in)).where(t.policies.c.arn == policy_arn)
        row = self.c.execute(q).first()
        return _policy(row) if row else None

    def list_policies(self, account_id: str | None, *, counted_in: str | None = None) -> list[ManagedPolicy]:
        p = t.policies.c
        q = select(*_policy_columns(counted_in)).where(
            p.account_id.is_(None) if account_id is None else p.account_id == account_id
        )
        return [_policy(r) for r in self.c.execute(q.order_by(p.arn_key))]

    def insert_policy(self, policy: ManagedPolicy, first_version: PolicyVersion) -> None:
        values = {f: getattr(policy, f) for f in ManagedPolicy.__dataclass_fields__}
        values.pop("attachment_count")
        values.pop("boundary_count")
        values["arn_key"] = policy.arn.lower()
        self._insert(
            t.policies,
            values,
            f"A policy called {policy.name} already exists. Duplicate names are not allowed.",
        )
        self.insert_version(first_version)

    def update_policy(self, policy: ManagedPolicy) -> None:
        p = t.policies.c
        self.c.execute(
            update(t.policies)
            .where(p.policy_id == policy.policy_id)
            .values(
                default_version_id=policy.default_version_id,
                next_version=policy.next_version,
                updated_at=policy.updated_at,
                description=policy.description,
            )
        )

    def delete_policy(self, policy_id: str) -> None:
        self.c.execute(delete(t.policies).where(t.policies.c.policy_id == policy_id))
        self.c.execute(delete(t.tags).where(t.tags.c.resource_id == policy_id))

    def get_version(self, policy_id: str, version_id: str) -> PolicyVersion | None:
        v = t.policy_versions.c
        row = self.c.execute(
            select(t.policy_versions).where(v.policy_id == policy_id, v.version_id == version_id)
        ).first()
        return PolicyVersion(**_row_dict(row)) if row else None

    def list_versions(self, policy_id: str) -> list[PolicyVersion]:
        v = t.policy_versions.c
        rows = self.c.execute(
            select(t.policy_versions).where(v.policy_id == policy_id).order_by(v.created_at.desc())
        )
        versions = [PolicyVersion(**_row_dict(r)) for r in rows]
        return sorted(versions, key=lambda pv: int(pv.version_id[1:]), reverse=True)

    def insert_version(self, version: PolicyVersion) -> None:
        self.c.execute(
            insert(t.policy_versions).values(
                {f: getattr(version, f) for f in PolicyVersion.__dataclass_fields__}
            )
        )

    def delete_version(self, policy_id: str, version_id: str) -> None:
        v = t.policy_versions.c
        self.c.execute(delete(t.policy_versions).where(v.policy_id == policy_id, v.version_id == version_id))

    # attachments
    def attach(self, policy_id: str, kind: IdentityKind, principal_id: str) -> None:
        a = t.attachments.c
        q = select(a.policy_id).where(a.policy_id == policy_id, a.principal_id == principal_id)
        if not self.c.execute(q).first():
            self.c.execute(
                insert(t.attachments).values(
                    policy_id=policy_id, principal_kind=kind, principal_id=principal_id
                )
            )

    def detach(self, policy_id: str, kind: IdentityKind, principal_id: str) -> None:
        a = t.attachments.c
        self.c.execute(delete(t.attachments).where(a.policy_id == policy_id, a.principal_id == principal_id))

    def attached_policies(self, kind: IdentityKind, principal_id: str) -> list[ManagedPolicy]:
        a = t.attachments.c
        q = (
            select(*_policy_columns())
            .join(t.attachments, a.policy_id == t.policies.c.policy_id)
            .where(a.principal_id == principal_id)
            .order_by(t.policies.c.arn_key)
        )
        return [_policy(r) for r in self.c.execute(q)]

    def attachments_of(self, policy_id: str) -> list[tuple[IdentityKind, str]]:
        a = t.attachments.c
        rows = self.c.execute(select(a.principal_kind, a.principal_id).where(a.policy_id == policy_id))
        return [(cast(IdentityKind, r.principal_kind), r.principal_id) for r in rows]

    # inline policies
    def put_inline(self, policy: InlinePolicy) -> None:
        self.delete_inline(policy.owner_kind, policy.owner_id, policy.name)
        self.c.execute(
            insert(t.inline_policies).values(
                owner_id=policy.owner_id,
                owner_kind=policy.owner_kind,
                name=policy.name,
                document=policy.document,
            )
        )

    def get_inline(self, kind: IdentityKind, owner_id: str, name: str) -> InlinePolicy | None:
        p = t.inline_policies.c
        row = self.c.execute(select(t.inline_policies).where(p.owner_id == owner_id, p.name == name)).first()
        return InlinePolicy(**_row_dict(row)) if row else None

    def list_inline(self, kind: IdentityKind, owner_id: str) -> list[InlinePolicy]:
        p = t.inline_policies.c
        rows = self.c.execute(select(t.inline_policies).where(p.owner_id == owner_id).order_by(p.name))
        return [InlinePolicy(**_row_dict(r)) for r in rows]

    def delete_inline(self, kind: IdentityKind, owner_id: str, name: str) -> None:
        p = t.inline_policies.c
        self.c.execute(delete(t.inline_policies).where(p.owner_id == owner_id, p.name == name))

    # access keys
    def insert_key(self, key: AccessKey) -> None:
        values = {f: getattr(key, f) for f in AccessKey.__dataclass_fields__}
        self._insert(t.access_keys, values, "Access key already exists.")

    def get_key(self, access_key_id: str) -> AccessKey | None:
        row = self.c.execute(
            select(t.access_keys).where(t.access_keys.c.access_key_id == access_key_id)
        ).first()
        return AccessKey(**_row_dict(row)) if row else None

    def keys_of(self, account_id: str, user_id: str | None) -> list[AccessKey]:
        k = t.access_keys.c
        owner = k.user_id.is_(None) if user_id is None else k.user_id == user_id
        rows = self.c.execute(
            select(t.access_keys).where(k.account_id == account_id, owner).order_by(k.created_at)
        )
        return [AccessKey(**_row_dict(r)) for r in rows]

    def set_key_status(self, access_key_id: str, status: str) -> None:
        k = t.access_keys.c
        self.c.execute(update(t.access_keys).where(k.access_key_id == access_key_id).values(status=status))

    def reseal_key_secret(self, access_key_id: str, sealed_secret: bytes) -> None:
        k = t.access_keys.c
        self.c.execute(
            update(t.access_keys).where(k.access_key_id == access_key_id).values(sealed_secret=sealed_secret)
        )

    def delete_key(self, access_key_id: str) -> None:
        self.c.execute(delete(t.access_keys).where(t.access_keys.c.access_key_id == access_key_id))

    # tags
    def tags_of(self, kind: str, resource_id: str) -> list[Tag]:
        g = t.tags.c
        rows = self.c.execute(
            select(g.key, g.value).where(g.resource_kind == kind, g.resource_id == resource_id)
        )
        return sorted((Tag(r.key, r.value) for r in rows), key=lambda tag: tag.key)

    def set_tags(self, kind: str, resource_id: str, tags: Iterable[Tag]) -> None:
        tags = list(tags)
        self.remove_tags(kind, resource_id, [tag.key for tag in tags])
        for tag in tags:
            self.c.execute(
                insert(t.tags).values(
                    resource_kind=kind, resource_id=resource_id, key=tag.key, value=tag.value
                )
            )

    def remove_tags(self, kind: str, resource_id: str, keys: Iterable[str]) -> None:
        g = t.tags.c
        keys = list(keys)
        if keys:
            self.c.execute(
                delete(t.tags).where(g.resource_kind == kind, g.resource_id == resource_id, g.key.in_(keys))
            )

    # Organizations CreateAccount requests
    def put_create_account_request(self, request: CreateAccountRequest) -> None:
        values = {f: getattr(request, f) for f in CreateAccountRequest.__dataclass_fields__}
        r = t.create_account_requests.c
        found = self.c.execute(
            update(t.create_account_requests).where(r.request_id == request.request_id).values(values)
        )
        if found.rowcount == 0:
            self.c.execute(insert(t.create_account_requests).values(values))

    def get_create_account_request(self, request_id: str) -> CreateAccountRequest | None:
        r = t.create_account_requests.c
        row = self.c.execute(select(t.create_account_requests).where(r.request_id == request_id)).first()
        return CreateAccountRequest(**_row_dict(row)) if row else None

    def list_create_account_requests(self) -> list[CreateAccountRequest]:
        r = t.create_account_requests.c
        rows = self.c.execute(select(t.create_account_requests).order_by(r.requested_at))
        return [CreateAccountRequest(**_row_dict(x)) for x in rows]

    def delete_create_account_requests(self) -> None:
        self.c.execute(delete(t.create_account_requests))

    def _insert(self, table: Any, values: dict[str, Any], conflict_message: str) -> None:
        insert_unique(self.c, table, values, conflict_message)


class SqlStore:
    def __init__(self, url: str, *, migrate: MigratePolicy = "always") -> None:
        """`migrate` says what to do with a schema older than this rolehop's (store.revisions);
        raises SchemaMismatch when the store may not be used as it is."""
        self.url = url
        self.engine: Engine = make_engine(url)
        track_writes(self.engine)  # a write that may change a decision bumps the store version
        self._watcher: VersionWatcher | None = None
        # the transaction open on this thread (or task), which a nested transaction() joins
        self._open: ContextVar[SqlTx | None] = ContextVar(f"rolehop_open_tx_{id(self)}", default=None)
        try:
            prepare(self.engine, migrate)
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def transaction(self) -> Iterator[SqlTx]:
        """One transaction; a write that lost a race with another writer (a row taken or deleted
        meanwhile, a deadlock, SQLite's lock still busy after busy_timeout) rolls it back and answers
        ConcurrentModification, never a 500; a database out of reach answers ServiceUnavailable.

        Opened inside another on the same thread (an operation run as one unit with its audit event,
        services.cloudtrail.perform), it is a SAVEPOINT of that one: committed or rolled back on its
        own as before, and made durable with the rest when the outer transaction commits."""
        outer = self._open.get()
        try:
            if outer is not None:
                with outer.c.begin_nested():
                    yield outer
                return
            with answered_when_unreachable(), self.engine.begin() as conn:
                begin_tracking(conn)
                tx = SqlTx(conn)
                token = self._open.set(tx)
                try:
                    yield tx
                finally:
                    self._open.reset(token)
                bump_if_written(conn)  # in this transaction: other nodes see the write and the bump at once
        except DBAPIError as e:
            if not lost_race(e):
                raise
            log.warning(
                "a write lost a race with another writer (%s): answered ConcurrentModification", error_code(e)
            )
            raise ConcurrentModification(
                "Multiple requests to change this object were submitted simultaneously. "
                "Submit the request again."
            ) from e

    def reset(self) -> None:
        """Empties every table (dev mode's /_rolehop/reset)."""
        with self.engine.begin() as conn:
            for table in reversed(t.metadata.sorted_tables):
                if table.name != "store_version":
                    conn.execute(delete(table))
            bump(conn)

    def watch_changes(self, on_change: Callable[[], None]) -> None:
        """Calls `on_change` (on a thread of its own) whenever another node or process changes a
        decision in this store; within a second (store.versions). Once per store; close() stops it."""
        if self._watcher is None and self.engine.url.database not in (None, "", ":memory:"):
            self._watcher = VersionWatcher(self.engine, on_change)  # in memory: no other process

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self.engine.dispose()
