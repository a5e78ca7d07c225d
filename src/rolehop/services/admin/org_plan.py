"""What `apply` would change: a file's model against the store's, object by object.

An object the file names is created when missing and changed, field by field, when it differs
(drift: a change made through the API shows here); an object of the same kind that the file does
not name is unmanaged: not a change, deleted only by `apply --prune`. What a file can never name
(see org_live) is neither. The plan also checks what only the store can tell: AWS-managed
policies that exist, initial passwords against the account's password policy, e-mail addresses
other accounts hold, and AWS's rules on changing what exists (a feature set, a policy's path).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from rolehop.core import arn
from rolehop.core.errors import AwsError
from rolehop.core.org_delegation import check_service_principal
from rolehop.core.organization import SCP
from rolehop.core.passwords import check_password
from rolehop.services.admin.bootstrap import MANAGED_POLICIES
from rolehop.services.admin.org_file import SpecError
from rolehop.services.admin.org_live import IdentityKey, Live, access_role, account_spec, read_live
from rolehop.services.admin.org_model import (
    ROOT,
    AccountSpec,
    DelegatedAdminSpec,
    IdentitySpec,
    Json,
    OrgModel,
    OrgSettings,
    account_target,
    ou_target,
)
from rolehop.services.ports.store import Tx

Action = Literal["create", "update", "delete"]

ORGANIZATION = "organization"
ACCOUNT = "account"
OU = "organizational unit"
ORG_POLICY = "organization policy"
DELEGATED = "delegated administrator"
POLICY = "policy"
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
ONE_TIME_PASSWORD = "a one-time password, printed once by apply, to be changed at first sign-in"


@dataclass(frozen=True)
class FieldChange:
    """One field of an object: a value (before, after), members (added, removed) or a document (diff)."""

    name: str
    before: str | None = None
    after: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    diff: tuple[str, ...] = ()  # unified diff lines of the documents, as sorted JSON


@dataclass(frozen=True)
class Change:
    action: Action
    kind: str  # ORGANIZATION, ACCOUNT, OU, ORG_POLICY, DELEGATED, POLICY, or group, user, role
    label: str  # which one, for people
    fields: tuple[FieldChange, ...] = ()
    desired: Any = None  # the file's spec (create, update)
    live: Any = None  # the store's spec (update, delete)
    note: str = ""


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unmanaged: tuple[Change, ...]  # the deletions `apply --prune` makes (in `changes` when pruning)
    prune: bool
    desired: OrgModel = field(repr=False)
    live: Live = field(repr=False)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _value(name: str, before: Any, after: Any) -> list[FieldChange]:
    if before == after:
        return []
    return [FieldChange(name, None if before is None else str(before), None if after is None else str(after))]


def _members(name: str, before: frozenset[str], after: frozenset[str], label: Any = str) -> list[FieldChange]:
    if before == after:
        return []
    added = tuple(sorted(label(x) for x in after - before))
    removed = tuple(sorted(label(x) for x in before - after))
    return [FieldChange(name, added=added, removed=removed)]


def _pretty(document: Json) -> list[str]:
    return json.dumps(document, indent=2, sort_keys=True).splitlines()


def _document(name: str, before: Json, after: Json) -> list[FieldChange]:
    if before == after:
        return []
    lines = difflib.unified_diff(_pretty(before), _pretty(after), lineterm="", n=1)
    return [
        FieldChange(name, diff=tuple(line for line in lines if not line.startswith(("---", "+++", "@@"))))
    ]


def policy_label(policy_arn: str) -> str:
    """How a policy is named in a plan: AWS-managed by ARN, a customer's by name."""
    return policy_arn if policy_arn.startswith(AWS_POLICY_PREFIX) else policy_arn.rsplit("/", 1)[-1]


def _aws_managed_arns(tx: Tx) -> frozenset[str]:
    """The AWS-managed policies of the store, and of rolehop's own list (a store not bootstrapped yet
    gets them at apply)."""
    bundled = {
        arn.aws_managed_policy_arn(json.loads(path.read_text())["path"], path.stem)
        for path in MANAGED_POLICIES.glob("*.json")
    }
    return frozenset({p.arn for p in tx.list_policies(None)} | bundled)


class _Planner:
    def __init__(self, tx: Tx, desired: OrgModel, live: Live, prune: bool) -> None:
        self.tx, self.desired, self.live, self.prune = tx, desired, live, prune
        assert desired.management is not None
        self.mgmt = desired.management.account_id
        self.changes: list[Change] = []
        self.unmanaged: list[Change] = []
        self.names = live.model.account_names() | desired.account_names()
        self.new_accounts: set[str] = set()

    def account_name(self, account_id: str) -> str:
        return self.names.get(account_id, account_id)

    def target_name(self, target: str) -> str:
        if target == ROOT:
            return ROOT
        kind, _, ref = target.partition(":")
        return self.account_name(ref) if kind == "account" else ref

    def where(self, account_id: str) -> str:
        return f"in {self.account_name(account_id)}"

    # the organization
    def organization(self) -> OrgSettings:
        want, have = self.desired.organization, self.live.model.organization
        if have is None:
            settings = want or OrgSettings("ALL", (SCP,))
            fields = [FieldChange("feature_set", after=settings.feature_set)]
            fields += _members("policy_types", frozenset(), frozenset(settings.policy_types))
            fields += _members("service_access", frozenset(), frozenset(settings.service_access))
            self.changes.append(Change("create", ORGANIZATION, "", tuple(fields), settings))
            return settings
        if want is None or want == have:
            return have
        if have.feature_set == "ALL" and want.feature_set != "ALL":
            raise SpecError(
                "organization.feature_set: the organization has all features; AWS never goes back to "
                "consolidated billing only"
            )
        fields = _value("feature_set", have.feature_set, want.feature_set)
        fields += _members("policy_types", frozenset(have.policy_types), frozenset(want.policy_types))
        fields += _members("service_access", frozenset(have.service_access), frozenset(want.service_access))
        assert self.live.org is not None
        self.changes.append(Change("update", ORGANIZATION, self.live.org.org_id, tuple(fields), want, have))
        return want

    # accounts
    def account_fields(self, want: AccountSpec, have: AccountSpec) -> list[FieldChange]:
        fields = []
        for name in ("name", "email", "display_name", "alias"):
            fields += _value(name, getattr(have, name), getattr(want, name))
        return fields + _value("ou", have.ou or ROOT, want.ou or ROOT)

    def check_emails(self) -> None:
        """E-mail addresses and IAM account aliases are unique: another account's can't be taken."""
        ours = {w.account_id for w in self.desired.all_accounts()}
        others = [a for a in self.live.accounts.values() if a.account_id not in ours]
        emails = {a.email.lower(): a.account_id for a in others}
        aliases = {a.alias.lower(): a.account_id for a in others if a.alias}
        for want in self.desired.all_accounts():
            holder = emails.get(want.email.lower())
            if holder is not None:
                raise SpecError(f"account {want.name}: the e-mail address {want.email} is account {holder}'s")
            holder = aliases.get((want.alias or "").lower())
            if holder is not None:
                raise SpecError(f"account {want.name}: the alias {want.alias} is account {holder}'s")

    def account(self, want: AccountSpec) -> None:
        label = f"{want.name} ({want.account_id})"
        current = self.live.accounts.get(want.account_id)
        if current is None:
            self.new_accounts.add(want.account_id)
            self.changes.append(
                Change("create", ACCOUNT, label, tuple(_value("ou", None, want.ou or None)), want)
            )
            return
        members = {a.account_id: a for a in self.live.model.accounts}
        if want.account_id == self.mgmt:
            have = self.live.model.management or account_spec(current, "")
            fields = self.account_fields(want, have)
        elif want.account_id in members:
            have = members[want.account_id]
            fields = self.account_fields(want, have)
        else:
            have = account_spec(current, "")
            fields = [FieldChange("organization", "outside", "member"), *self.account_fields(want, have)]
        if fields:
            self.changes.append(Change("update", ACCOUNT, label, tuple(fields), want, have))

    def members(self) -> None:
        for want in self.desired.accounts:
            self.account(want)
        wanted = {a.account_id for a in self.desired.accounts}
        for have in self.live.model.accounts:
            if have.account_id not in wanted:
                label = f"{have.name} ({have.account_id})"
                self.unmanaged.append(
                    Change("delete", ACCOUNT, label, live=have, note="leaves the organization")
                )

    def ous(self) -> None:
        for path in self.desired.ous:
            if path not in self.live.ou_ids:
                self.changes.append(Change("create", OU, path, desired=path))
        for path in reversed(self.live.model.ous):
            if path not in self.desired.ous:
                self.unmanaged.append(Change("delete", OU, path, live=path))

    def org_policies(self, settings: OrgSettings) -> None:
        if self.desired.org_policies and settings.feature_set != "ALL":
            raise SpecError(
                "organization_policies: policies of every type need an organization with all features"
            )
        for i, want in enumerate(self.desired.org_policies):
            if want.targets and want.policy_type not in settings.policy_types:
                raise SpecError(
                    f"organization_policies[{i}].targets: {want.policy_type} is not enabled in the root "
                    "(list it in organization.policy_types)"
                )
        managed = (
            {ROOT}
            | {ou_target(p) for p in self.desired.ous}
            | {account_target(a.account_id) for a in self.desired.accounts}
        )
        have_by_key = {p.key: p for p in self.live.model.org_policies}
        for want in self.desired.org_policies:
            label = f"{want.name} ({want.policy_type})"
            have = have_by_key.get(want.key)
            if have is None:
                fields = _members("targets", frozenset(), want.targets, self.target_name)
                self.changes.append(Change("create", ORG_POLICY, label, tuple(fields), want))
                continue
            fields = _value("description", have.description or None, want.description or None)
            fields += _document("content", have.content, want.content)
            fields += _members("targets", have.targets & managed, want.targets, self.target_name)
            if fields:
                self.changes.append(Change("update", ORG_POLICY, label, tuple(fields), want, have))
        wanted = {p.key for p in self.desired.org_policies}
        for have in self.live.model.org_policies:
            if have.key not in wanted:
                label = f"{have.name} ({have.policy_type})"
                self.unmanaged.append(Change("delete", ORG_POLICY, label, live=have))

    def delegated_admins(self, settings: OrgSettings) -> None:
        if self.desired.delegated_admins and settings.feature_set != "ALL":
            raise SpecError("delegated_administrators: an organization needs all features to delegate")
        kept = set(self.desired.delegated_admins) | (
            set() if self.prune else set(self.live.model.delegated_admins)
        )
        for i, want in enumerate(self.desired.delegated_admins):
            if want.service_principal not in settings.service_access:
                raise SpecError(
                    f"delegated_administrators[{i}]: trusted access for {want.service_principal} is not "
                    "enabled (list it in organization.service_access)"
                )
            limit = check_service_principal(want.service_principal, delegation=True)
            holders = sorted(d.account_id for d in kept if d.service_principal == want.service_principal)
            if len(holders) > limit:
                raise SpecError(
                    f"delegated_administrators[{i}]: {want.service_principal} takes at most {limit} "
                    f"delegated administrator(s), and accounts {', '.join(holders)} would be (apply --prune "
                    "removes those the file does not name)"
                )

        def label(d: DelegatedAdminSpec) -> str:
            return f"{self.account_name(d.account_id)} for {d.service_principal}"

        have = set(self.live.model.delegated_admins)
        for want in self.desired.delegated_admins:
            if want not in have:
                self.changes.append(Change("create", DELEGATED, label(want), desired=want))
        for d in self.live.model.delegated_admins:
            if d not in self.desired.delegated_admins:
                self.unmanaged.append(Change("delete", DELEGATED, label(d), live=d))

    # IAM
    def managed_accounts(self) -> set[str]:
        return {a.account_id for a in self.desired.all_accounts()}

    def policies(self) -> None:
        have_by_key = {p.key: p for p in self.live.model.policies}
        for want in self.desired.policies:
            label = f"{want.name} {self.where(want.account_id)}"
            have = have_by_key.get(want.key)
            if have is None:
                self.changes.append(Change("create", POLICY, label, desired=want))
                continue
            if have.path != want.path:
                raise SpecError(
                    f"policy {want.name} of account {want.account_id}: IAM never changes a policy's path "
                    f"({have.path} in the store, {want.path} in the file)"
                )
            fields = _value("description", have.description, want.description)  # IAM renames no policy
            fields += _document("document", have.document, want.document)
            if fields:
                self.changes.append(Change("update", POLICY, label, tuple(fields), want, have))
        wanted = {p.key for p in self.desired.policies}
        accounts = self.managed_accounts()
        for p in self.live.model.policies:
            if p.key not in wanted and p.account_id in accounts:
                self.unmanaged.append(
                    Change("delete", POLICY, f"{p.name} {self.where(p.account_id)}", live=p)
                )

    def check_aws_policies(self) -> None:
        known = _aws_managed_arns(self.tx)
        for want in self.desired.identities:
            for ref in sorted(want.policies | ({want.boundary} if want.boundary else set())):
                if ref.startswith(AWS_POLICY_PREFIX) and ref not in known:
                    raise SpecError(f"{want.kind} {want.name}: no AWS-managed policy {ref}")

    def identity_fields(self, want: IdentitySpec, have: IdentitySpec) -> list[FieldChange]:
        fields = _value("name", have.name, want.name) + _value("path", have.path, want.path)
        if want.kind == "role":
            fields += _value("description", have.description, want.description)
            fields += _value("max_session_duration", have.max_session_duration, want.max_session_duration)
            fields += _document("trust", have.trust, want.trust)
        if want.kind != "group":
            fields += _value(
                "permissions_boundary",
                have.boundary and policy_label(have.boundary),
                want.boundary and policy_label(want.boundary),
            )
        if want.kind == "user":
            fields += _value("console_access", have.console_access, want.console_access)
            fields += _members("groups", have.groups, want.groups, self.group_name(want.account_id))
        fields += _members("policies", have.policies, want.policies, policy_label)
        fields += _members("inline", frozenset(have.inline), frozenset(want.inline))
        for name in sorted(set(have.inline) & set(want.inline)):
            fields += _document(f"inline {name}", have.inline[name], want.inline[name])
        return fields

    def group_name(self, account_id: str) -> Any:
        names = {i.name.lower(): i.name for i in self.desired.identities if i.kind == "group"}
        return lambda key: names.get(key, key)

    def password_note(self, want: IdentitySpec) -> str:
        if want.initial_password is None:
            return ONE_TIME_PASSWORD
        policy = self.tx.get_password_policy(want.account_id)
        try:
            check_password(want.initial_password, policy)
        except AwsError as e:
            raise SpecError(f"user {want.name}: initial_password: {e.message}") from e
        return "the file's initial password, to be changed at first sign-in"

    def identities(self) -> None:
        self.check_aws_policies()
        have_by_key = {i.key: i for i in self.live.model.identities}
        owned: set[IdentityKey] = set(self.live.account_owned)
        for account_id in self.new_accounts - {self.mgmt}:  # CreateAccount makes its access role
            role = access_role(account_id, self.mgmt)
            have_by_key[role.key] = role
            owned.add(role.key)
        for want in self.desired.identities:
            label = f"{want.name} {self.where(want.account_id)}"
            have = have_by_key.get(want.key)
            gets_password = want.kind == "user" and want.console_access and not (have and have.console_access)
            note = self.password_note(want) if gets_password else ""
            if have is None:
                self.changes.append(Change("create", want.kind, label, desired=want, note=note))
                continue
            fields = self.identity_fields(want, have)
            if fields:
                self.changes.append(Change("update", want.kind, label, tuple(fields), want, have, note))
        wanted = {i.key for i in self.desired.identities}
        accounts = self.managed_accounts()
        for have in sorted(self.live.model.identities, key=lambda i: ("role", "user", "group").index(i.kind)):
            if have.key not in wanted and have.key not in owned and have.account_id in accounts:
                label = f"{have.name} {self.where(have.account_id)}"
                self.unmanaged.append(Change("delete", have.kind, label, live=have))

    def plan(self) -> Plan:
        assert self.desired.management is not None
        self.check_emails()
        self.account(self.desired.management)  # the management account exists before its organization
        settings = self.organization()
        self.ous()  # before the accounts they hold
        self.members()
        self.org_policies(settings)
        self.delegated_admins(settings)
        self.policies()
        self.identities()
        order = (
            "role",
            "user",
            "group",
            POLICY,
            DELEGATED,
            ORG_POLICY,
            ACCOUNT,
            OU,
        )
        unmanaged = tuple(sorted(self.unmanaged, key=lambda c: order.index(c.kind)))
        changes = tuple(self.changes) + (unmanaged if self.prune else ())
        return Plan(changes, unmanaged, self.prune, self.desired, self.live)


def make_plan(tx: Tx, desired: OrgModel, *, prune: bool = False) -> Plan:
    """What applying `desired` to the store would change (`desired.management` is the store's
    management account: apply checks it)."""
    assert desired.management is not None
    live = read_live(tx, desired.management.account_id, tuple(a.account_id for a in desired.accounts))
    return _Planner(tx, desired, live, prune).plan()
