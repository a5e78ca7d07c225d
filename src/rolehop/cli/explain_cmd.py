"""`rolehop explain REQUEST-ID`: why the policy engine refused a request, from the refused call's
event in the audit trail (pipeline.denials)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rolehop.cli.store_options import (
    opened_runtime,
    store_config,
    with_master_key_option,
    with_store_options,
)

_LAYERS = {
    "identity": "identity-based policies",
    "boundary": "the permissions boundary",
    "session": "the session policies",
    "scp": "the service control policies",
    "rcp": "the resource control policies",
    "resource": "the resource-based policy (e.g. the role's trust policy)",
    "aws-managed": "AWS-owned resources (read-only)",
}


def render(details: dict[str, Any]) -> str:
    ctx = details["context"]
    lines = [
        f"Request {details['requestId']} at {details['time']}: {details['decision']}",
        f"  principal: {ctx['principal']['arn']} ({ctx['principal']['id']})",
        f"  action:    {ctx['action']}",
        f"  resource:  {ctx['resource']}",
    ]
    repeats = details.get("repeats", {"count": 1})
    if repeats["count"] > 1:
        lines.append(
            f"  repeated: denied {repeats['count']} times from {repeats['eventFirstSeen']} to "
            f"{repeats['eventLastSeen']} (first request {repeats['firstRequestId']}, last "
            f"{repeats['lastRequestId']}); the explanation and request context are the first's"
        )
    if details["explicitDeny"]:
        lines.append(
            "  denied by a Deny statement in: " + ", ".join(_LAYERS.get(x, x) for x in details["deniedIn"])
        )
    else:
        lines.append("  no Allow in: " + ", ".join(_LAYERS.get(x, x) for x in details["missingAllowIn"]))
    statements = details["matchedStatements"]["items"]
    if statements:
        lines.append("  statements that matched:")
        for s in statements:
            sid = f" (Sid {s['sid']})" if s.get("sid") else ""
            lines.append(f"    {s['effect']:5} {s['policy']} statement {s['statementIndex']}{sid}")
    lines.append("  request context:")
    for item in ctx["conditions"]["items"]:
        values = ", ".join(v["value"] for v in item["values"]["items"])
        lines.append(f"    {item['key']} = {values}")
    return "\n".join(lines)


@click.command()
@click.argument("request_id")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@with_store_options
@with_master_key_option
def explain(
    request_id: str,
    as_json: bool,
    database_url: str | None,
    data_dir: Path | None,
    master_key_command: str | None,
) -> None:
    """Show why the request REQUEST-ID was denied: matched statements and the layer lacking an Allow."""
    from rolehop.services.pipeline.denials import explain as lookup

    config = store_config(data_dir=data_dir, database_url=database_url, master_key_command=master_key_command)
    with opened_runtime(config) as rt:
        details = lookup(rt, request_id)
    if details is None:
        raise click.ClickException(
            f"no AccessDenied was recorded under request ID {request_id} (a read's or an STS call's "
            "event reaches the store within a second of the answer; none is kept with the audit "
            "trail off)"
        )
    click.echo(json.dumps(details, indent=2) if as_json else render(details))
