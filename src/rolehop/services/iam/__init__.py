"""IAM operations, one module per AWS resource family (users, groups, roles, access keys, managed
and inline policies and their attachments, tags, permissions boundaries, MFA devices, login
profiles, the password policy, the account, service last accessed reports), plus what they share:
`common` (paging, paths, tags, lookups that authorize first), `shapes` (entities as botocore's
output shapes) and `policy_documents` (validation before a document is stored). AWS-managed policy
documents are in aws_managed_policies/ (stored by admin.bootstrap).

Importing the package registers every IAM operation.
"""

from rolehop.services.iam import (
    access_keys,
    account,
    groups,
    identity_tags,
    inline_policies,
    login_profiles,
    mfa,
    password_policy,
    permissions_boundaries,
    policies,
    policy_attachments,
    roles,
    service_last_accessed,
    users,
)

__all__ = (
    "access_keys",
    "account",
    "groups",
    "identity_tags",
    "inline_policies",
    "login_profiles",
    "mfa",
    "password_policy",
    "permissions_boundaries",
    "policies",
    "policy_attachments",
    "roles",
    "service_last_accessed",
    "users",
)
