"""Composition root: builds the store, runtime, API and console, and routes requests between them."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rolehop import logs
from rolehop.config import ServerConfig, load_keyring, resolve
from rolehop.console import build_console
from rolehop.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from rolehop.metrics import Metrics
from rolehop.offload import LoopGuardedStore, Offload, hot_path
from rolehop.services.admin import bootstrap
from rolehop.services.pipeline.request_rate import RequestRates
from rolehop.services.pipeline.runtime import Clock, Runtime, Settings, system_clock
from rolehop.store.console_store import SqlConsoleStore
from rolehop.store.readiness import schema_revision
from rolehop.store.revisions import head_revision
from rolehop.store.sql import SqlStore
from rolehop.wire.api import MAX_BODY, Api, HttpRequest, HttpResponse, Seen, header_pairs, is_api_request
from rolehop.wire.extensions import EXTENSION_PATHS, handle_extension
from rolehop.wire.forwarded import behind_proxies
from rolehop.wire.limits import console_body_refused, head_refused
from rolehop.wire.models import warm_up

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# How uvicorn serves the app, under `serve` and in tests alike. Its own proxy_headers stays off: by
# default it believes X-Forwarded-* from 127.0.0.1; the app reads them itself, from the proxies named
# in ServerConfig.forwarded_allow_ips only. An idle keep-alive connection closes after 5 s; past 1,000
# connections or requests a process answers 503 rather than run out of file descriptors.
UVICORN_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {"proxy_headers": False, "timeout_keep_alive": 5, "limit_concurrency": 1000}
)


def build_runtime(config: ServerConfig, *, clock: Clock = system_clock) -> Runtime:
    warm_up()  # build every operation's codec plan now (once per process), not on a first request
    config.data_dir.mkdir(parents=True, exist_ok=True)
    ring = load_keyring(config)  # first: a key command that fails leaves the store untouched
    metrics = Metrics() if config.metrics else None
    sql = SqlStore(config.store_url, migrate=config.migrate)
    # see offload: the STS hot path's guard (outside the timing: a refused transaction never began)
    store = LoopGuardedStore(metrics.timed_store(sql) if metrics else sql)
    settings = Settings(
        management_account_id=config.management_account_id,
        dev=config.dev,
        encode_denials=config.encode_denials,
        audit_trail=config.audit_trail,
        audit_retention_days=config.audit_retention_days,
        audit_org_view=config.audit_org_view,
    )
    runtime = Runtime(store, ring, settings, clock=clock, meter=metrics)
    if metrics:
        metrics.watch_caches(runtime.caches)
    return runtime


class RolehopApp:
    def __init__(self, runtime: Runtime, config: ServerConfig) -> None:
        self.rt = runtime
        self.config = config
        self.api = Api(runtime, RequestRates(config.rate_limit, config.rate_burst))
        self.console = build_console(runtime, SqlConsoleStore.sharing(runtime.store))
        self.offload = Offload(runtime.store)
        self.metrics = runtime.meter if isinstance(runtime.meter, Metrics) else None
        self.schema = head_revision()  # the revision a ready store is at
        self.bootstrap()

    def bootstrap(self) -> None:
        bootstrap.bootstrap(self.rt, self.config.root_access_key_id, self.config.root_secret.reveal() or None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/metrics":  # neither the API nor the console (DESIGN.md)
            await _respond(send, self.metrics_page(scope["method"]))
            return
        if scope["path"] == "/_rolehop/live" and scope["method"] in ("GET", "HEAD"):
            # on the event loop, looking at nothing else: it answers while the process does, even
            # with every worker thread stuck on the store
            await _respond(send, _json(200, {"status": "live"}))
            return
        start = time.perf_counter()
        seen = Seen()
        status = await self._serve(scope, receive, send, seen)
        seconds = time.perf_counter() - start
        if self.metrics is not None:
            self.metrics.request(seen.service, seen.operation, status, seconds, seen.error)
        logs.request_line(seen, scope["method"], scope["path"], status, seconds)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, seen: Seen) -> int:
        """Answers one HTTP request; returns the status it answered, and fills in `seen`."""
        scope = behind_proxies(scope, self.config.forwarded_allow_ips)
        refused = head_refused(scope.get("query_string", b""), scope["headers"])
        if refused is not None:
            return await _respond(send, refused)
        try:
            body = await _read_body(receive, self.config.body_timeout)
        except TimeoutError:
            return await _respond(send, _body_timed_out(self.config.body_timeout))
        if body is None:
            return await _respond(send, _json(413, {"error": f"request body larger than {MAX_BODY} bytes"}))
        req = HttpRequest(
            method=scope["method"],
            path=scope.get("raw_path", scope["path"].encode()).decode("latin-1") or "/",
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=header_pairs(scope["headers"]),
            body=body,
            client_ip=(scope.get("client") or ("", 0))[0],
            secure=scope.get("scheme") == "https",
        )
        if self.is_console(req):
            refused = console_body_refused(body)  # before Starlette parses a form out of it
            if refused is not None:
                return await _respond(send, refused)
            seen.service, seen.operation = "console", "page"
            state = scope.setdefault("state", {})  # Starlette's request.state: the page says who acted
            status = await _console_status(self.console, scope, _replay(body, receive), send)
            seen.principal = str(state.get("principal", ""))
            return status
        # route() may block (the store, argon2, large policies): a worker thread runs it, and the STS
        # hot path is tried on the loop first (offload)
        loop_first = hot_path(req.body, req.query_string, req.header("x-amz-target"))
        return await _respond(
            send, await self.offload.run(lambda: self.route(req, seen), loop_first=loop_first)
        )

    def metrics_page(self, method: str) -> HttpResponse:
        if self.metrics is None or method not in ("GET", "HEAD"):
            return _json(404, {"error": "not found"})
        return HttpResponse(200, self.metrics.page(), [("content-type", METRICS_CONTENT_TYPE)])

    def is_console(self, req: HttpRequest) -> bool:
        """DESIGN.md: what is not the API (nor /_rolehop/) is the console. /federation is the console's
        although its requests carry an `Action` parameter, as AWS's federation endpoint's do."""
        if req.path.startswith("/_rolehop/") or req.path in EXTENSION_PATHS:
            return False
        return req.path == "/federation" or not is_api_request(req)

    def route(self, req: HttpRequest, seen: Seen | None = None) -> HttpResponse:
        seen = seen or Seen()
        if req.path in _OWN_PATHS:
            seen.service, seen.operation = "rolehop", _OWN_PATHS[req.path]
        if req.path == "/_rolehop/health" and req.method in ("GET", "HEAD"):
            problem = self.not_ready()
            if problem:
                return _json(503, {"status": "unavailable", "reason": problem})
            return _json(200, {"status": "ok", "account": self.rt.settings.management_account_id})
        if req.path == "/_rolehop/reset":
            if not self.rt.settings.dev or req.method != "POST":
                return _json(404, {"error": "not found"})
            self.rt.store.reset()
            self.rt.changed()
            self.bootstrap()
            return _json(200, {"status": "reset"})
        if req.path in EXTENSION_PATHS:
            return handle_extension(self.rt, self.api, req)
        if is_api_request(req):
            return self.api.handle(req, seen)
        return _json(404, {"error": "not found"})

    def not_ready(self) -> str | None:
        """Why this node cannot serve (the store is unreachable, or its schema is not this rolehop's),
        or None. The reason never carries the driver's message: it may name hosts and users."""
        try:
            current = schema_revision(self.rt.store.engine)  # type: ignore[attr-defined]
        except Exception:
            return "the store is unreachable"
        if current != self.schema:
            return f"the store's schema is at {current}, not {self.schema}"
        return None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.rt.trail.start()  # its digests and retention run on an idle node too
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.rt.denial_log.flush(self.rt.clock())  # summarize the log lines held back
                self.rt.trail.close()  # the records still waiting for their batch
                self.rt.store.close()
                logs.drain()  # the last requests' lines
                await send({"type": "lifespan.shutdown.complete"})
                return


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, json.dumps(payload).encode(), [("content-type", "application/json")])


async def _read_body(receive: Receive, timeout: float) -> bytes | None:
    """The whole body, or None once it passes MAX_BODY: nobody may make the server buffer more.
    Raises TimeoutError when it has not all arrived within `timeout` seconds: a client that stalls
    (or trickles) must not hold a request open for as long as it likes."""
    chunks = []
    size = 0
    async with asyncio.timeout(timeout):
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


def _body_timed_out(timeout: float) -> HttpResponse:
    """408, and the connection closes: the rest of the stalled body will not be read."""
    body = json.dumps({"error": f"request body not received within {timeout:g} seconds"}).encode()
    return HttpResponse(408, body, [("content-type", "application/json"), ("connection", "close")])


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request body, already read for routing, handed to the console once more."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _respond(send: Send, response: HttpResponse) -> int:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
    return response.status


async def _console_status(
    console: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope, receive: Receive, send: Send
) -> int:
    """Runs the console on a request; returns the status it answered (500 if it answered none)."""
    status = 500

    async def sending(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    await console(scope, receive, sending)
    return status


# /_rolehop/ paths by the operation name their requests are counted under
_OWN_PATHS: Mapping[str, str] = MappingProxyType(
    {"/_rolehop/health": "health", "/_rolehop/reset": "reset"}
    | {path: path.removeprefix("/_rolehop/") for path in EXTENSION_PATHS}
)


def create_app(config: ServerConfig, *, clock: Clock = system_clock) -> RolehopApp:
    return RolehopApp(build_runtime(config, clock=clock), config)


WORKER_CONFIG_ENV = "ROLEHOP_WORKER_CONFIG"


def worker_config_json(config: ServerConfig) -> str:
    """What a worker process needs to build the same app (secrets stay in their own variables)."""
    return json.dumps(
        {
            "host": config.host,
            "port": config.port,
            "data_dir": str(config.data_dir),
            "database_url": config.database_url,
            "dev": config.dev,
            "account_id": config.account_id,
            "encode_denials": config.encode_denials,
            "forwarded_allow_ips": ",".join(str(network) for network in config.forwarded_allow_ips),
            "body_timeout": config.body_timeout,
            "rate_limit": config.rate_limit,
            "rate_burst": config.rate_burst,
            "master_key_command": shlex.join(config.master_key_command),
            "metrics": config.metrics,
            "log_format": config.log_format,
            "audit_trail": config.audit_trail,
            "audit_retention_days": config.audit_retention_days,
            "audit_org_view": config.audit_org_view,
        }
    )


def worker_app() -> RolehopApp:
    """uvicorn's factory for `serve --workers N`: each worker builds its own runtime on the shared
    store and key ring; the parent has already migrated and bootstrapped them."""
    fields = json.loads(os.environ[WORKER_CONFIG_ENV])
    config = resolve(
        host=fields["host"],
        port=fields["port"],
        data_dir=Path(fields["data_dir"]),
        database_url=fields["database_url"],
        dev=fields["dev"],
        account_id=fields["account_id"],
        encode_denials=fields["encode_denials"],
        forwarded_allow_ips=fields["forwarded_allow_ips"],
        body_timeout=fields["body_timeout"],
        rate_limit=fields["rate_limit"],
        rate_burst=fields["rate_burst"],
        master_key_command=fields["master_key_command"],
        metrics=fields["metrics"],
        log_format=fields["log_format"],
        audit_trail=fields["audit_trail"],
        audit_retention_days=fields["audit_retention_days"],
        audit_org_view=fields["audit_org_view"],
    )
    logs.configure(config.log_format)  # a fresh process: the parent's logging is not inherited
    return create_app(config)
