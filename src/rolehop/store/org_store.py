"""SQL storage of the organization, its OUs and policies (implements services.ports.organizations.OrgTx)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from rolehop.core.organization import Organization, OrgPolicy, OrgUnit
from rolehop.store.rows import utc
from rolehop.store.schema import metadata

# at most one row: rolehop serves one organization
organizations = Table(
    "organizations",
    metadata,
    Column("org_id", String(40), primary_key=True),
    Column("root_id", String(40), nullable=False),
    Column("management_account_id", String(12), nullable=False),
    Column("feature_set", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("policy_types", Text, nullable=False),  # comma-separated, sorted
)

org_units = Table(
    "org_units",
    metadata,
    Column("ou_id", String(80), primary_key=True),
    Column("parent_id", String(80), nullable=False),
    Column("name", String(128), nullable=False),
)

account_parents = Table(
    "account_parents",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("parent_id", String(80), nullable=False),
)

org_policies = Table(
    "org_policies",
    metadata,
    Column("policy_id", String(140), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("policy_type", String(40), nullable=False),
    Column("content", Text, nullable=False),
    Column("description", String(512), nullable=False),
    Column("aws_managed", Boolean, nullable=False),
)

org_policy_targets = Table(
    "org_policy_targets",
    metadata,
    Column(
        "policy_id", String(140), ForeignKey("org_policies.policy_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("target_id", String(80), primary_key=True),
)


class OrgSqlMixin:
    c: Connection

    def get_organization(self) -> Organization | None:
        row = self.c.execute(select(organizations)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        return Organization(
            **values
            | {
                "created_at": utc(values["created_at"]),
                "policy_types": frozenset(t for t in values["policy_types"].split(",") if t),
            }
        )

    def put_organization(self, org: Organization) -> None:
        values = {f: getattr(org, f) for f in Organization.__dataclass_fields__}
        values["policy_types"] = ",".join(sorted(org.policy_types))
        self._upsert(organizations, organizations.c.org_id == org.org_id, values)

    def delete_organization(self) -> None:
        self.c.execute(delete(organizations))

    def get_ou(self, ou_id: str) -> OrgUnit | None:
        row = self.c.execute(select(org_units).where(org_units.c.ou_id == ou_id)).first()
        return OrgUnit(**row._mapping) if row else None

    def list_ous(self, parent_id: str | None = None) -> list[OrgUnit]:
        q = select(org_units).order_by(org_units.c.name)
        if parent_id is not None:
            q = q.where(org_units.c.parent_id == parent_id)
        return [OrgUnit(**r._mapping) for r in self.c.execute(q)]

    def put_ou(self, ou: OrgUnit) -> None:
        self._upsert(
            org_units,
            org_units.c.ou_id == ou.ou_id,
            {"ou_id": ou.ou_id, "parent_id": ou.parent_id, "name": ou.name},
        )

    def delete_ou(self, ou_id: str) -> None:
        self.c.execute(delete(org_policy_targets).where(org_policy_targets.c.target_id == ou_id))
        self.c.execute(delete(org_units).where(org_units.c.ou_id == ou_id))

    def parent_of_account(self, account_id: str) -> str | None:
        row = self.c.execute(
            select(account_parents.c.parent_id).where(account_parents.c.account_id == account_id)
        )
        return row.scalar_one_or_none()

    def set_account_parent(self, account_id: str, parent_id: str) -> None:
        self._upsert(
            account_parents,
            account_parents.c.account_id == account_id,
            {"account_id": account_id, "parent_id": parent_id},
        )

    def accounts_under(self, parent_id: str) -> list[str]:
        rows = self.c.execute(
            select(account_parents.c.account_id).where(account_parents.c.parent_id == parent_id)
        )
        return sorted(r.account_id for r in rows)

    def get_org_policy(self, policy_id: str) -> OrgPolicy | None:
        row = self.c.execute(select(org_policies).where(org_policies.c.policy_id == policy_id)).first()
        return OrgPolicy(**row._mapping) if row else None

    def list_org_policies(self, policy_type: str) -> list[OrgPolicy]:
        q = (
            select(org_policies)
            .where(org_policies.c.policy_type == policy_type)
            .order_by(org_policies.c.name)
        )
        return [OrgPolicy(**r._mapping) for r in self.c.execute(q)]

    def put_org_policy(self, policy: OrgPolicy) -> None:
        values = {f: getattr(policy, f) for f in OrgPolicy.__dataclass_fields__}
        self._upsert(org_policies, org_policies.c.policy_id == policy.policy_id, values)

    def delete_org_policy(self, policy_id: str) -> None:
        self.c.execute(delete(org_policies).where(org_policies.c.policy_id == policy_id))

    def attach_org_policy(self, policy_id: str, target_id: str) -> None:
        self.c.execute(insert(org_policy_targets).values(policy_id=policy_id, target_id=target_id))

    def detach_org_policy(self, policy_id: str, target_id: str) -> None:
        t = org_policy_targets.c
        self.c.execute(delete(org_policy_targets).where(t.policy_id == policy_id, t.target_id == target_id))

    def org_policies_of(self, target_id: str) -> list[OrgPolicy]:
        t = org_policy_targets.c
        q = select(org_policies).join(org_policy_targets, t.policy_id == org_policies.c.policy_id)
        rows = self.c.execute(q.where(t.target_id == target_id).order_by(org_policies.c.name))
        return [OrgPolicy(**r._mapping) for r in rows]

    def org_policy_targets(self, policy_id: str) -> list[str]:
        t = org_policy_targets.c
        return sorted(
            r.target_id for r in self.c.execute(select(t.target_id).where(t.policy_id == policy_id))
        )

    def _upsert(self, table: Table, where: Any, values: dict[str, Any]) -> None:
        if self.c.execute(update(table).where(where).values(values)).rowcount == 0:
            self.c.execute(insert(table).values(values))
