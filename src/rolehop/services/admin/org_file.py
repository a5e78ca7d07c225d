"""The organization file: its YAML, checked and read into the model (services/admin/org_model.py).

Everything the file alone can tell is checked here, before the store is opened: the shape of each
section, names and references (accounts by name or ID, OUs by path, policies by name or ARN, groups
by name), uniqueness, and every document as IAM or Organizations validates it. An error names its
place (`users[0].groups[1]: no group named 'x'`). See docs/organization-file.md for the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from rolehop.core import arn
from rolehop.core.errors import AwsError
from rolehop.core.ids import is_account_id
from rolehop.core.org_delegation import check_service_principal
from rolehop.core.org_policy_syntax import ATTACHED_MAX, POLICY_TYPES
from rolehop.core.organization import FEATURE_SETS, RCP, SCP
from rolehop.core.policy.validate import MANAGED_POLICY_MAX, TRUST_POLICY_MAX, PolicyKind, validate_policy
from rolehop.services.admin.org_model import (
    DEFAULT_SESSION,
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
from rolehop.services.iam.common import check_new_path
from rolehop.services.organizations.policies import validate_policy_content

TOP_LEVEL = (
    "organization",
    "management",
    "organizational_units",
    "accounts",
    "organization_policies",
    "delegated_administrators",
    "policies",
    "groups",
    "users",
    "roles",
)
ACCOUNT_KEYS = frozenset({"id", "name", "display_name", "alias", "email", "ou"})
IAM_NAME = re.compile(r"^[\w+=,.@-]+$")
NAME_MAX: Mapping[str, int] = MappingProxyType(
    {"user": 64, "role": 64, "group": 128, "policy": 128, "inline policy": 128}
)


class SpecError(Exception):
    """An invalid organization file: the message names the place."""


def iam_text(document: Json) -> str:
    """How an IAM document of the file is stored (and validated)."""
    return json.dumps(document, indent=2)


def org_text(content: Json) -> str:
    """How an organization policy's content is stored: one line, as its size quota counts spaces."""
    return json.dumps(content)


def _mapping(value: Any, where: str, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: a mapping is required")
    if allowed is not None:
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise SpecError(
                f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})"
            )
    return value


def _list(spec: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"{where}{key}: a list is required")
    return value


def _text(
    spec: Mapping[str, Any], key: str, where: str, *, required: bool = False, max_len: int = 0
) -> str | None:
    value = spec.get(key)
    if value is None or value == "":
        if required:
            raise SpecError(f"{where}.{key}: required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise SpecError(f"{where}.{key}: a string is required")
    text = str(value)
    if max_len and len(text) > max_len:
        raise SpecError(f"{where}.{key}: at most {max_len} characters")
    return text


def _iam_name(spec: Mapping[str, Any], where: str, kind: str) -> str:
    name = _text(spec, "name", where, required=True)
    assert name is not None
    if not IAM_NAME.match(name) or len(name) > NAME_MAX[kind]:
        raise SpecError(
            f"{where}.name: {name!r} is not a {kind} name (1 to {NAME_MAX[kind]} letters, digits and +=,.@_-)"
        )
    return name


def _document(
    value: Any, where: str, kind: PolicyKind, max_chars: int | None, *, managed: bool = True
) -> Json:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: a policy document (a mapping) is required")
    try:
        validate_policy(iam_text(value), kind, max_chars=max_chars, managed=managed)
    except AwsError as e:
        raise SpecError(f"{where}: {e.code}: {e.message}") from e
    return value


def _unique(keys: list[Any], what: Callable[[Any], str]) -> None:
    seen: set[Any] = set()
    for key in keys:
        if key in seen:
            raise SpecError(what(key))
        seen.add(key)


def _duplicate_identity(key: tuple[str, str, str]) -> str:
    kind, account, name = key
    return f"{kind}s: account {account} has two {kind}s named {name!r} (IAM names ignore case)"


class _Parser:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.accounts: dict[str, str] = {}  # name (lower-case) or ID -> ID
        self.ou_paths: list[str] = []
        self.policy_arns: dict[tuple[str, str], str] = {}  # (account ID, name lower-case) -> ARN
        self.policy_accounts: dict[str, str] = {}  # ARN -> account ID
        self.groups: dict[tuple[str, str], str] = {}  # (account ID, name lower-case) -> name
        self.delegations: dict[str, int] = {}  # service principal -> delegated administrators
        self.mgmt = ""

    # accounts and the organization
    def management(self) -> AccountSpec:
        spec = _mapping(self.data.get("management"), "management", ACCOUNT_KEYS - {"ou"})
        if not is_account_id(str(spec.get("id", ""))):
            raise SpecError("management.id: a 12-digit account ID is required")
        self.mgmt = str(spec["id"])
        account = self.account(spec, "management", name_required=False)
        return account

    def account(self, spec: Mapping[str, Any], where: str, *, name_required: bool = True) -> AccountSpec:
        account_id = str(spec.get("id", ""))
        if not is_account_id(account_id):
            raise SpecError(f"{where}.id: a 12-digit account ID is required")
        name = _text(spec, "name", where, required=name_required, max_len=50) or account_id
        for ref in (name.lower(), account_id):
            if ref in self.accounts:
                raise SpecError(f"{where}: another account of this file is already named or numbered {ref!r}")
        self.accounts[name.lower()] = account_id
        self.accounts[account_id] = account_id
        ou = _text(spec, "ou", where) or ""
        if ou and ou not in self.ou_paths:
            raise SpecError(
                f"{where}.ou: no organizational unit {ou!r} in this file (a path such as 'workloads/prod')"
            )
        return AccountSpec(
            account_id,
            name,
            _text(spec, "email", where, max_len=64) or f"{name.lower()}@example.invalid",
            _text(spec, "display_name", where, max_len=50),
            _text(spec, "alias", where, max_len=63),
            ou,
        )

    def account_ref(self, ref: Any, where: str) -> str:
        found = self.accounts.get(str(ref).lower())
        if found is None:
            raise SpecError(f"{where}: no account named or numbered {ref!r} in this file")
        return found

    def organization(self) -> OrgSettings | None:
        if "organization" not in self.data:
            return None
        spec = _mapping(
            self.data["organization"] or {},
            "organization",
            frozenset({"feature_set", "policy_types", "service_access"}),
        )
        feature_set = _text(spec, "feature_set", "organization") or "ALL"
        if feature_set not in FEATURE_SETS:
            raise SpecError(f"organization.feature_set: one of {', '.join(FEATURE_SETS)}")
        default = [SCP] if feature_set == "ALL" else []
        types = spec.get("policy_types", default)
        if not isinstance(types, list):
            raise SpecError("organization.policy_types: a list is required")
        for i, t in enumerate(types):
            if t not in POLICY_TYPES:
                raise SpecError(
                    f"organization.policy_types[{i}]: {t!r} is not one of {', '.join(POLICY_TYPES)}"
                )
        if types and feature_set != "ALL":
            raise SpecError(
                "organization.policy_types: consolidated billing only: an organization without all "
                "features enables no policy types"
            )
        services = _list(spec, "service_access", "organization.")
        for i, principal in enumerate(services):
            try:
                check_service_principal(str(principal))
            except AwsError as e:
                raise SpecError(f"organization.service_access[{i}]: {e.message}") from e
        _unique([str(p) for p in services], lambda p: f"organization.service_access: {p} is listed twice")
        if services and feature_set != "ALL":
            raise SpecError(
                "organization.service_access: trusted access needs an organization with all features"
            )
        return OrgSettings(
            feature_set, tuple(t for t in POLICY_TYPES if t in types), tuple(sorted(str(p) for p in services))
        )

    def organizational_units(self, items: list[Any], parent: str, where: str) -> None:
        names = []
        for i, item in enumerate(items):
            here = f"{where}[{i}]"
            spec = _mapping(item, here, frozenset({"name", "children"}))
            name = _text(spec, "name", here, required=True, max_len=128)
            assert name is not None
            if "/" in name:
                raise SpecError(
                    f"{here}.name: an OU name of the file cannot hold '/' (it separates a path's OUs)"
                )
            names.append(name)
            path = f"{parent}/{name}" if parent else name
            self.ou_paths.append(path)
            self.organizational_units(_list(spec, "children", f"{here}."), path, f"{here}.children")
        _unique(names, lambda n: f"{where}: two OUs named {n!r} under one parent")

    def target(self, ref: Any, where: str) -> str:
        text = str(ref)
        if text.lower() == ROOT:
            return ROOT
        account = self.accounts.get(text.lower())
        if text in self.ou_paths:
            if account is not None:
                raise SpecError(f"{where}: {text!r} names both an OU and an account")
            return ou_target(text)
        if account is None:
            raise SpecError(f"{where}: {text!r} is neither 'root', an OU path, nor an account of this file")
        return account_target(account)

    def org_policy(self, item: Any, where: str) -> OrgPolicySpec:
        spec = _mapping(item, where, frozenset({"name", "type", "description", "content", "targets"}))
        name = _text(spec, "name", where, required=True, max_len=128)
        policy_type = _text(spec, "type", where, required=True)
        if policy_type not in POLICY_TYPES:
            raise SpecError(f"{where}.type: {policy_type!r} is not one of {', '.join(POLICY_TYPES)}")
        content = spec.get("content")
        if not isinstance(content, dict):
            raise SpecError(f"{where}.content: the policy's content (a mapping) is required")
        try:
            validate_policy_content(policy_type, org_text(content))
        except AwsError as e:
            raise SpecError(f"{where}.content: {e.code}: {e.message}") from e
        targets = [
            self.target(t, f"{where}.targets[{i}]") for i, t in enumerate(_list(spec, "targets", f"{where}."))
        ]
        _unique(targets, lambda t: f"{where}.targets: {t.split(':', 1)[-1]!r} is listed twice")
        assert name is not None and policy_type is not None
        return OrgPolicySpec(
            policy_type,
            name,
            _text(spec, "description", where, max_len=512) or "",
            content,
            frozenset(targets),
        )

    @staticmethod
    def attachment_quota(policies: tuple[OrgPolicySpec, ...]) -> None:
        """AWS's quota of policies of one type attached to one target; FullAWSAccess
        (RCPFullAWSAccess), which the file leaves attached, counts."""
        held: dict[tuple[str, str], int] = {}
        for p in policies:
            for target in p.targets:
                held[(p.policy_type, target)] = held.get((p.policy_type, target), 0) + 1
        for (policy_type, target), count in sorted(held.items()):
            limit = ATTACHED_MAX[policy_type] - (1 if policy_type in (SCP, RCP) else 0)
            if count > limit:
                raise SpecError(
                    f"organization_policies: {target.split(':', 1)[-1]!r} would hold {count} {policy_type} "
                    f"policies of this file; AWS attaches at most {ATTACHED_MAX[policy_type]} to one target"
                    + (
                        ", the AWS-managed one it keeps attached included"
                        if limit < ATTACHED_MAX[policy_type]
                        else ""
                    )
                )

    def delegated_admin(self, item: Any, where: str) -> DelegatedAdminSpec:
        spec = _mapping(item, where, frozenset({"account", "service_principal"}))
        account = self.account_ref(spec.get("account"), f"{where}.account")
        if account == self.mgmt:
            raise SpecError(f"{where}.account: the management account cannot be a delegated administrator")
        principal = _text(spec, "service_principal", where, required=True) or ""
        try:
            limit = check_service_principal(principal, delegation=True)
        except AwsError as e:
            raise SpecError(f"{where}.service_principal: {e.message}") from e
        self.delegations[principal] = self.delegations.get(principal, 0) + 1
        if self.delegations[principal] > limit:
            raise SpecError(f"{where}: {principal} takes at most {limit} delegated administrator(s)")
        return DelegatedAdminSpec(account, principal)

    # IAM
    def owner(self, spec: Mapping[str, Any], where: str) -> str:
        return self.account_ref(spec["account"], f"{where}.account") if spec.get("account") else self.mgmt

    def path(self, spec: Mapping[str, Any], where: str) -> str:
        try:
            return check_new_path(str(spec.get("path") or "/"))
        except AwsError as e:
            raise SpecError(f"{where}.path: {e.message}") from e

    def policy(self, item: Any, where: str) -> PolicySpec:
        spec = _mapping(item, where, frozenset({"name", "account", "path", "description", "document"}))
        name, account, path = (
            _iam_name(spec, where, "policy"),
            self.owner(spec, where),
            self.path(spec, where),
        )
        document = _document(spec.get("document"), f"{where}.document", "identity", MANAGED_POLICY_MAX)
        policy_arn = arn.iam_arn(account, "policy", path, name)
        if (account, name.lower()) in self.policy_arns:
            raise SpecError(
                f"{where}.name: account {account} has another policy named {name!r} (IAM names ignore case)"
            )
        self.policy_arns[(account, name.lower())] = policy_arn
        self.policy_accounts[policy_arn] = account
        return PolicySpec(account, name, path, _text(spec, "description", where, max_len=1000), document)

    def policy_ref(self, ref: Any, where: str, kind: str, account: str) -> str:
        text = str(ref)
        if text.startswith("arn:"):
            if text.startswith("arn:aws:iam::aws:policy/"):
                return text  # an AWS-managed policy: the store's list of them is checked by `plan`
            owner = self.policy_accounts.get(text)
            if owner == account:
                return text
        else:
            found = self.policy_arns.get((account, text.lower()))
            if found is not None:
                return found
        owners = sorted(
            {a for (a, n) in self.policy_arns if n == text.lower()} | {self.policy_accounts.get(text, "")}
        )
        elsewhere = (
            f" (this file gives it to account {', '.join(o for o in owners if o)})" if any(owners) else ""
        )
        raise SpecError(
            f"{where}: no policy {text!r} for account {account}{elsewhere}; a {kind} in account {account} "
            "may hold AWS-managed policies (by ARN) and its own account's policies of this file"
        )

    def attachments(self, spec: Mapping[str, Any], where: str, kind: str, account: str) -> frozenset[str]:
        refs = [
            self.policy_ref(r, f"{where}.policies[{i}]", kind, account)
            for i, r in enumerate(_list(spec, "policies", f"{where}."))
        ]
        return frozenset(refs)

    def boundary(self, spec: Mapping[str, Any], where: str, kind: str, account: str) -> str | None:
        ref = spec.get("permissions_boundary")
        return None if ref is None else self.policy_ref(ref, f"{where}.permissions_boundary", kind, account)

    def inline(self, spec: Mapping[str, Any], where: str) -> dict[str, Json]:
        value = spec.get("inline") or {}
        if not isinstance(value, dict):
            raise SpecError(f"{where}.inline: a mapping of policy name to document is required")
        found: dict[str, Json] = {}
        for name, doc in value.items():
            if not IAM_NAME.match(str(name)) or len(str(name)) > NAME_MAX["inline policy"]:
                raise SpecError(f"{where}.inline: {name!r} is not a policy name")
            found[str(name)] = _document(doc, f"{where}.inline.{name}", "identity", None, managed=False)
        return found

    def group(self, item: Any, where: str) -> IdentitySpec:
        spec = _mapping(item, where, frozenset({"name", "account", "path", "policies", "inline"}))
        name, account = _iam_name(spec, where, "group"), self.owner(spec, where)
        self.groups[(account, name.lower())] = name
        return IdentitySpec(
            "group",
            account,
            name,
            self.path(spec, where),
            self.attachments(spec, where, "group", account),
            self.inline(spec, where),
        )

    def user(self, item: Any, where: str) -> IdentitySpec:
        spec = _mapping(
            item,
            where,
            frozenset(
                {
                    "name",
                    "account",
                    "path",
                    "groups",
                    "policies",
                    "inline",
                    "permissions_boundary",
                    "console_access",
                    "initial_password",
                }
            ),
        )
        name, account = _iam_name(spec, where, "user"), self.owner(spec, where)
        groups = []
        for i, ref in enumerate(_list(spec, "groups", f"{where}.")):
            if (account, str(ref).lower()) not in self.groups:
                raise SpecError(f"{where}.groups[{i}]: no group named {ref!r}")
            groups.append(str(ref).lower())
        password = spec.get("initial_password")
        if password is not None and (not isinstance(password, str) or not password):
            raise SpecError(f"{where}.initial_password: a non-empty string is required")
        console = spec.get("console_access", password is not None)
        if not isinstance(console, bool):
            raise SpecError(f"{where}.console_access: true or false")
        if password is not None and not console:
            raise SpecError(f"{where}.initial_password: given for a user without console_access")
        return IdentitySpec(
            "user",
            account,
            name,
            self.path(spec, where),
            self.attachments(spec, where, "user", account),
            self.inline(spec, where),
            boundary=self.boundary(spec, where, "user", account),
            groups=frozenset(groups),
            console_access=console,
            initial_password=password,
        )

    def roles(self, item: Any, where: str) -> list[IdentitySpec]:
        spec = _mapping(
            item,
            where,
            frozenset(
                {
                    "name",
                    "accounts",
                    "path",
                    "description",
                    "trust",
                    "policies",
                    "inline",
                    "max_session_duration",
                    "permissions_boundary",
                }
            ),
        )
        name = _iam_name(spec, where, "role")
        trust = _document(spec.get("trust"), f"{where}.trust", "trust", TRUST_POLICY_MAX)
        duration = spec.get("max_session_duration", DEFAULT_SESSION)
        if not isinstance(duration, int) or isinstance(duration, bool) or not 3600 <= duration <= 43200:
            raise SpecError(f"{where}.max_session_duration: must be 3600..43200 seconds")
        refs = _list(spec, "accounts", f"{where}.") or [self.mgmt]
        accounts = [self.account_ref(r, f"{where}.accounts[{i}]") for i, r in enumerate(refs)]
        _unique(accounts, lambda a: f"{where}.accounts: account {a} is listed twice")
        path, inline = self.path(spec, where), self.inline(spec, where)
        description = _text(spec, "description", where, max_len=1000)
        return [
            IdentitySpec(
                "role",
                account,
                name,
                path,
                self.attachments(spec, where, "role", account),
                inline,
                boundary=self.boundary(spec, where, "role", account),
                description=description,
                trust=trust,
                max_session_duration=duration,
            )
            for account in accounts
        ]

    def model(self) -> OrgModel:
        organization = self.organization()
        management = self.management()
        self.organizational_units(_list(self.data, "organizational_units", ""), "", "organizational_units")
        accounts = tuple(
            self.account(_mapping(a, f"accounts[{i}]", ACCOUNT_KEYS), f"accounts[{i}]")
            for i, a in enumerate(_list(self.data, "accounts", ""))
        )
        emails = [a.email.lower() for a in (management, *accounts)]
        _unique(emails, lambda e: f"accounts: two accounts have the e-mail address {e}")
        aliases = [a.alias.lower() for a in (management, *accounts) if a.alias]
        _unique(aliases, lambda e: f"accounts: two accounts have the alias {e}")
        org_policies = tuple(
            self.org_policy(p, f"organization_policies[{i}]")
            for i, p in enumerate(_list(self.data, "organization_policies", ""))
        )
        self.attachment_quota(org_policies)
        _unique(
            [p.key for p in org_policies],
            lambda k: f"organization_policies: two {k[0]} policies named {k[1]!r}",
        )
        delegated = tuple(
            self.delegated_admin(d, f"delegated_administrators[{i}]")
            for i, d in enumerate(_list(self.data, "delegated_administrators", ""))
        )
        _unique(
            [(d.account_id, d.service_principal) for d in delegated],
            lambda k: f"delegated_administrators: account {k[0]} is listed twice for {k[1]}",
        )
        policies = tuple(
            self.policy(p, f"policies[{i}]") for i, p in enumerate(_list(self.data, "policies", ""))
        )
        groups = [self.group(g, f"groups[{i}]") for i, g in enumerate(_list(self.data, "groups", ""))]
        users = [self.user(u, f"users[{i}]") for i, u in enumerate(_list(self.data, "users", ""))]
        roles = [
            r for i, item in enumerate(_list(self.data, "roles", "")) for r in self.roles(item, f"roles[{i}]")
        ]
        for items in (groups, users, roles):
            _unique([i.key for i in items], _duplicate_identity)
        return OrgModel(
            management,
            organization,
            accounts,
            tuple(self.ou_paths),
            org_policies,
            delegated,
            policies,
            tuple(groups + users + roles),
        )


def parse_spec(data: Any) -> OrgModel:
    """The model of an organization file's parsed YAML; SpecError names the first problem."""
    if not isinstance(data, dict):
        raise SpecError(f"the file must be a mapping with some of: {', '.join(TOP_LEVEL)}")
    unknown = sorted(str(k) for k in data if k not in TOP_LEVEL)
    if unknown:
        raise SpecError(f"unknown top-level key(s): {', '.join(unknown)}")
    return _Parser(data).model()
