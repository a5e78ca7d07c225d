"""Service-linked roles are AWS's to change: the one check every ordinary role write makes."""

from __future__ import annotations

from rolehop.core.entities import Identity
from rolehop.core.errors import UnmodifiableEntity

SERVICE_LINKED_PATH = "/aws-service-role/"


def is_service_linked(role: Identity) -> bool:
    return role.kind == "role" and role.path.startswith(SERVICE_LINKED_PATH)


def linked_service(role: Identity) -> str:
    """The service principal a service-linked role belongs to (its path is /aws-service-role/<service>/)."""
    return role.path[len(SERVICE_LINKED_PATH) :].split("/", 1)[0]


def refuse_if_service_linked(role: Identity) -> None:
    """UnmodifiableEntity for a service-linked role: only CreateServiceLinkedRole,
    DeleteServiceLinkedRole (and a description change) touch it."""
    if is_service_linked(role):
        raise UnmodifiableEntity(
            f"Cannot perform the operation on the protected role '{role.name}' - this role is only "
            f"modifiable by AWS (it is linked to {linked_service(role)})"
        )
