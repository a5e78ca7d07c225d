"""`rolehop apply`: make the store hold the organization a file describes.

Declarative and idempotent: what the file lists is created or brought in line (documents,
attachments, memberships); what it does not list is left alone. Everything is checked before
anything is written, and all writes happen in one transaction, so a bad file changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from rolehop.core import arn
from rolehop.core.entities import (
    Account,
    Identity,
    IdentityKind,
    InlinePolicy,
    LoginProfile,
    ManagedPolicy,
    PolicyVersion,
)
from rolehop.core.errors import AwsError
from rolehop.core.ids import GROUP_PREFIX, POLICY_PREFIX, ROLE_PREFIX, USER_PREFIX, is_account_id, unique_id
from rolehop.core.passwords import check_password
from rolehop.core.policy.validate import MANAGED_POLICY_MAX, TRUST_POLICY_MAX, PolicyKind, validate_policy
from rolehop.services.iam.common import check_new_path
from rolehop.services.iam.login_profiles import hash_password
from rolehop.services.organizations.accounts import create_member_account
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.store import Tx


class SpecError(Exception):
    """An invalid organization file: the message names the place."""


@dataclass
class Plan:
    changes: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.changes.append(what)


def _doc(value: Any, where: str, kind: PolicyKind, max_chars: int | None, *, managed: bool = True) -> str:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: a policy document (a mapping) is required")
    text = json.dumps(value, indent=2)
    try:
        validate_policy(text, kind, max_chars=max_chars, managed=managed)
    except AwsError as e:
        raise SpecError(f"{where}: {e.code}: {e.message}") from e
    return text


def _same(a: str, b: str) -> bool:
    return bool(json.loads(a) == json.loads(b))


def _list(spec: dict[str, Any], key: str, where: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise SpecError(f"{where}.{key}: a list is required")
    return value


def _name(item: Any, where: str) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise SpecError(f"{where}: a mapping with a 'name' is required")
    return str(item["name"])


@dataclass(frozen=True)
class Spec:
    management: dict[str, Any]
    accounts: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    users: list[dict[str, Any]]
    roles: list[dict[str, Any]]


def parse_spec(data: Any) -> Spec:
    if not isinstance(data, dict):
        raise SpecError(
            "the file must be a mapping with 'management', 'accounts', 'groups', 'users', 'roles'"
        )
    unknown = set(data) - {"management", "accounts", "policies", "groups", "users", "roles"}
    if unknown:
        raise SpecError(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    management = data.get("management")
    if not isinstance(management, dict) or not is_account_id(str(management.get("id", ""))):
        raise SpecError("management.id: a 12-digit account ID is required")
    accounts = _list(data, "accounts", "")
    for i, account in enumerate(accounts):
        _name(account, f"accounts[{i}]")
        if not is_account_id(str(account.get("id", ""))):
            raise SpecError(f"accounts[{i}].id: a 12-digit account ID is required")
    spec = Spec(
        management,
        accounts,
        _list(data, "policies", ""),
        _list(data, "groups", ""),
        _list(data, "users", ""),
        _list(data, "roles", ""),
    )
    for section in ("policies", "groups", "users", "roles"):
        names = [_name(item, f"{section}[{i}]").lower() for i, item in enumerate(getattr(spec, section))]
        if section != "roles" and len(set(names)) != len(names):
            raise SpecError(f"{section}: names must be unique (IAM names ignore case)")
    return spec


class _Applier:
    def __init__(self, rt: Runtime, tx: Tx, spec: Spec) -> None:
        self.rt, self.tx, self.spec = rt, tx, spec
        self.mgmt = str(spec.management["id"])
        self.now = rt.clock()
        self.plan = Plan()
        self.account_ids: dict[str, str] = {}

    def run(self) -> Plan:
        self.accounts()
        for i, p in enumerate(self.spec.policies):
            self.policy(p, f"policies[{i}]")
        for i, g in enumerate(self.spec.groups):
            self.group(g, f"groups[{i}]")
        for i, u in enumerate(self.spec.users):
            self.user(u, f"users[{i}]")
        for i, r in enumerate(self.spec.roles):
            self.role(r, f"roles[{i}]")
        return self.plan

    # accounts
    def accounts(self) -> None:
        m = self.spec.management
        self.account(self.mgmt, m, "management", management=True)
        for i, a in enumerate(self.spec.accounts):
            self.account(str(a["id"]), a, f"accounts[{i}]", management=False)

    def account(self, account_id: str, spec: dict[str, Any], where: str, *, management: bool) -> None:
        name = str(spec.get("name") or account_id)
        self.account_ids[name.lower()] = account_id
        self.account_ids[account_id] = account_id
        wanted = Account(
            account_id,
            name,
            str(spec.get("email") or f"{name.lower()}@example.invalid"),
            self.now,
            alias=spec.get("alias"),
            display_name=spec.get("display_name"),
            is_management=management,
        )
        current = self.tx.get_account(account_id)
        if current is None:
            if management:
                self.tx.put_account(wanted)
            else:
                create_member_account(self.rt, self.tx, wanted)
            self.plan.note(f"created account {name} ({account_id})")
            return
        wanted = replace(wanted, created_at=current.created_at, status=current.status)
        if wanted != current:
            self.tx.put_account(wanted)
            self.plan.note(f"updated account {name} ({account_id})")

    def account_ref(self, ref: Any, where: str) -> str:
        found = self.account_ids.get(str(ref).lower())
        if found is None:
            raise SpecError(f"{where}: no account named or numbered {ref!r} in this file")
        return found

    @staticmethod
    def path(spec: dict[str, Any], where: str) -> str:
        try:
            return check_new_path(str(spec.get("path", "/")))
        except AwsError as e:
            raise SpecError(f"{where}.path: {e.message}") from e

    # policies
    def policy(self, spec: dict[str, Any], where: str) -> None:
        name = spec["name"]
        path = self.path(spec, where)
        document = _doc(spec.get("document"), f"{where}.document", "identity", MANAGED_POLICY_MAX)
        policy_arn = arn.iam_arn(self.mgmt, "policy", path, name)
        current = self.tx.get_policy(policy_arn)
        if current is None:
            policy = ManagedPolicy(
                unique_id(POLICY_PREFIX, self.rt.random(11)),
                policy_arn,
                self.mgmt,
                name,
                path,
                "v1",
                self.now,
                self.now,
                description=spec.get("description"),
            )
            self.tx.insert_policy(policy, PolicyVersion(policy.policy_id, "v1", document, self.now))
            self.plan.note(f"created policy {name}")
            return
        default = self.tx.get_version(current.policy_id, current.default_version_id)
        if default is not None and _same(default.document, document):
            return
        versions = self.tx.list_versions(current.policy_id)
        if len(versions) >= 5:  # make room as IAM users do: drop the oldest non-default version
            oldest = [v for v in versions if v.version_id != current.default_version_id][-1]
            self.tx.delete_version(current.policy_id, oldest.version_id)
        version = PolicyVersion(current.policy_id, f"v{current.next_version}", document, self.now)
        self.tx.insert_version(version)
        self.tx.update_policy(
            replace(
                current,
                default_version_id=version.version_id,
                next_version=current.next_version + 1,
                updated_at=self.now,
            )
        )
        self.plan.note(f"updated policy {name} to {version.version_id}")

    def policy_ref(self, ref: Any, where: str, holder: Identity) -> ManagedPolicy:
        text = str(ref)
        policy_arn = text if text.startswith("arn:") else arn.iam_arn(self.mgmt, "policy", "/", text)
        found = self.tx.get_policy(policy_arn)
        if found is None:
            raise SpecError(f"{where}: no managed policy {text!r} (AWS-managed ARN or a policy of this file)")
        if not found.attachable_in(holder.account_id):  # IAM refuses another account's policy
            raise SpecError(
                f"{where}: {text!r} is a policy of account {found.account_id}; a {holder.kind} in account "
                f"{holder.account_id} may hold only AWS-managed policies and its own account's"
            )
        return found

    # identities
    def identity(
        self, kind: IdentityKind, account_id: str, spec: dict[str, Any], prefix: str, **extra: Any
    ) -> Identity:
        name, path = spec["name"], self.path(spec, f"{kind} {spec['name']}")
        current = self.tx.get_identity(kind, account_id, name)
        if current is None:
            created = Identity(
                kind, unique_id(prefix, self.rt.random(11)), account_id, name, path, self.now, **extra
            )
            self.tx.insert_identity(created)
            self.plan.note(f"created {kind} {name} in {account_id}")
            return created
        wanted = replace(current, path=path, **extra)
        if wanted != current:
            self.tx.update_identity(wanted)
            self.plan.note(f"updated {kind} {name} in {account_id}")
        return wanted

    def attachments(self, identity: Identity, spec: dict[str, Any], where: str) -> None:
        wanted = {
            self.policy_ref(ref, f"{where}.policies[{i}]", identity).policy_id: str(ref)
            for i, ref in enumerate(_list(spec, "policies", where))
        }
        current = {p.policy_id for p in self.tx.attached_policies(identity.kind, identity.unique_id)}
        for policy_id in wanted.keys() - current:
            self.tx.attach(policy_id, identity.kind, identity.unique_id)
            self.plan.note(f"attached {wanted[policy_id]} to {identity.kind} {identity.name}")
        for policy_id in current - wanted.keys():
            self.tx.detach(policy_id, identity.kind, identity.unique_id)
            self.plan.note(f"detached a policy from {identity.kind} {identity.name}")
        inline = spec.get("inline") or {}
        if not isinstance(inline, dict):
            raise SpecError(f"{where}.inline: a mapping of policy name to document is required")
        for name, doc in inline.items():
            text = _doc(doc, f"{where}.inline.{name}", "identity", None, managed=False)
            found = self.tx.get_inline(identity.kind, identity.unique_id, name)
            if found is None or not _same(found.document, text):
                self.tx.put_inline(InlinePolicy(identity.kind, identity.unique_id, name, text))
                self.plan.note(f"put inline policy {name} on {identity.kind} {identity.name}")

    def group(self, spec: dict[str, Any], where: str) -> None:
        group = self.identity("group", self.mgmt, spec, GROUP_PREFIX)
        self.attachments(group, spec, where)

    def user(self, spec: dict[str, Any], where: str) -> None:
        user = self.identity("user", self.mgmt, spec, USER_PREFIX)
        self.attachments(user, spec, where)
        self.initial_password(user, spec.get("initial_password"), f"{where}.initial_password")
        wanted = {}
        for i, name in enumerate(_list(spec, "groups", where)):
            group = self.tx.get_identity("group", self.mgmt, str(name))
            if group is None:
                raise SpecError(f"{where}.groups[{i}]: no group named {name!r}")
            wanted[group.unique_id] = group.name
        current = {g.unique_id: g.name for g in self.tx.groups_of(user.unique_id)}
        for group_id in wanted.keys() - current.keys():
            self.tx.add_member(group_id, user.unique_id)
            self.plan.note(f"added user {user.name} to group {wanted[group_id]}")
        for group_id in current.keys() - wanted.keys():
            self.tx.remove_member(group_id, user.unique_id)
            self.plan.note(f"removed user {user.name} from group {current[group_id]}")

    def initial_password(self, user: Identity, password: Any, where: str) -> None:
        """A console password the user must change at first sign-in; set once, never overwritten."""
        if password is None:
            return
        if not isinstance(password, str) or not password:
            raise SpecError(f"{where}: a non-empty string is required")
        if self.tx.get_login_profile(user.unique_id) is not None:
            return
        try:
            check_password(password, self.tx.get_password_policy(self.mgmt))
        except AwsError as e:
            raise SpecError(f"{where}: {e.message}") from e
        profile = LoginProfile(
            user.unique_id, hash_password(password), self.now, self.now, password_reset_required=True
        )
        self.tx.put_login_profile(profile)
        self.plan.note(f"created the console password of user {user.name} (to be changed at first sign-in)")

    def role(self, spec: dict[str, Any], where: str) -> None:
        trust = _doc(spec.get("trust"), f"{where}.trust", "trust", TRUST_POLICY_MAX)
        duration = int(spec.get("max_session_duration", 3600))
        if not 3600 <= duration <= 43200:
            raise SpecError(f"{where}.max_session_duration: must be 3600..43200 seconds")
        accounts = _list(spec, "accounts", where) or [self.mgmt]
        for i, ref in enumerate(accounts):
            account_id = self.account_ref(ref, f"{where}.accounts[{i}]")
            current = self.tx.get_identity("role", account_id, spec["name"])
            kept_trust = (
                current.trust_policy
                if current and current.trust_policy and _same(current.trust_policy, trust)
                else trust
            )
            role = self.identity(
                "role",
                account_id,
                spec,
                ROLE_PREFIX,
                trust_policy=kept_trust,
                max_session_duration=duration,
                description=spec.get("description"),
            )
            self.attachments(role, spec, where)


def apply_spec(rt: Runtime, spec: Spec) -> list[str]:
    """Applies `spec` in one transaction; returns what changed (empty: nothing to do)."""
    if str(spec.management["id"]) != rt.settings.management_account_id:
        raise SpecError(
            f"management.id: {spec.management['id']} is not this store's management account "
            f"{rt.settings.management_account_id}"
        )
    with rt.store.transaction() as tx:
        existing = [
            a
            for a in tx.list_accounts()
            if a.is_management and a.account_id != rt.settings.management_account_id
        ]
        if existing:
            raise SpecError(
                f"management.id: the store already belongs to management account {existing[0].account_id}"
            )
        try:
            plan = _Applier(rt, tx, spec).run()
        except AwsError as e:
            raise SpecError(f"{e.code}: {e.message}") from e
    rt.changed()
    return plan.changes
