"""AWS operations by service and name. Each service module registers its handlers with @operation;
the wire layer looks them up here and never needs to know where they live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolehop.services.call import Call

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Result]

OPERATIONS: dict[tuple[str, str], Handler] = {}


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if (service, name) in OPERATIONS:
            raise RuntimeError(f"{service}:{name} registered twice")
        OPERATIONS[(service, name)] = handler
        return handler

    return register


def load_all() -> None:
    """Import every service module so that its operations register."""
    from rolehop.services import (  # noqa: F401
        denials,
        iam_access_keys,
        iam_account,
        iam_groups,
        iam_identity_extras,
        iam_inline_policies,
        iam_login_profiles,
        iam_mfa,
        iam_password_policy,
        iam_policies,
        iam_roles,
        iam_users,
        org_policies,
        organizations,
        sts,
        sts_assume_role,
    )
