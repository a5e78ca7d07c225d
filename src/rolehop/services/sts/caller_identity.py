"""STS: who is calling (GetCallerIdentity) and whose is a key (GetAccessKeyInfo)."""

from __future__ import annotations

from rolehop.core.errors import InvalidParameterValue
from rolehop.core.ids import account_of_key_id
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation


@operation("sts", "GetCallerIdentity")
def get_caller_identity(call: Call, p: Params) -> Result:
    # needs no permission: AWS answers even when every policy denies it
    caller = call.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


@operation("sts", "GetAccessKeyInfo")
def get_access_key_info(call: Call, p: Params) -> Result:
    authorize(call, "sts:GetAccessKeyInfo", "*")
    key_id = p["AccessKeyId"]
    account = account_of_key_id(key_id)
    if account is None:
        with call.runtime.store.transaction() as tx:
            key = tx.get_key(key_id)
        if key is None:
            raise InvalidParameterValue(f"Access key {key_id} is not a valid access key.")
        account = key.account_id
    return {"Account": account}
