"""SQL storage of what the organization grants beyond its structure: delegated administrators, trusted
AWS services, its resource-based delegation policy, and the tags of its accounts, OUs, root and
policies (implements services.ports.delegation.DelegationTx)."""

from __future__ import annotations

from sqlalchemy import Column, Connection, DateTime, ForeignKey, String, Table, Text, delete, insert, select

from rolehop.core.entities import Tag
from rolehop.core.organization import DelegatedAdministrator, OrgResourcePolicy, ServiceAccess
from rolehop.store.rows import row_dict
from rolehop.store.schema import metadata

delegated_administrators = Table(
    "delegated_administrators",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("service_principal", String(128), primary_key=True),
    Column("delegated_at", DateTime(timezone=True), nullable=False),
)

org_service_access = Table(
    "org_service_access",
    metadata,
    Column("service_principal", String(128), primary_key=True),
    Column("enabled_at", DateTime(timezone=True), nullable=False),
)

org_resource_policy = Table(  # at most one row
    "org_resource_policy",
    metadata,
    Column("policy_id", String(40), primary_key=True),
    Column("content", Text, nullable=False),
)

org_tags = Table(
    "org_tags",
    metadata,
    Column("resource_id", String(140), primary_key=True),  # an account, OU, root or policy ID
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)


class DelegationSqlMixin:
    c: Connection

    def list_delegated_administrators(self) -> list[DelegatedAdministrator]:
        t = delegated_administrators.c
        q = select(delegated_administrators).order_by(t.account_id, t.service_principal)
        return [DelegatedAdministrator(**row_dict(r)) for r in self.c.execute(q)]

    def put_delegated_administrator(self, delegated: DelegatedAdministrator) -> None:
        values = {f: getattr(delegated, f) for f in DelegatedAdministrator.__dataclass_fields__}
        self.c.execute(insert(delegated_administrators).values(values))

    def delete_delegated_administrator(self, account_id: str, service_principal: str) -> None:
        t = delegated_administrators.c
        self.c.execute(
            delete(delegated_administrators).where(
                t.account_id == account_id, t.service_principal == service_principal
            )
        )

    def list_service_access(self) -> list[ServiceAccess]:
        q = select(org_service_access).order_by(org_service_access.c.service_principal)
        return [ServiceAccess(**row_dict(r)) for r in self.c.execute(q)]

    def put_service_access(self, access: ServiceAccess) -> None:
        self.delete_service_access(access.service_principal)
        self.c.execute(
            insert(org_service_access).values(
                service_principal=access.service_principal, enabled_at=access.enabled_at
            )
        )

    def delete_service_access(self, service_principal: str) -> None:
        t = org_service_access.c
        self.c.execute(delete(org_service_access).where(t.service_principal == service_principal))

    def get_org_resource_policy(self) -> OrgResourcePolicy | None:
        row = self.c.execute(select(org_resource_policy)).first()
        return OrgResourcePolicy(**row_dict(row)) if row else None

    def put_org_resource_policy(self, policy: OrgResourcePolicy) -> None:
        self.delete_org_resource_policy()
        self.c.execute(insert(org_resource_policy).values(policy_id=policy.policy_id, content=policy.content))

    def delete_org_resource_policy(self) -> None:
        self.c.execute(delete(org_resource_policy))

    def org_tags_of(self, resource_id: str) -> list[Tag]:
        q = select(org_tags).where(org_tags.c.resource_id == resource_id).order_by(org_tags.c.key)
        return [Tag(r.key, r.value) for r in self.c.execute(q)]

    def put_org_tags(self, resource_id: str, tags: list[Tag]) -> None:
        """Adds the tags, replacing the value of a key the resource already has."""
        self.delete_org_tags(resource_id, [tag.key for tag in tags])
        for tag in tags:
            self.c.execute(insert(org_tags).values(resource_id=resource_id, key=tag.key, value=tag.value))

    def delete_org_tags(self, resource_id: str, keys: list[str] | None = None) -> None:
        """Removes the named keys (None: every tag of the resource)."""
        q = delete(org_tags).where(org_tags.c.resource_id == resource_id)
        if keys is not None:
            q = q.where(org_tags.c.key.in_(keys))
        self.c.execute(q)

    def delete_organization_grants(self) -> None:
        """What DeleteOrganization leaves behind: no delegation, trusted service, policy or tag."""
        for table in (delegated_administrators, org_service_access, org_resource_policy, org_tags):
            self.c.execute(delete(table))
