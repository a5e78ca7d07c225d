"""Organizations operations: organization (Create/Describe/DeleteOrganization, EnableAllFeatures),
roots (ListRoots and the policy types of the root), accounts (accounts, CreateAccount, leaving the
organization, CloseAccount), handshakes (invitations and the other handshakes), units (OUs and
moving accounts), policies (policies of every type and their attachments), effective_policies (the
effective management policies of accounts), delegation (delegated administrators),
service_access (trusted AWS services), resource_policy (the resource-based delegation policy), tags
(tags on accounts, OUs, the root and policies); `common` holds the caller's organization and the
management-account gate, with what the organization delegates to member accounts. Which control
policies bind an account at request time is pipeline.control_policies.

Importing the package registers every Organizations operation.
"""

from rolehop.services.organizations import (
    accounts,
    delegation,
    effective_policies,
    handshakes,
    organization,
    policies,
    resource_policy,
    roots,
    service_access,
    tags,
    units,
)

__all__ = (
    "accounts",
    "delegation",
    "effective_policies",
    "handshakes",
    "organization",
    "policies",
    "resource_policy",
    "roots",
    "service_access",
    "tags",
    "units",
)
