"""Talking to the rolehop server, as any AWS client does: botocore for STS and IAM (SigV4, the
Query protocol, AWS's errors) and SigV4-signed GETs for rolehop's own /_rolehop/ API. Nothing here
knows rolehop's internals; it is a client of the endpoint URL.

botocore is imported when a call is made, so that `rolehop assume --json` answering from its cache
(what credential_process does on every AWS CLI command) starts fast.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from rolehop.cli.user.cache import TempCredentials
from rolehop.cli.user.errors import UserError
from rolehop.cli.user.profiles import MainProfile, credentials_path

TIMEOUT = 30
UNREACHABLE_HINT = (
    "is the server running? The URL is endpoint_url in your profile ('rolehop configure --endpoint URL')"
)


class RemoteError(UserError):
    """The server answered with an AWS error: `code` is its AWS error code."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, creds: TempCredentials) -> Keys:
        return cls(creds.access_key_id, creds.secret_access_key, creds.session_token)


def unreachable(endpoint: str, reason: object) -> UserError:
    return UserError(f"cannot reach rolehop at {endpoint} ({reason})", UNREACHABLE_HINT)


class Remote:
    """The server behind one main profile's endpoint."""

    def __init__(self, main: MainProfile) -> None:
        self.main = main
        self.endpoint = main.endpoint

    # -- credentials of the main profile -------------------------------------------------------
    def source_keys(self) -> Keys:
        """The main profile's long-term key, found as botocore finds it (environment variables are
        ignored: the profile is named explicitly)."""
        from botocore.exceptions import BotoCoreError

        try:
            creds = self._session().get_credentials()
        except BotoCoreError as e:
            raise UserError(f"cannot load the credentials of profile {self.main.name!r}: {e}") from e
        if creds is None:
            raise UserError(
                f"profile {self.main.name!r} has no access key in {credentials_path()}",
                "run 'rolehop configure' to store yours",
            )
        frozen = creds.get_frozen_credentials()
        return Keys(frozen.access_key, frozen.secret_key, frozen.token)

    def _session(self) -> Any:
        import botocore.session

        return botocore.session.Session(profile=self.main.name)

    def _client(self, service: str, keys: Keys) -> Any:
        import botocore.session
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "total_max_attempts": 2},
            connect_timeout=5,
            read_timeout=TIMEOUT,
            user_agent_extra="rolehop-cli",
        )
        # a bare session: the user's AWS_PROFILE or odd config must not redirect these calls
        session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        return session.create_client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.main.region,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            config=config,
        )

    def _call(self, service: str, keys: Keys, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        client = self._client(service, keys)
        try:
            result: dict[str, Any] = getattr(client, operation)(**params)
        except ClientError as e:
            error = e.response.get("Error", {})
            raise RemoteError(str(error.get("Code", "")), str(error.get("Message", "")) or str(e)) from e
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionError) as e:
            raise unreachable(self.endpoint, _reason(e)) from e
        except BotoCoreError as e:
            raise UserError(f"{operation} failed: {e}") from e
        return result

    # -- AWS operations ---------------------------------------------------------------------------
    def caller_identity(self, keys: Keys) -> dict[str, Any]:
        return self._call("sts", keys, "get_caller_identity")

    def session_token(
        self, keys: Keys, serial: str | None, code: str | None, duration: int
    ) -> TempCredentials:
        params: dict[str, Any] = {"DurationSeconds": duration}
        if serial and code:
            params.update(SerialNumber=serial, TokenCode=code)
        return TempCredentials.from_sts(self._call("sts", keys, "get_session_token", **params)["Credentials"])

    def assume_role(
        self,
        keys: Keys,
        role_arn: str,
        session_name: str,
        duration: int | None,
        external_id: str | None = None,
    ) -> TempCredentials:
        params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if duration:
            params["DurationSeconds"] = duration
        if external_id:
            params["ExternalId"] = external_id
        return TempCredentials.from_sts(self._call("sts", keys, "assume_role", **params)["Credentials"])

    def mfa_devices(self, keys: Keys, user_name: str) -> list[str]:
        listed = self._call("iam", keys, "list_mfa_devices", UserName=user_name)
        return [d["SerialNumber"] for d in listed.get("MFADevices", [])]

    # -- rolehop's own API and the console ---------------------------------------------------------
    def assumable_roles(self, keys: Keys) -> list[dict[str, Any]]:
        """GET /_rolehop/assumable-roles, signed with SigV4 for service sts like any STS call."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest("GET", self.endpoint + "/_rolehop/assumable-roles")
        credentials = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
        SigV4Auth(credentials, "sts", self.main.region).add_auth(request)
        status, body = self.get(request.url, dict(request.headers.items()))
        payload = _json_object(body)
        if status != 200:
            code = str(payload.get("__type") or payload.get("code") or status)
            message = str(
                payload.get("message") or payload.get("Message") or body[:200].decode(errors="replace")
            )
            if status == 404 and not payload.get("__type"):
                raise UserError(
                    f"{self.endpoint} does not list assumable roles (GET /_rolehop/assumable-roles: 404)",
                    "is endpoint_url a rolehop server?",
                )
            raise RemoteError(code, message)
        roles = payload.get("Roles")
        if not isinstance(roles, list):
            raise UserError(f"{self.endpoint} answered /_rolehop/assumable-roles without a Roles list")
        return roles

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """A GET that follows no redirect; any HTTP status is returned, not raised."""
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise UserError(
                f"endpoint {self.endpoint} is not an http(s) URL", "fix endpoint_url in your profile"
            )
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=_ssl_context()), _NoRedirect()
        )
        request = urllib.request.Request(url, headers=headers or {}, method="GET")  # noqa: S310 - http(s) only
        try:
            with opener.open(request, timeout=TIMEOUT) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as e:
            return int(e.code), bytes(e.read())
        except (urllib.error.URLError, OSError) as e:
            raise unreachable(self.endpoint, _reason(e)) from e


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _ssl_context() -> ssl.SSLContext:
    bundle = os.environ.get("AWS_CA_BUNDLE")
    return ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        loaded = json.loads(body)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _reason(e: BaseException) -> str:
    reason = getattr(e, "reason", None)
    text = str(reason if reason is not None else e)
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    return text.splitlines()[0][:120] if text else type(e).__name__
