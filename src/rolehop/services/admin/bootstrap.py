"""What a fresh store needs before the first request: the management account, AWS-managed
policies, and (from the environment) the management account's root access key."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from rolehop.core import arn
from rolehop.core.entities import AccessKey, Account, ManagedPolicy, PolicyVersion
from rolehop.services.pipeline.authenticate import seal_secret
from rolehop.services.pipeline.runtime import Runtime

MANAGED_POLICIES = Path(__file__).parent.parent / "iam" / "aws_managed_policies"
# botocore and AWS date AWS-managed policies; a fixed date keeps `apply` and tests deterministic
AWS_POLICY_DATE = "2015-02-06T18:39:46+00:00"


def ensure_management_account(rt: Runtime, name: str = "management") -> Account:
    with rt.store.transaction() as tx:
        account = tx.get_account(rt.settings.management_account_id)
        if account is None:
            account = Account(
                rt.settings.management_account_id,
                name,
                f"{name}@example.invalid",
                rt.clock(),
                is_management=True,
            )
            tx.put_account(account)
    return account


def ensure_aws_managed_policies(rt: Runtime) -> None:
    created = datetime.fromisoformat(AWS_POLICY_DATE)
    with rt.store.transaction() as tx:
        for path in sorted(MANAGED_POLICIES.glob("*.json")):
            spec = json.loads(path.read_text())
            policy_arn = arn.aws_managed_policy_arn(spec["path"], path.stem)
            if tx.get_policy(policy_arn) is not None:
                continue
            policy = ManagedPolicy(
                spec["id"],
                policy_arn,
                None,
                path.stem,
                spec["path"],
                "v1",
                created,
                created,
                description=spec["description"],
            )
            document = json.dumps(spec["document"], indent=4)
            tx.insert_policy(policy, PolicyVersion(policy.policy_id, "v1", document, created))


def ensure_root_key(rt: Runtime, access_key_id: str | None, secret: str | None) -> bool:
    """Creates the management account's root key from the environment when it has none yet."""
    if not access_key_id or not secret:
        return False
    account_id = rt.settings.management_account_id
    with rt.store.transaction() as tx:
        if tx.keys_of(account_id, None) or tx.get_key(access_key_id) is not None:
            return False
        tx.insert_key(
            AccessKey(
                access_key_id, account_id, None, seal_secret(rt, access_key_id, secret), "Active", rt.clock()
            )
        )
    rt.changed()
    return True


def bootstrap(rt: Runtime, root_key_id: str | None, root_secret: str | None) -> None:
    ensure_management_account(rt)
    ensure_aws_managed_policies(rt)
    ensure_root_key(rt, root_key_id, root_secret)
