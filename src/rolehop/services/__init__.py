"""Services: one function per AWS operation, registered with @operation(service, name), and what
they need around them. Nothing here imports SQLAlchemy, the wire protocols or the console.

    iam/            IAM operations, one module per resource family
    sts/            STS operations and the temporary credentials they issue
    organizations/  Organizations operations (the organization, accounts, OUs, control policies)
    cloudtrail/     CloudTrail's LookupEvents: each account's event history, from the audit trail
    pipeline/       what every request passes through: authenticate, authorize (the one policy
                    engine), the operation registry, the runtime with its caches, denials, MFA
                    checks and throttling
    ports/          the storage protocols services use; rolehop.store implements them
    signin/         the console's sign-in flows: password and MFA, enrolment, Switch Role,
                    the federation endpoint (pages are rolehop.console's; decisions are here)
    admin/          operator tooling: bootstrap of a fresh store, `rolehop apply`

Importing this package imports every service package below, so that every operation is in
pipeline.registry.OPERATIONS before the first request (tests pin that set to a checked-in list).
A new AWS service gets its own package here, imported on the line below.
"""

from rolehop.services import cloudtrail, iam, organizations, sts

__all__ = ("cloudtrail", "iam", "organizations", "sts")
