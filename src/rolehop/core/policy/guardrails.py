"""Rules that hold whatever the policies say.

- `sts:GetCallerIdentity` needs no permission and cannot be denied (STS API reference:
  "No permissions are required to perform this operation … an explicit deny … you can still
  perform this operation").
- Resources AWS owns cannot be changed by an account's principals, however broad their
  policies: AWS managed policies (`arn:aws:iam::aws:policy/…`: "you can't change the
  permissions defined in AWS managed policies", IAM User Guide), roles under `/aws-reserved/`
  (IAM Identity Center's roles, changed only through Identity Center) and the `alias/aws/…`
  aliases of AWS managed KMS keys (reserved, KMS Developer Guide). Reading them stays allowed.
"""

from __future__ import annotations

from rolehop.core.policy.request import Request

ALWAYS_ALLOWED = frozenset({"sts:getcalleridentity"})
_READ_PREFIXES = ("get", "list", "generate", "simulate")
_KMS_ALIAS_WRITES = frozenset({"kms:createalias", "kms:deletealias", "kms:updatealias"})


def aws_owned_resource_change(req: Request) -> bool:
    """True when the request would change a resource that AWS owns."""
    parts = req.resource_parts
    if parts is None or req.resource_is_pattern:
        return False
    service, account, resource = parts[2], parts[4], parts[5]
    action = req.action_key
    if service == "iam" and action.startswith("iam:"):
        managed_policy = account == "aws" and resource.startswith("policy/")
        owned = managed_policy or resource.startswith("role/aws-reserved/")
        return owned and not action[4:].startswith(_READ_PREFIXES)
    if service == "kms" and resource.startswith("alias/aws/"):
        return action in _KMS_ALIAS_WRITES
    return False
