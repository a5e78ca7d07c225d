"""Which service and resource control policies bind an account: the policies of every level from the
organization's root, through its OUs, to the account itself. Read by authorization on every request
(cached), written by the Organizations operations in org_policies."""

from __future__ import annotations

from types import MappingProxyType

from rolehop.core.organization import FULL_AWS_ACCESS, FULL_AWS_ACCESS_ID, OrgPolicy, root_id
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.organizations import OrgTx

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
RCP_FULL_ACCESS_ID = "p-RCPFullAWSAccess"
RCP_FULL_ACCESS = (
    '{"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}'
)
DEFAULTS = MappingProxyType(
    {
        SCP: OrgPolicy(
            FULL_AWS_ACCESS_ID,
            "FullAWSAccess",
            SCP,
            FULL_AWS_ACCESS,
            "Allows access to every operation",
            True,
        ),
        RCP: OrgPolicy(
            RCP_FULL_ACCESS_ID,
            "RCPFullAWSAccess",
            RCP,
            RCP_FULL_ACCESS,
            "Allows access to every resource",
            True,
        ),
    }
)


def effective_policies(tx: OrgTx, target_id: str, policy_type: str) -> list[OrgPolicy]:
    """What binds a target: its attached policies, or the default when nothing was ever attached
    (attaching or detaching first makes the default an explicit attachment)."""
    attached = [p for p in tx.org_policies_of(target_id) if p.policy_type == policy_type]
    return attached or [DEFAULTS[policy_type]]


def chain(tx: OrgTx, mgmt: str, account_id: str) -> list[str]:
    """Targets from the root down to the account: root, each OU, the account."""
    path = [account_id]
    parent = tx.parent_of_account(account_id) or root_id(mgmt)
    while parent.startswith("ou-"):
        path.append(parent)
        ou = tx.get_ou(parent)
        parent = ou.parent_id if ou else root_id(mgmt)
    path.append(parent)
    return list(reversed(path))


def control_policy_chain(rt: Runtime, account_id: str, policy_type: str) -> tuple[tuple[str, ...], ...]:
    """Per level (root first) the documents of `policy_type` that bind `account_id`; () for the
    management account, which SCPs and RCPs never restrict."""
    mgmt = rt.settings.management_account_id
    if account_id == mgmt:
        return ()
    with rt.store.transaction() as tx:
        if tx.get_account(account_id) is None:
            return ()  # an account outside the organization
        return tuple(
            tuple(p.content for p in effective_policies(tx, target, policy_type))
            for target in chain(tx, mgmt, account_id)
        )
