"""Which service and resource control policies bind an account: the policies of every level from the
organization's root, through its OUs, to the account itself. Read by authorization on every request
(cached), written by the Organizations operations in services/organizations/policies.py; the same
walk (`chain`) gathers the management policies an account's effective policy merges
(services/organizations/effective_policies.py).

AWS attaches FullAWSAccess (RCPFullAWSAccess) to the root and every OU and account while SCPs (RCPs)
are enabled; rolehop stores that attachment only once the target's SCPs (RCPs) change: a target
with none of that type stored holds the AWS-managed default (`DEFAULTS`). Management policy types
have no default.
"""

from __future__ import annotations

from types import MappingProxyType

from rolehop.core.organization import FULL_AWS_ACCESS, FULL_AWS_ACCESS_ID, RCP, SCP, Organization, OrgPolicy
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.organizations import OrgTx

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


def attached_policies(tx: OrgTx, target_id: str, policy_type: str) -> list[OrgPolicy]:
    """The policies of `policy_type` stored as attached to a target."""
    return [p for p in tx.org_policies_of(target_id) if p.policy_type == policy_type]


def effective_policies(tx: OrgTx, target_id: str, policy_type: str) -> list[OrgPolicy]:
    """What is attached to a target: its stored attachments, or the AWS-managed default of SCPs and
    RCPs when none is stored (attaching or detaching first makes the default an explicit attachment)."""
    attached = attached_policies(tx, target_id, policy_type)
    if attached or policy_type not in DEFAULTS:
        return attached
    return [DEFAULTS[policy_type]]


def chain(tx: OrgTx, org: Organization, account_id: str) -> list[str]:
    """Targets from the root down to the account: root, each OU, the account."""
    path = [account_id]
    parent = tx.parent_of_account(account_id) or org.root_id
    while parent.startswith("ou-"):
        path.append(parent)
        ou = tx.get_ou(parent)
        parent = ou.parent_id if ou else org.root_id
    path.append(parent)
    return list(reversed(path))


def control_policy_chain(rt: Runtime, account_id: str, policy_type: str) -> tuple[tuple[str, ...], ...]:
    """Per level (root first) the documents of `policy_type` that bind `account_id`; () for the
    management account, which SCPs and RCPs never restrict, for an account outside the organization,
    and while the policy type is not enabled in the root."""
    with rt.store.transaction() as tx:
        org = tx.get_organization()
        account = tx.get_account(account_id)
        if (
            org is None
            or account is None
            or not account.in_organization
            or account_id == org.management_account_id
            or policy_type not in org.policy_types
        ):
            return ()
        return tuple(
            tuple(p.content for p in effective_policies(tx, target, policy_type))
            for target in chain(tx, org, account_id)
        )
