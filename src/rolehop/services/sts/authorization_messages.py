"""STS DecodeAuthorizationMessage: reads back the explanation an AccessDenied carried (when the
server runs with --encoded-denials; pipeline.denials seals it)."""

from __future__ import annotations

import base64
import binascii

from rolehop.core.errors import InvalidAuthorizationMessage
from rolehop.core.keyring import UnsealError
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.denials import MESSAGE_PURPOSE
from rolehop.services.pipeline.registry import Params, Result, operation


@operation("sts", "DecodeAuthorizationMessage")
def decode_authorization_message(call: Call, p: Params) -> Result:
    authorize(call, "sts:DecodeAuthorizationMessage", "*")
    token = p["EncodedMessage"]
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        _kid, raw = call.runtime.ring.open(blob, purpose=MESSAGE_PURPOSE)
    except (binascii.Error, ValueError, UnsealError) as e:
        raise InvalidAuthorizationMessage("The encoded message is not valid.") from e
    return {"DecodedMessage": raw.decode()}
