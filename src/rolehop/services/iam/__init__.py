"""IAM operations, one module per AWS resource family (users, groups, roles, access keys, managed
and inline policies and their attachments, tags, permissions boundaries, MFA devices, login
profiles, the password policy, the account, OIDC and SAML identity providers (`identity_providers`: what
they share), service last accessed reports, the credential report,
GetAccountAuthorizationDetails, ListPoliciesGrantingServiceAccess and the organizations access
report, instance profiles, service-linked roles, the policy simulator, SSH public keys, signing and
server certificates, service-specific credentials), plus what they share:
`common` (paging, paths, tags, lookups that authorize first), `shapes` (entities as botocore's
output shapes), `policy_documents` (validation before a document is stored) and `protected_roles`
(service-linked roles refuse ordinary writes). AWS-managed policy documents are in
aws_managed_policies/ (stored by admin.bootstrap).

Importing the package registers every IAM operation.
"""

from rolehop.services.iam import (
    access_keys,
    access_reports,
    account,
    authorization_details,
    certificates,
    credential_report,
    groups,
    identity_tags,
    inline_policies,
    instance_profiles,
    login_profiles,
    mfa,
    oidc_providers,
    password_policy,
    permissions_boundaries,
    policies,
    policy_attachments,
    roles,
    saml_providers,
    service_credentials,
    service_last_accessed,
    service_linked_roles,
    simulator,
    ssh_keys,
    users,
)

__all__ = (
    "access_keys",
    "access_reports",
    "account",
    "authorization_details",
    "certificates",
    "credential_report",
    "groups",
    "identity_tags",
    "inline_policies",
    "instance_profiles",
    "login_profiles",
    "mfa",
    "oidc_providers",
    "password_policy",
    "permissions_boundaries",
    "policies",
    "policy_attachments",
    "roles",
    "saml_providers",
    "service_credentials",
    "service_last_accessed",
    "service_linked_roles",
    "simulator",
    "ssh_keys",
    "users",
)
