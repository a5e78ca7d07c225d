"""The storage port of IAM instance profiles and of service-linked role deletion tasks.

An instance profile holds at most one role (IAM's quota, checked by the service under the profile's
row lock); deleting a role or a profile is refused while they are linked, so the link table never
refers to a missing row. A deletion task is stored once, when DeleteServiceLinkedRole submits it,
with the outcome it reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rolehop.core import arn


@dataclass(frozen=True, slots=True)
class InstanceProfile:
    profile_id: str  # AIPA…
    account_id: str
    name: str
    path: str
    created_at: datetime

    @property
    def arn(self) -> str:
        return arn.iam_arn(self.account_id, "instance-profile", self.path, self.name)


@dataclass(frozen=True, slots=True)
class RoleDeletionTask:
    task_id: str  # task/aws-service-role/<service>/<role name>/<uuid>
    account_id: str
    role_arn: str
    submitted_at: datetime
    status: str  # SUCCEEDED (the deletion runs when it is submitted); AWS's other statuses fit too


class InstanceProfileTx(Protocol):
    def insert_instance_profile(self, profile: InstanceProfile) -> None:
        """EntityAlreadyExists when the account has a profile of that name (ignoring case)."""
        ...

    def get_instance_profile(self, account_id: str, name: str) -> InstanceProfile | None: ...
    def lock_instance_profile(self, profile_id: str) -> InstanceProfile | None: ...
    def list_instance_profiles(self, account_id: str, path_prefix: str = "/") -> list[InstanceProfile]: ...
    def delete_instance_profile(self, profile_id: str) -> None: ...
    def add_instance_profile_role(self, profile_id: str, role_id: str) -> None: ...
    def remove_instance_profile_role(self, profile_id: str, role_id: str) -> None: ...
    def instance_profile_role_ids(self, profile_id: str) -> list[str]: ...
    def instance_profiles_of_role(self, role_id: str) -> list[InstanceProfile]: ...

    def insert_role_deletion_task(self, task: RoleDeletionTask) -> None: ...
    def get_role_deletion_task(self, task_id: str) -> RoleDeletionTask | None: ...
