"""`rolehop export`: the live organization written as an organization file, never a secret.

Deterministic, so that export -> apply to a fresh store -> export gives the same bytes: sections in
a fixed order, accounts by name, OUs as a tree (siblings by name), policies by type then name, IAM
objects by account (the management account first) then name, a role held by several accounts
once with their list, sets (attachments, targets, groups) sorted, documents in their stored key
order, and one YAML style (block mappings; short lists of scalars on one line).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from rolehop.core.org_policy_syntax import POLICY_TYPES
from rolehop.services.admin.org_file import SpecError
from rolehop.services.admin.org_live import read_live
from rolehop.services.admin.org_model import (
    DEFAULT_SESSION,
    ROOT,
    AccountSpec,
    IdentitySpec,
    OrgModel,
    OrgSettings,
)
from rolehop.services.admin.org_plan import AWS_POLICY_PREFIX
from rolehop.services.pipeline.runtime import Runtime

HEADER = (
    "# The organization as rolehop holds it (`rolehop export`): apply it with `rolehop apply`.\n"
    "# The format: docs/organization-file.md. Console passwords are never exported.\n"
)
FLOW_WIDTH = 90  # a list of plain words no longer than this stays on one line
PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.@+=-]*$")


class _Dumper(yaml.SafeDumper):
    """Block sequences indented under their key; short lists of scalars in flow style."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    plain = all(isinstance(x, str) and PLAIN.match(x) for x in data)  # no quotes needed in a flow
    short = plain and sum(len(x) + 2 for x in data) <= FLOW_WIDTH
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=bool(data) and short)


_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1 << 16
    )
    return text


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Without the keys a file may leave out (None, empty, the default)."""
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {}}


class _Writer:
    def __init__(self, model: OrgModel) -> None:
        self.model = model
        assert model.management is not None
        self.mgmt = model.management.account_id
        self.accounts = sorted(model.accounts, key=lambda a: (a.name.lower(), a.account_id))
        order = [self.mgmt, *(a.account_id for a in self.accounts)]
        self.rank = {account_id: i for i, account_id in enumerate(order)}
        self.names = model.account_names()

    def account_name(self, account_id: str) -> str:
        return self.names.get(account_id, account_id)

    def organization(self, settings: OrgSettings) -> dict[str, Any]:
        # policy_types even when empty: a file without them gets SCPs (as CreateOrganization does)
        found = {"feature_set": settings.feature_set, "policy_types": list(settings.policy_types)}
        return found | _compact({"service_access": list(settings.service_access)})

    def account(self, account: AccountSpec) -> dict[str, Any]:
        return _compact(
            {
                "id": account.account_id,
                "name": account.name,
                "display_name": account.display_name,
                "alias": account.alias,
                "email": account.email,
                "ou": account.ou or None,
            }
        )

    def ous(self) -> list[dict[str, Any]]:
        def children(parent: str) -> list[dict[str, Any]]:
            found = [p for p in self.model.ous if p.rpartition("/")[0] == parent]
            return [
                _compact({"name": p.rpartition("/")[2], "children": children(p)})
                for p in sorted(found, key=lambda p: p.rpartition("/")[2])
            ]

        return children("")

    def target(self, target: str) -> tuple[int, str]:
        if target == ROOT:
            return (0, ROOT)
        kind, _, ref = target.partition(":")
        return (1, ref) if kind == "ou" else (2, self.account_name(ref))

    def org_policies(self) -> list[dict[str, Any]]:
        policies = sorted(self.model.org_policies, key=lambda p: (POLICY_TYPES.index(p.policy_type), p.name))
        return [
            _compact(
                {
                    "name": p.name,
                    "type": p.policy_type,
                    "description": p.description or None,
                    "targets": [name for _, name in sorted(self.target(t) for t in p.targets)],
                    "content": p.content,
                }
            )
            for p in policies
        ]

    def delegated_admins(self) -> list[dict[str, Any]]:
        found = sorted(
            (self.account_name(d.account_id), d.service_principal) for d in self.model.delegated_admins
        )
        return [{"account": account, "service_principal": principal} for account, principal in found]

    def owner(self, account_id: str) -> str | None:
        return None if account_id == self.mgmt else self.account_name(account_id)

    def by_account(self, account_id: str, name: str) -> tuple[int, str, str]:
        return (self.rank.get(account_id, len(self.rank)), name.lower(), name)

    def iam_policies(self) -> list[dict[str, Any]]:
        return [
            _compact(
                {
                    "name": p.name,
                    "account": self.owner(p.account_id),
                    "path": None if p.path == "/" else p.path,
                    "description": p.description,
                    "document": p.document,
                }
            )
            for p in sorted(self.model.policies, key=lambda p: self.by_account(p.account_id, p.name))
        ]

    def policy_ref(self, policy_arn: str) -> str:
        """AWS-managed policies by ARN; the holder's own account's by name."""
        return policy_arn if policy_arn.startswith(AWS_POLICY_PREFIX) else policy_arn.rsplit("/", 1)[-1]

    def refs(self, arns: frozenset[str]) -> list[str]:
        return sorted((self.policy_ref(a) for a in arns), key=lambda r: (r.startswith("arn:"), r.lower(), r))

    def inline(self, identity: IdentitySpec) -> dict[str, Any]:
        return {name: identity.inline[name] for name in sorted(identity.inline)}

    def groups(self) -> list[dict[str, Any]]:
        groups = [i for i in self.model.identities if i.kind == "group"]
        return [
            _compact(
                {
                    "name": g.name,
                    "account": self.owner(g.account_id),
                    "path": None if g.path == "/" else g.path,
                    "policies": self.refs(g.policies),
                    "inline": self.inline(g),
                }
            )
            for g in sorted(groups, key=lambda g: self.by_account(g.account_id, g.name))
        ]

    def users(self) -> list[dict[str, Any]]:
        group_names = {
            (i.account_id, i.name.lower()): i.name for i in self.model.identities if i.kind == "group"
        }
        users = [i for i in self.model.identities if i.kind == "user"]
        return [
            _compact(
                {
                    "name": u.name,
                    "account": self.owner(u.account_id),
                    "path": None if u.path == "/" else u.path,
                    "groups": sorted(
                        (group_names.get((u.account_id, g), g) for g in u.groups), key=str.lower
                    ),
                    "policies": self.refs(u.policies),
                    "permissions_boundary": u.boundary and self.policy_ref(u.boundary),
                    "console_access": True if u.console_access else None,
                    "inline": self.inline(u),
                }
            )
            for u in sorted(users, key=lambda u: self.by_account(u.account_id, u.name))
        ]

    def role(self, role: IdentitySpec, accounts: list[str]) -> dict[str, Any]:
        return _compact(
            {
                "name": role.name,
                "accounts": accounts,
                "path": None if role.path == "/" else role.path,
                "description": role.description,
                "max_session_duration": None
                if role.max_session_duration == DEFAULT_SESSION
                else role.max_session_duration,
                "permissions_boundary": role.boundary and self.policy_ref(role.boundary),
                "trust": role.trust,
                "policies": self.refs(role.policies),
                "inline": self.inline(role),
            }
        )

    def roles(self) -> list[dict[str, Any]]:
        """A role defined alike in several accounts is one entry listing them."""
        roles = sorted(
            (i for i in self.model.identities if i.kind == "role"),
            key=lambda r: self.by_account(r.account_id, r.name),
        )
        entries: list[tuple[dict[str, Any], list[str]]] = []
        for role in roles:
            written = self.role(role, [])
            same = next((e for e in entries if e[0] == written), None)
            if same is None:
                entries.append((written, [role.account_id]))
            else:
                same[1].append(role.account_id)
        entries.sort(key=lambda e: (str(e[0]["name"]).lower(), str(e[0]["name"]), self.rank.get(e[1][0], 0)))
        return [
            self.role_entry(written, [self.account_name(a) for a in accounts])
            for written, accounts in entries
        ]

    def role_entry(self, written: dict[str, Any], accounts: list[str]) -> dict[str, Any]:
        return {"name": written["name"], "accounts": accounts} | {
            k: v for k, v in written.items() if k != "name"
        }

    def sections(self) -> list[tuple[str, Any]]:
        assert self.model.management is not None
        sections: list[tuple[str, Any]] = []
        if self.model.organization is not None:
            sections.append(("organization", self.organization(self.model.organization)))
        sections += [
            ("management", self.account(self.model.management)),
            ("organizational_units", self.ous()),
            ("accounts", [self.account(a) for a in self.accounts]),
            ("organization_policies", self.org_policies()),
            ("delegated_administrators", self.delegated_admins()),
            ("policies", self.iam_policies()),
            ("groups", self.groups()),
            ("users", self.users()),
            ("roles", self.roles()),
        ]
        return [(key, value) for key, value in sections if value]


def export_text(model: OrgModel) -> str:
    """The organization file of `model`: a header, then one section after another."""
    if model.management is None:
        raise SpecError("the store has no management account yet: nothing to export")
    parts = [dump_yaml({key: value}) for key, value in _Writer(model).sections()]
    return HEADER + "\n" + "\n".join(parts)


def export_organization(rt: Runtime) -> str:
    """The store's organization as an organization file."""
    with rt.store.transaction() as tx:
        org = tx.get_organization()
        if org is not None:
            mgmt = org.management_account_id
        else:
            found = [a.account_id for a in tx.list_accounts() if a.is_management]
            mgmt = found[0] if found else rt.settings.management_account_id
        live = read_live(tx, mgmt)
    return export_text(live.export_model())
