"""rolehop's own API beyond AWS, under /_rolehop/, SigV4-signed like any AWS call (scope: sts).

GET /_rolehop/assumable-roles -> {"Roles": [{AccountId, AccountName, DisplayName, Alias, RoleName,
RoleArn, MaxSessionDuration}, …]}: what the caller may assume, decided by the policy engine.
"""

from __future__ import annotations

import json
import uuid

from rolehop.core.errors import AwsError
from rolehop.services.pipeline.authenticate import authenticate
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.sts.assumable_roles import assumable_roles
from rolehop.wire.api import Api, HttpRequest, HttpResponse
from rolehop.wire.json_protocol import serialize_json_error

EXTENSION_PATHS = frozenset({"/_rolehop/assumable-roles"})


def handle_extension(rt: Runtime, api: Api, req: HttpRequest) -> HttpResponse:
    """Authenticated and throttled as the API's own requests are (the same buckets)."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    try:
        api.charge_source(req)
        caller, scope = authenticate(rt, req.method, req.target, req.headers, req.body)
        api.charge_principal(req, caller.arn)
        call = Call(
            rt, caller, request_id, rt.clock(), scope.service, scope.region, req.client_ip, req.secure
        )
        roles = [
            {
                "AccountId": r.account_id,
                "AccountName": r.account_name,
                "DisplayName": r.display_name,
                "Alias": r.alias,
                "RoleName": r.role_name,
                "RoleArn": r.role_arn,
                "MaxSessionDuration": r.max_session_duration,
            }
            for r in assumable_roles(call)
        ]
        body = json.dumps({"Roles": roles}).encode()
        return HttpResponse(200, body, [("content-type", "application/json"), *headers])
    except AwsError as e:
        payload, extra = serialize_json_error(e.code, e.message)
        return HttpResponse(e.status, payload, [*extra.items(), *headers])
