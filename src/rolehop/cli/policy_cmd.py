"""`rolehop policy …`: validate and evaluate IAM policies offline with the server's own engine."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

import click

from rolehop.core.errors import MalformedPolicyDocument
from rolehop.core.policy import Decision, Policy, PolicySet, Request, evaluate, parse_policy


@click.group()
def policy() -> None:
    """Validate and evaluate IAM policies with rolehop's policy engine."""


@policy.command("evaluate")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--jsonl", is_flag=True, help="FILE holds one request object a line.")
@click.option(
    "--literal-resources",
    is_flag=True,
    help="Match a resource containing * or ? literally, as the server does, instead of "
    "as a pattern standing for any resource like it.",
)
def evaluate_cmd(file: IO[str], jsonl: bool, literal_resources: bool) -> None:
    """Evaluate requests against their policies, printing one JSON decision a line.

    A request is {"principal", "action", "resource", "resource_account", "context",
    "identity_policies", "resource_policy", "permissions_boundaries", "session_policies",
    "scps": [[…] per level, root first], "rcps": [[…] per level]}; absent keys mean none.
    The exit status is 0 whatever the decisions; a request that cannot be evaluated (a
    malformed policy, a missing field) is answered ImplicitlyDenied, or ExplicitlyDenied when
    another policy denies, with an "error" field.
    """
    for item in _requests(file, jsonl):
        click.echo(json.dumps(answer(item, pattern_resources=not literal_resources)))


def _requests(file: IO[str], jsonl: bool) -> Iterator[Any]:
    if jsonl:
        for number, line in enumerate(file, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    yield _Unreadable(f"line {number} is not JSON: {exc}")
        return
    try:
        loaded = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file.name} is not JSON: {exc}") from None
    yield from loaded if isinstance(loaded, list) else [loaded]


class _Unreadable:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def answer(item: Any, *, pattern_resources: bool = True) -> dict[str, Any]:
    """The decision line for one request object."""
    if isinstance(item, _Unreadable):
        return _failed(item.reason)
    if not isinstance(item, Mapping):
        return _failed("a request must be a JSON object")
    errors: list[str] = []
    try:
        req = _request(item, pattern_resources)
    except (KeyError, TypeError, ValueError) as exc:
        return _failed(f"bad request: {exc}")
    sets = PolicySet(
        identity=_policies(item.get("identity_policies"), "identity_policies", errors),
        resource=_resource_policy(item.get("resource_policy"), errors),
        boundaries=_policies(item.get("permissions_boundaries"), "permissions_boundaries", errors),
        session=_policies(item.get("session_policies"), "session_policies", errors),
        scps=_levels(item.get("scps"), "scps", errors),
        rcps=_levels(item.get("rcps"), "rcps", errors),
    )
    try:
        decision = evaluate(req, sets)
    except Exception as exc:  # one bad request must not end the batch
        return _failed(f"cannot evaluate: {exc!r}")
    out = _line(decision)
    if errors:
        # fail closed: what could not be compiled may have denied, so nothing is allowed
        if decision.decision == "Allowed":
            out["decision"] = "ImplicitlyDenied"
        out["error"] = "; ".join(errors)
    return out


def _request(item: Mapping[str, Any], pattern_resources: bool) -> Request:
    principal, action = item["principal"], item["action"]
    resource = item.get("resource") or "*"
    if not all(isinstance(v, str) for v in (principal, action, resource)):
        raise TypeError("principal, action and resource must be strings")
    account = item.get("resource_account")
    context = item.get("context") or {}
    if not isinstance(context, Mapping):
        raise TypeError("context must be an object")
    return Request(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=str(account) if account is not None else None,
        context={str(k): v if isinstance(v, list) else _scalar(v) for k, v in context.items()},
        resource_is_pattern=pattern_resources and ("*" in resource or "?" in resource),
    )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compile(doc: Any, name: str, errors: list[str]) -> Policy | None:
    try:
        return parse_policy(doc if isinstance(doc, Mapping | str) else json.dumps(doc), name=name)
    except MalformedPolicyDocument as exc:
        errors.append(f"{name}: {exc.message}")
        return None


def _policies(docs: Any, name: str, errors: list[str]) -> tuple[Policy, ...]:
    if docs is None:
        return ()
    if not isinstance(docs, list):
        docs = [docs]
    compiled = (_compile(doc, f"{name}[{i}]", errors) for i, doc in enumerate(docs))
    return tuple(p for p in compiled if p is not None)


def _resource_policy(doc: Any, errors: list[str]) -> Policy | None:
    return None if doc is None else _compile(doc, "resource_policy", errors)


def _levels(levels: Any, name: str, errors: list[str]) -> tuple[tuple[Policy, ...], ...]:
    if levels is None:
        return ()
    if not isinstance(levels, list):
        errors.append(f"{name} must be a list of levels")
        return ()
    return tuple(_policies(level, f"{name}[{i}]", errors) for i, level in enumerate(levels))


def _line(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.decision,
        "matched": [
            {"policy": m.policy, "statement": m.statement, "sid": m.sid, "effect": m.effect}
            for m in decision.matched
        ],
        "missing": list(decision.missing),
    }


def _failed(reason: str) -> dict[str, Any]:
    return {"decision": "ImplicitlyDenied", "matched": [], "missing": [], "error": reason}


@policy.command("validate")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--kind",
    type=click.Choice(["identity", "trust", "resource", "scp", "session"]),
    default="identity",
    show_default=True,
    help="Which kind of policy FILE is: each has its own rules and size limit.",
)
def validate_cmd(file: IO[str], kind: str) -> None:
    """Check a policy document as IAM (or Organizations, or STS) would on write.

    Prints "valid" and exits 0, or prints the AWS error code and message and exits 1.
    """
    from rolehop.core.errors import AwsError
    from rolehop.core.policy import validate as rules

    limits = {
        "identity": rules.MANAGED_POLICY_MAX,
        "trust": rules.TRUST_POLICY_MAX,
        "scp": rules.SCP_MAX,
        "session": rules.SESSION_POLICY_MAX,
        "resource": None,
    }
    document = file.read()
    try:
        rules.validate_policy(document, kind, max_chars=limits[kind])  # type: ignore[arg-type]
        parse_policy(document, lenient=True)
    except AwsError as e:
        notes = "".join(f"\n  {n}" for n in getattr(e, "__notes__", []))
        click.echo(f"{e.code}: {e.message}{notes}", err=True)
        raise SystemExit(1) from None
    click.echo("valid")
