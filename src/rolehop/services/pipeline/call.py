"""A request as every operation receives it: who is calling (a Caller) and in what circumstances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rolehop.services.pipeline.caller import Caller
from rolehop.services.pipeline.runtime import Runtime


@dataclass
class Call:
    runtime: Runtime
    caller: Caller
    request_id: str
    now: datetime
    service: str
    region: str
    source_ip: str = ""
    secure_transport: bool = False
    # the console session the request comes from ("" for the API): a credential change ends the
    # user's other console sessions, and this one carries on
    console_session_id: str = ""
    user_agent: str = ""  # the client's User-Agent, for the audit trail
    explanations: list[str] = field(default_factory=list)
