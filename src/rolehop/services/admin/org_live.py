"""The organization as the store holds it, read into the organization file's model: what `export`
writes and what `plan` compares a file with.

Left out, as no file can name them: AWS-managed policies and their attachments (FullAWSAccess,
RCPFullAWSAccess), identities under AWS's reserved paths, accounts outside the organization.
OrganizationAccountAccessRole, made by CreateAccount with its account, belongs to the account: it
is in the model (a file may manage it), never unmanaged, and exported only once it differs from
what CreateAccount made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rolehop.core.entities import Account, Identity, IdentityKind
from rolehop.core.org_policy_syntax import POLICY_TYPES
from rolehop.core.organization import Organization
from rolehop.services.admin.org_file import SpecError
from rolehop.services.admin.org_model import (
    ROOT,
    AccountSpec,
    DelegatedAdminSpec,
    IdentitySpec,
    Json,
    OrgModel,
    OrgPolicySpec,
    OrgSettings,
    PolicySpec,
    account_target,
    ou_target,
)
from rolehop.services.iam.common import RESERVED_PATHS
from rolehop.services.organizations.accounts import ACCESS_ROLE, ADMIN_POLICY, access_role_trust
from rolehop.services.ports.store import Tx

IdentityKey = tuple[str, str, str]


@dataclass(frozen=True)
class Live:
    model: OrgModel  # every identity of the accounts read, account-owned roles included
    org: Organization | None
    accounts: dict[str, Account]  # every account of the store, by ID
    ou_ids: dict[str, str]  # OU path -> ou-…
    org_policy_ids: dict[tuple[str, str], str]  # (type, name) -> p-…
    account_owned: frozenset[IdentityKey]  # the access roles CreateAccount made: never unmanaged
    as_created: frozenset[IdentityKey]  # those of them still as CreateAccount made them

    def export_model(self) -> OrgModel:
        """The model `export` writes: account-owned roles only once changed."""
        return OrgModel(
            self.model.management,
            self.model.organization,
            self.model.accounts,
            self.model.ous,
            self.model.org_policies,
            self.model.delegated_admins,
            self.model.policies,
            tuple(i for i in self.model.identities if i.key not in self.as_created),
        )


def _json(text: str, what: str) -> Json:
    try:
        return json.loads(text)
    except ValueError as e:
        raise SpecError(f"{what}: the stored document is not JSON") from e


def access_role(account_id: str, management_account_id: str) -> IdentitySpec:
    """OrganizationAccountAccessRole as CreateAccount makes it."""
    return IdentitySpec(
        "role",
        account_id,
        ACCESS_ROLE,
        policies=frozenset({ADMIN_POLICY}),
        trust=json.loads(access_role_trust(management_account_id)),
    )


def account_spec(account: Account, ou: str) -> AccountSpec:
    return AccountSpec(
        account.account_id, account.name, account.email, account.display_name, account.alias, ou
    )


def _ou_paths(tx: Tx, org: Organization | None) -> dict[str, str]:
    """ou-… -> its path, for every OU whose parents lead to the root."""
    if org is None:
        return {}
    ous = {ou.ou_id: ou for ou in tx.list_ous()}
    paths: dict[str, str] = {}

    def path_of(ou_id: str, seen: frozenset[str]) -> str | None:
        if ou_id in paths:
            return paths[ou_id]
        ou = ous.get(ou_id)
        if ou is None or ou_id in seen:
            return None
        if "/" in ou.name:
            raise SpecError(
                f"organizational unit {ou_id} is named {ou.name!r}: an organization file cannot name "
                "an OU holding '/' (rename it with UpdateOrganizationalUnit)"
            )
        if ou.parent_id == org.root_id:
            paths[ou_id] = ou.name
            return ou.name
        parent = path_of(ou.parent_id, seen | {ou_id})
        if parent is None:
            return None
        paths[ou_id] = f"{parent}/{ou.name}"
        return paths[ou_id]

    for ou_id in ous:
        path_of(ou_id, frozenset())
    return paths


def _identity_spec(tx: Tx, identity: Identity) -> IdentitySpec:
    what = f"{identity.kind} {identity.name} of account {identity.account_id}"
    policies = frozenset(p.arn for p in tx.attached_policies(identity.kind, identity.unique_id))
    inline = {
        p.name: _json(p.document, f"{what}, inline policy {p.name}")
        for p in sorted(tx.list_inline(identity.kind, identity.unique_id), key=lambda p: p.name)
    }
    common: dict[str, Any] = {"path": identity.path, "policies": policies, "inline": inline}
    if identity.kind == "group":
        return IdentitySpec("group", identity.account_id, identity.name, **common)
    if identity.kind == "user":
        return IdentitySpec(
            "user",
            identity.account_id,
            identity.name,
            **common,
            boundary=identity.boundary_arn,
            groups=frozenset(g.name.lower() for g in tx.groups_of(identity.unique_id)),
            console_access=tx.get_login_profile(identity.unique_id) is not None,
        )
    return IdentitySpec(
        "role",
        identity.account_id,
        identity.name,
        **common,
        boundary=identity.boundary_arn,
        description=identity.description or None,
        trust=_json(identity.trust_policy or "{}", f"{what}, trust policy"),
        max_session_duration=identity.max_session_duration or 3600,
    )


def _iam(tx: Tx, account_ids: list[str]) -> tuple[list[PolicySpec], list[IdentitySpec]]:
    policies = []
    for account_id in account_ids:
        for p in sorted(tx.list_policies(account_id), key=lambda p: p.name.lower()):
            version = tx.get_version(p.policy_id, p.default_version_id)
            document = _json(
                version.document if version else "{}", f"policy {p.name} of account {account_id}"
            )
            policies.append(PolicySpec(account_id, p.name, p.path, p.description or None, document))
    kinds: tuple[IdentityKind, ...] = ("group", "user", "role")
    identities = [
        _identity_spec(tx, identity)
        for kind in kinds
        for account_id in account_ids
        for identity in tx.list_identities(kind, account_id)
        if not identity.path.startswith(RESERVED_PATHS)
    ]
    return policies, identities


def read_live(tx: Tx, management_account_id: str, also: tuple[str, ...] = ()) -> Live:
    """The organization the store holds, managed by `management_account_id`; the IAM objects of the
    management account, of each member account and of the accounts `also` names (a file's accounts
    that exist outside the organization)."""
    org = tx.get_organization()
    accounts = {a.account_id: a for a in tx.list_accounts()}
    mgmt = accounts.get(management_account_id)
    members = sorted(
        (a for a in accounts.values() if a.in_organization and a.account_id != management_account_id),
        key=lambda a: (a.name.lower(), a.account_id),
    )
    paths = _ou_paths(tx, org)
    ou_ids = {path: ou_id for ou_id, path in paths.items()}

    def ou_of(account_id: str) -> str:
        return paths.get(tx.parent_of_account(account_id) or "", "")

    member_ids = {a.account_id for a in members}
    org_policies, policy_ids = [], {}
    for policy_type in POLICY_TYPES:
        for p in tx.list_org_policies(policy_type):
            if p.aws_managed:
                continue
            targets = set()
            for target in tx.org_policy_targets(p.policy_id):
                if org is not None and target == org.root_id:
                    targets.add(ROOT)
                elif target in paths:
                    targets.add(ou_target(paths[target]))
                elif target in member_ids:
                    targets.add(account_target(target))
            content = _json(p.content, f"{policy_type} {p.name}")
            org_policies.append(
                OrgPolicySpec(policy_type, p.name, p.description, content, frozenset(targets))
            )
            policy_ids[(policy_type, p.name)] = p.policy_id
    iam_accounts = [a for a in (management_account_id, *(m.account_id for m in members)) if a in accounts]
    iam_accounts += [a for a in also if a in accounts and a not in iam_accounts]
    policies, identities = _iam(tx, iam_accounts)
    owned = [
        access_role(a.account_id, management_account_id) for a in members if a.joined_method == "CREATED"
    ]
    by_key = {i.key: i for i in identities}
    model = OrgModel(
        account_spec(mgmt, "") if mgmt else None,
        OrgSettings(
            org.feature_set,
            tuple(t for t in POLICY_TYPES if t in org.policy_types),
            tuple(sorted(a.service_principal for a in tx.list_service_access())),
        )
        if org
        else None,
        tuple(account_spec(a, ou_of(a.account_id)) for a in members),
        tuple(sorted(ou_ids, key=lambda p: p.split("/"))),
        tuple(org_policies),
        tuple(
            DelegatedAdminSpec(d.account_id, d.service_principal)
            for d in tx.list_delegated_administrators()
            if d.account_id in member_ids
        ),
        tuple(policies),
        tuple(identities),
    )
    return Live(
        model,
        org,
        accounts,
        ou_ids,
        policy_ids,
        frozenset(role.key for role in owned),
        frozenset(role.key for role in owned if by_key.get(role.key) == role),
    )
