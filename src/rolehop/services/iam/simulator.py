"""IAM's policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy,
GetContextKeysForPrincipalPolicy and GetContextKeysForCustomPolicy.

One engine: every (action, resource) pair is a `core.policy.Request` evaluated by
`core.policy.evaluate` over a `PolicySet` of the simulated policies, exactly as enforcement
(`pipeline.authorize.decide`) evaluates a live request; nothing here decides. What is added around
the decision is reporting: which source policy and where in its text each matched statement sits
(`core.policy.positions`), the condition keys the context lacked, and whether the organization's
SCPs and the permissions boundary allow by themselves (the same engine, over those layers alone
behind an allow-everything identity policy).

SimulatePrincipalPolicy reads the principal's stored policies (inline, attached, its groups' for a
user, its permissions boundary) and the SCPs that bind its account (`authorize.control_policies`);
as in AWS, the simulator fills in no context key the caller did not pass (ContextEntries).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rolehop.core.arn import account_of
from rolehop.core.bounded_json import load_json
from rolehop.core.entities import Identity, IdentityKind, ManagedPolicy
from rolehop.core.errors import InvalidInput, MalformedPolicyDocument, NoSuchEntity, ValidationError
from rolehop.core.organization import RCP, SCP
from rolehop.core.policy import Decision, Policy, PolicySet, Request, evaluate, parse_policy
from rolehop.core.policy.positions import Position, statement_spans
from rolehop.core.policy.values import (
    parse_address,
    parse_binary,
    parse_bool,
    parse_date,
    parse_network,
    parse_number,
)
from rolehop.services.iam.policy_documents import decoded
from rolehop.services.pipeline.authorize import ROOT_IN_OWN_ACCOUNT, authorize, compiled, control_policies
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.store import Tx

# ResourceHandlingOption: the EC2 scenarios AWS's simulator knows (IAM API reference)
SCENARIOS = frozenset(
    {
        "EC2-Classic-InstanceStore",
        "EC2-Classic-EBS",
        "EC2-VPC-InstanceStore",
        "EC2-VPC-InstanceStore-Subnet",
        "EC2-VPC-EBS",
        "EC2-VPC-EBS-Subnet",
    }
)
_TYPE_CHECKS: Mapping[str, Callable[[str], bool]] = MappingProxyType(
    {
        "string": lambda v: True,
        "numeric": lambda v: parse_number(v) is not None,
        "boolean": lambda v: parse_bool(v) is not None,
        "date": lambda v: parse_date(v) is not None,
        "ip": lambda v: parse_address(v) is not None or parse_network(v) is not None,
        "binary": lambda v: parse_binary(v) is not None,
    }
)
_KINDS: Mapping[str, IdentityKind] = MappingProxyType({"user": "user", "group": "group", "role": "role"})
ContextValue = str | Sequence[str]


@dataclass(frozen=True, slots=True)
class Source:
    """A simulated policy: how results name it, its text (for positions) and its compiled form."""

    policy_id: str
    policy_type: str  # botocore's PolicySourceType
    document: str
    policy: Policy


@dataclass(slots=True)
class Simulation:
    identity: list[Source]
    boundary: list[Source]
    resource: Source | None
    scps: tuple[tuple[Policy, ...], ...]
    principal: str


def _parse_input(document: str, name: str) -> Policy:
    try:
        return parse_policy(decoded(document), name=name)
    except MalformedPolicyDocument as e:
        raise InvalidInput(f"The policy document {name} is not valid: {e.message}") from None


def _inputs(p: Params, param: str) -> list[Source]:
    out = []
    for i, doc in enumerate(p.get(param) or [], start=1):
        name = f"{param}.{i}"
        out.append(Source(name, "none", decoded(doc), _parse_input(doc, name)))
    return out


def _resource_source(p: Params) -> Source | None:
    doc = p.get("ResourcePolicy")
    if doc is None:
        return None
    return Source("ResourcePolicy", "resource", decoded(doc), _parse_input(doc, "ResourcePolicy"))


def _managed_type(policy_arn: str) -> str:
    return "aws-managed" if account_of(policy_arn) == "aws" else "user-managed"


def _managed_source(
    call: Call, tx: Tx, managed: ManagedPolicy | None, policy_arn: str, account: str
) -> Source:
    usable = managed is not None and managed.attachable_in(account)
    version = tx.get_version(managed.policy_id, managed.default_version_id) if managed and usable else None
    document = version.document if version else '{"Statement":[]}'  # fail closed, as enforcement
    name = f"sim|{policy_arn}"
    return Source(policy_arn, _managed_type(policy_arn), document, compiled(call.runtime, document, name))


def _excluded(p: Params) -> tuple[set[str], set[tuple[str, str, str]]]:
    arns: set[str] = set()
    inline: set[tuple[str, str, str]] = set()
    for item in p.get("PolicyExclusionList") or []:
        if item.get("PolicyArn"):
            arns.add(item["PolicyArn"])
        ident = item.get("InlinePolicyIdentifier")
        if ident:
            inline.add((ident.get("AttachmentType"), ident.get("AttachmentName"), ident.get("PolicyName")))
    return arns, inline


def _stored_policies(call: Call, tx: Tx, identity: Identity, p: Params) -> tuple[list[Source], list[Source]]:
    """The identity's policies (its groups' too for a user) and its stored permissions boundary."""
    excluded_arns, excluded_inline = _excluded(p)
    owners = [identity]
    if identity.kind == "user":
        owners += tx.groups_of(identity.unique_id)
    sources: list[Source] = []
    for owner in owners:
        for inline in tx.list_inline(owner.kind, owner.unique_id):
            if (owner.kind, owner.name, inline.name) in excluded_inline:
                continue
            name = f"sim|{owner.kind}/{owner.name}/{inline.name}"
            policy = compiled(call.runtime, inline.document, name)
            sources.append(Source(inline.name, owner.kind, inline.document, policy))
        for managed in tx.attached_policies(owner.kind, owner.unique_id):
            if managed.arn not in excluded_arns:
                sources.append(_managed_source(call, tx, managed, managed.arn, identity.account_id))
    boundary: list[Source] = []
    if identity.boundary_arn:
        limit = tx.get_policy(identity.boundary_arn)
        boundary.append(_managed_source(call, tx, limit, identity.boundary_arn, identity.account_id))
    return sources, boundary


def _source_identity(call: Call, source_arn: str) -> Identity:
    parts = source_arn.split(":", 5)
    kind = _KINDS.get(parts[5].split("/", 1)[0]) if len(parts) == 6 and parts[2] == "iam" else None
    found = None
    if kind is not None and parts[4] == call.caller.account_id:
        with call.runtime.store.transaction() as tx:
            found = tx.get_identity(kind, parts[4], parts[5].rsplit("/", 1)[-1])
    if found is None or found.arn != source_arn:
        raise NoSuchEntity(f"Entity {source_arn} does not exist.")
    return found


def _caller_arn(p: Params) -> str | None:
    """CallerArn: only an IAM user's ARN (IAM API reference, SimulatePrincipalPolicy)."""
    caller = p.get("CallerArn")
    if caller is None:
        return None
    parts = caller.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("user/"):
        raise InvalidInput(f"Invalid CallerArn {caller}: only the ARN of an IAM user can be specified.")
    return str(caller)


def _context(p: Params) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    for entry in p.get("ContextEntries") or []:
        key, values, kind = (
            entry.get("ContextKeyName"),
            entry.get("ContextKeyValues"),
            entry.get("ContextKeyType"),
        )
        if not key or values is None or kind is None:
            raise InvalidInput(
                "Each context entry needs a ContextKeyName, ContextKeyValues and ContextKeyType."
            )
        base = kind[:-4] if kind.endswith("List") else kind
        check = _TYPE_CHECKS.get(base)
        if check is None:
            raise InvalidInput(f"Invalid ContextKeyType {kind} for context key {key}.")
        if base == "boolean":
            values = [v.lower() for v in values]
        for value in values:
            if not check(value):
                raise InvalidInput(f"Invalid value {value} of type {kind} for context key {key}.")
        if kind.endswith("List"):
            context[key] = list(values)
        elif len(values) != 1:
            raise InvalidInput(f"Context key {key} of type {kind} takes exactly one value; use {kind}List.")
        else:
            context[key] = values[0]
    return context


def _owner_account(p: Params) -> str | None:
    owner = p.get("ResourceOwner")
    if owner is None:
        return None
    account = owner if owner.isdigit() and len(owner) == 12 else account_of(owner)
    if account is None or not (account.isdigit() and len(account) == 12):
        raise InvalidInput(
            f"Invalid ResourceOwner {owner}: it must be an account's ARN (arn:aws:iam::<id>:root)."
        )
    return account


def _check_common(p: Params) -> None:
    option = p.get("ResourceHandlingOption")
    if option is not None and option not in SCENARIOS:
        raise InvalidInput(f"Invalid ResourceHandlingOption {option}.")
    for action in p["ActionNames"]:
        service, sep, name = action.partition(":")
        if not sep or not service or not name:
            raise InvalidInput(f"Invalid action name {action}: it must be service:Action.")


def _condition_keys(document: str) -> list[str]:
    """The condition keys of a document, as spelled, in order of appearance."""
    try:
        doc = load_json(document)
    except (ValueError, TypeError):
        return []
    raw = doc.get("Statement") if isinstance(doc, Mapping) else None
    out: list[str] = []
    for st in raw if isinstance(raw, list) else [raw]:
        block = st.get("Condition") if isinstance(st, Mapping) else None
        if isinstance(block, Mapping):
            for keys in block.values():
                if isinstance(keys, Mapping):
                    out.extend(str(k) for k in keys)
    return out


def _unique_keys(documents: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for document in documents:
        for key in _condition_keys(document):
            seen.setdefault(key.lower(), key)
    return list(seen.values())


def _allowed_alone(req: Request, **layers: Any) -> bool:
    """Whether one layer (SCPs or a boundary) allows by itself: the same engine, the layer behind an
    identity policy that allows everything."""
    return evaluate(req, PolicySet(identity=(ROOT_IN_OWN_ACCOUNT,), **layers)).allowed


_DECISION = MappingProxyType(
    {"Allowed": "allowed", "ExplicitlyDenied": "explicitDeny", "ImplicitlyDenied": "implicitDeny"}
)


def _pos(position: Position) -> dict[str, int]:
    return {"Line": position[0], "Column": position[1]}


def _matched(decision: Decision, sources: Mapping[str, Source]) -> list[dict[str, Any]]:
    out = []
    for match in decision.matched:
        source = sources.get(match.policy)
        if source is None:  # an SCP or RCP statement: reported by OrganizationsDecisionDetail
            continue
        spans = statement_spans(source.document)
        entry: dict[str, Any] = {"SourcePolicyId": source.policy_id, "SourcePolicyType": source.policy_type}
        if match.statement < len(spans):
            start, end = spans[match.statement]
            entry["StartPosition"], entry["EndPosition"] = _pos(start), _pos(end)
        out.append(entry)
    return out


def _missing(sim: Simulation, action: str, ctx: Mapping[str, ContextValue]) -> list[str]:
    present = {k.lower() for k, v in ctx.items() if isinstance(v, str) or v}
    spelled = {k.lower(): k for k in _unique_keys([s.document for s in _all_sources(sim)])}
    missing: dict[str, str] = {}
    key = action.lower()
    for source in _all_sources(sim):
        for st in source.policy.for_action(key):
            for cond in st.conditions:
                if cond.key not in present:
                    missing.setdefault(cond.key, spelled.get(cond.key, cond.key))
    return list(missing.values())


def _all_sources(sim: Simulation) -> list[Source]:
    return sim.identity + sim.boundary + ([sim.resource] if sim.resource else [])


def _simulate(call: Call, sim: Simulation, p: Params) -> Result:
    _check_common(p)
    ctx = _context(p)
    owner = _owner_account(p)
    resources = list(p.get("ResourceArns") or ["*"])
    by_name = {s.policy.name: s for s in _all_sources(sim)}
    sets = PolicySet(
        identity=tuple(s.policy for s in sim.identity),
        resource=sim.resource.policy if sim.resource else None,
        boundaries=tuple(s.policy for s in sim.boundary),
        scps=sim.scps,
    )
    actions = list(p["ActionNames"])
    start, stop, more = _page(p, len(actions) * len(resources))
    results: list[dict[str, Any]] = []
    missing: dict[str, list[str]] = {}
    for k in range(start, stop):  # only the page's pairs are evaluated: a call's work is bounded by MaxItems
        action, resource = actions[k // len(resources)], resources[k % len(resources)]
        if action not in missing:
            missing[action] = _missing(sim, action, ctx)
        results.append(_one(call, sim, sets, by_name, action, resource, owner, ctx, missing[action]))
    return {"EvaluationResults": results, **more}


def _page(p: Params, total: int) -> tuple[int, int, dict[str, Any]]:
    """IAM's Marker/MaxItems over the (action, resource) pairs, in order; the marker names the last
    pair returned, as `common.paginate`'s markers do."""
    max_items = int(p.get("MaxItems") or 100)
    start = 0
    if p.get("Marker"):
        try:
            start = int(base64.urlsafe_b64decode(p["Marker"].encode()).decode()) + 1
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationError("Invalid Marker.") from None
    stop = min(max(start, 0) + max_items, total)
    more: dict[str, Any] = {"IsTruncated": stop < total}
    if more["IsTruncated"]:
        more["Marker"] = base64.urlsafe_b64encode(f"{stop - 1:08d}".encode()).decode()
    return max(start, 0), stop, more


def _one(
    call: Call,
    sim: Simulation,
    sets: PolicySet,
    by_name: Mapping[str, Source],
    action: str,
    resource: str,
    owner: str | None,
    ctx: Mapping[str, ContextValue],
    missing: list[str],
) -> dict[str, Any]:
    resource_owner = owner or account_of(resource) or account_of(sim.principal)
    if resource_owner == "aws":  # AWS-managed policies count as every account's own, as in enforcement
        resource_owner = account_of(sim.principal)
    rcps = (
        control_policies(call.runtime, resource_owner, RCP)
        if resource_owner and action.lower().startswith("sts:")
        else ()
    )
    if rcps:
        sets = PolicySet(sets.identity, sets.resource, sets.boundaries, sets.session, sets.scps, rcps)
    req = Request(
        principal=sim.principal,
        action=action,
        resource=resource,
        resource_account=resource_owner,
        context=ctx,
    )
    decision = evaluate(req, sets)
    eval_decision = _DECISION[decision.decision]
    matched = _matched(decision, by_name)
    specific: dict[str, Any] = {
        "EvalResourceName": resource,
        "EvalResourceDecision": eval_decision,
        "MatchedStatements": matched,
        "MissingContextValues": missing,
    }
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": eval_decision,
        "MatchedStatements": matched,
        "MissingContextValues": missing,
    }
    if sim.scps:
        result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": _allowed_alone(req, scps=sim.scps)}
    if sim.boundary:
        detail = {"AllowedByPermissionsBoundary": _allowed_alone(req, boundaries=sets.boundaries)}
        result["PermissionsBoundaryDecisionDetail"] = detail
        specific["PermissionsBoundaryDecisionDetail"] = detail
    result["ResourceSpecificResults"] = [specific]
    return result


def _custom_scps(p: Params) -> tuple[tuple[Policy, ...], ...]:
    levels = []
    for i, level in enumerate(p.get("OrderedOrganizationPolicyInputList") or [], start=1):
        docs = level.get("ServiceControlPolicyInputList") or []
        name = f"OrderedOrganizationPolicyInputList.{i}"
        levels.append(tuple(_parse_input(d, f"{name}.{j}") for j, d in enumerate(docs, start=1)))
    return tuple(levels)


def _principal_simulation(call: Call, p: Params, action: str) -> tuple[Identity, Simulation]:
    source_arn = p["PolicySourceArn"]
    authorize(call, action, source_arn)
    identity = _source_identity(call, source_arn)
    with call.runtime.store.transaction() as tx:
        stored, boundary = _stored_policies(call, tx, identity, p)
    extra_boundary = _inputs(p, "PermissionsBoundaryPolicyInputList")
    caller = _caller_arn(p)
    if caller is None and identity.kind == "group" and p.get("ResourcePolicy") is not None:
        raise InvalidInput(
            "CallerArn is required when the PolicySourceArn is not a user's and a ResourcePolicy is given."
        )
    # a group has no principal ARN of its own: its policies are simulated for a user of its account
    default = (
        identity.arn
        if identity.kind != "group"
        else f"arn:aws:iam::{identity.account_id}:user/{identity.name}"
    )
    sim = Simulation(
        identity=stored + _inputs(p, "PolicyInputList"),
        boundary=extra_boundary or boundary,  # an input boundary replaces the stored one
        resource=_resource_source(p),
        scps=control_policies(call.runtime, identity.account_id, SCP),
        principal=caller or default,
    )
    return identity, sim


@operation("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(call: Call, p: Params) -> Result:
    _, sim = _principal_simulation(call, p, "iam:SimulatePrincipalPolicy")
    return _simulate(call, sim, p)


@operation("iam", "SimulateCustomPolicy")
def simulate_custom_policy(call: Call, p: Params) -> Result:
    authorize(call, "iam:SimulateCustomPolicy", "*")
    caller = _caller_arn(p)
    if caller is None and p.get("ResourcePolicy") is not None:
        raise InvalidInput("CallerArn is required when a ResourcePolicy is given.")
    sim = Simulation(
        identity=_inputs(p, "PolicyInputList"),
        boundary=_inputs(p, "PermissionsBoundaryPolicyInputList"),
        resource=_resource_source(p),
        scps=_custom_scps(p),
        principal=caller or f"arn:aws:iam::{call.caller.account_id}:user/SimulatedUser",
    )
    return _simulate(call, sim, p)


@operation("iam", "GetContextKeysForPrincipalPolicy")
def get_context_keys_for_principal_policy(call: Call, p: Params) -> Result:
    _, sim = _principal_simulation(call, p, "iam:GetContextKeysForPrincipalPolicy")
    return {"ContextKeyNames": _unique_keys([s.document for s in sim.identity])}


@operation("iam", "GetContextKeysForCustomPolicy")
def get_context_keys_for_custom_policy(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetContextKeysForCustomPolicy", "*")
    sources = _inputs(p, "PolicyInputList")
    return {"ContextKeyNames": _unique_keys([s.document for s in sources])}
