"""rolehop's IAM policy engine: parse and compile policies once, evaluate requests fast.

    policy = parse_policy(document, name="ReadOnly")          # compiled, immutable
    req = Request(principal_arn, "s3:GetObject", resource_arn, context={...})
    decision = evaluate(req, PolicySet(identity=(policy,)))   # Allowed / ExplicitlyDenied / ImplicitlyDenied

Pure: no I/O and no clock (time arrives as context keys such as aws:CurrentTime).
"""

from rolehop.core.policy.compile import VERSIONS, parse_policy
from rolehop.core.policy.evaluate import Decision, DecisionName, Layer, evaluate
from rolehop.core.policy.model import Match, Policy, Statement
from rolehop.core.policy.policyset import PolicySet
from rolehop.core.policy.request import Request

__all__ = [
    "VERSIONS",
    "Decision",
    "DecisionName",
    "Layer",
    "Match",
    "Policy",
    "PolicySet",
    "Request",
    "Statement",
    "evaluate",
    "parse_policy",
]
