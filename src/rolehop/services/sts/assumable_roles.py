"""Beyond AWS: the roles a principal may assume, in every account, decided by the policy engine.

Nobody should copy account IDs from a wiki table: the console's Switch Role page and
`rolehop roles` / `rolehop configure` list what the caller may assume, checked exactly as
AssumeRole checks it (the role's trust policy and the caller's own policies), with MFA taken as
present — the user switches from an MFA session.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from rolehop.core.entities import Account, Identity
from rolehop.services.pipeline.authorize import compiled, decide
from rolehop.services.pipeline.call import Call

ASSUMED_WITH_MFA = MappingProxyType({"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "0"})


@dataclass(frozen=True)
class AssumableRole:
    account_id: str
    account_name: str
    display_name: str
    alias: str | None
    role_name: str
    role_arn: str
    max_session_duration: int


def _may_assume(call: Call, role: Identity) -> bool:
    trust = compiled(call.runtime, role.trust_policy or '{"Statement":[]}', f"{role.arn}#trust")
    context = {**ASSUMED_WITH_MFA, "sts:RoleSessionName": "rolehop"}
    decision = decide(
        call,
        "sts:AssumeRole",
        role.arn,
        resource_account=role.account_id,
        context=context,
        resource_policy=trust,
    )
    return decision.decision == "Allowed"


def assumable_roles(call: Call) -> list[AssumableRole]:
    if call.caller.is_root:
        return []  # the root user may not assume roles
    with call.runtime.store.transaction() as tx:
        accounts: list[tuple[Account, list[Identity]]] = [
            (a, tx.list_identities("role", a.account_id)) for a in tx.list_accounts()
        ]
    found = []
    for account, roles in accounts:
        for role in roles:
            if _may_assume(call, role):
                found.append(
                    AssumableRole(
                        account.account_id,
                        account.name,
                        account.display_name or account.name,
                        account.alias,
                        role.name,
                        role.arn,
                        role.max_session_duration or 3600,
                    )
                )
    return sorted(found, key=lambda r: (r.account_name.lower(), r.role_name.lower()))
