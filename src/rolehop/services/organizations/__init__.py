"""Organizations operations: organization (DescribeOrganization, ListRoots), accounts (accounts and
CreateAccount), units (OUs and moving accounts), policies (SCPs and RCPs and their attachments);
`common` holds the management-account gate and ARNs. Which control policies bind an account at
request time is pipeline.control_policies.

Importing the package registers every Organizations operation.
"""

from rolehop.services.organizations import accounts, organization, policies, units

__all__ = ("accounts", "organization", "policies", "units")
