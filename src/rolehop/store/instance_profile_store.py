"""SQL storage of IAM instance profiles, their roles and service-linked role deletion tasks
(implements services.ports.instance_profiles). Migration 0016 creates the tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Row,
    String,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
)

from rolehop.services.ports.instance_profiles import InstanceProfile, RoleDeletionTask
from rolehop.store.rows import insert_unique, row_dict
from rolehop.store.schema import metadata, tags

TS = DateTime(timezone=True)

instance_profiles = Table(
    "instance_profiles",
    metadata,
    Column("profile_id", String(32), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),  # lower-cased: names are unique ignoring case
    Column("path", String(512), nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("account_id", "name_key", name="uq_instance_profiles_name"),
)

instance_profile_roles = Table(
    "instance_profile_roles",
    metadata,
    Column(
        "profile_id",
        String(32),
        ForeignKey("instance_profiles.profile_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("role_id", String(32), ForeignKey("identities.unique_id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_instance_profile_roles_role", instance_profile_roles.c.role_id)

role_deletion_tasks = Table(
    "role_deletion_tasks",
    metadata,
    Column("task_id", String(1000), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False),
    Column("role_arn", String(2048), nullable=False),
    Column("submitted_at", TS, nullable=False),
    Column("status", String(16), nullable=False),
)


def _profile(row: Row[Any]) -> InstanceProfile:
    values = row_dict(row)
    del values["name_key"]
    return InstanceProfile(**values)


class InstanceProfileSqlMixin:
    c: Connection

    def insert_instance_profile(self, profile: InstanceProfile) -> None:
        insert_unique(
            self.c,
            instance_profiles,
            {
                "profile_id": profile.profile_id,
                "account_id": profile.account_id,
                "name": profile.name,
                "name_key": profile.name.lower(),
                "path": profile.path,
                "created_at": profile.created_at,
            },
            f"Instance Profile {profile.name} already exists.",
        )

    def get_instance_profile(self, account_id: str, name: str) -> InstanceProfile | None:
        p = instance_profiles.c
        row = self.c.execute(
            select(instance_profiles).where(p.account_id == account_id, p.name_key == name.lower())
        ).first()
        return _profile(row) if row is not None else None

    def lock_instance_profile(self, profile_id: str) -> InstanceProfile | None:
        q = select(instance_profiles).where(instance_profiles.c.profile_id == profile_id).with_for_update()
        row = self.c.execute(q).first()
        return _profile(row) if row is not None else None

    def list_instance_profiles(self, account_id: str, path_prefix: str = "/") -> list[InstanceProfile]:
        p = instance_profiles.c
        rows = self.c.execute(select(instance_profiles).where(p.account_id == account_id))
        return [_profile(r) for r in rows if r.path.startswith(path_prefix)]

    def delete_instance_profile(self, profile_id: str) -> None:
        r, p, g = instance_profile_roles.c, instance_profiles.c, tags.c
        self.c.execute(delete(instance_profile_roles).where(r.profile_id == profile_id))
        self.c.execute(delete(instance_profiles).where(p.profile_id == profile_id))
        self.c.execute(delete(tags).where(g.resource_kind == "instance-profile", g.resource_id == profile_id))

    def add_instance_profile_role(self, profile_id: str, role_id: str) -> None:
        self.c.execute(insert(instance_profile_roles).values(profile_id=profile_id, role_id=role_id))

    def remove_instance_profile_role(self, profile_id: str, role_id: str) -> None:
        r = instance_profile_roles.c
        self.c.execute(delete(instance_profile_roles).where(r.profile_id == profile_id, r.role_id == role_id))

    def instance_profile_role_ids(self, profile_id: str) -> list[str]:
        r = instance_profile_roles.c
        return [row.role_id for row in self.c.execute(select(r.role_id).where(r.profile_id == profile_id))]

    def instance_profiles_of_role(self, role_id: str) -> list[InstanceProfile]:
        r = instance_profile_roles.c
        q = (
            select(instance_profiles)
            .join(instance_profile_roles, r.profile_id == instance_profiles.c.profile_id)
            .where(r.role_id == role_id)
        )
        return [_profile(row) for row in self.c.execute(q)]

    def insert_role_deletion_task(self, task: RoleDeletionTask) -> None:
        values = {f: getattr(task, f) for f in RoleDeletionTask.__dataclass_fields__}
        self.c.execute(insert(role_deletion_tasks).values(values))

    def get_role_deletion_task(self, task_id: str) -> RoleDeletionTask | None:
        t = role_deletion_tasks.c
        row = self.c.execute(select(role_deletion_tasks).where(t.task_id == task_id)).first()
        return RoleDeletionTask(**row_dict(row)) if row is not None else None
