"""One MFA prompt for every role: the MFA session (GetSessionToken with the device's code, 12 hours
by default) is cached, and each role is assumed with it (AssumeRole with the session's credentials,
no code). Role credentials are cached too and renewed before they expire, silently while the MFA
session lasts; only a new MFA session asks for a code.

Why GetSessionToken and not AssumeRole with SerialNumber/TokenCode per role (what the AWS CLI does
for a role profile with mfa_serial): a code is accepted once, so every role would need a new code,
30 seconds apart. A role assumed with a GetSessionToken session is not role chaining, so it is not
capped at one hour (IAM User Guide, "Role chaining"; STS API reference, GetSessionToken).
"""

from __future__ import annotations

import re
import sys
from datetime import datetime

import click

from rolehop.cli.user.cache import CredentialCache, TempCredentials, cache_key, iso, parse_iso
from rolehop.cli.user.context import UserContext
from rolehop.cli.user.errors import MfaSessionNeeded, UserError
from rolehop.cli.user.profiles import MainProfile, Target
from rolehop.cli.user.prompt import ask_code
from rolehop.cli.user.remote import Keys, Remote, RemoteError

MFA_SESSION_SECONDS = 43200  # GetSessionToken's own default: 12 hours
SKEW = 60  # a credential this close to its expiration counts as expired
ROLE_REFRESH = 960  # botocore refreshes credential_process credentials 15 min before expiry
ATTEMPTS = 3
WRONG_CODE = "invalid MFA one time pass code"
SESSION_GONE = ("ExpiredToken", "InvalidClientTokenId")
_DENIAL = re.compile(r"on resource: \S+\s+(?P<why>.+)$", re.S)


def mfa_cache_key(main: MainProfile, serial: str | None) -> str:
    return cache_key("mfa", main.endpoint, main.name, serial or "")


def role_cache_key(target: Target) -> str:
    main = target.main
    return cache_key(
        "role",
        main.endpoint,
        main.name,
        target.role_arn or "",
        target.session_name,
        str(target.duration or ""),
        target.external_id or "",
    )


class Broker:
    def __init__(self, ctx: UserContext, cache: CredentialCache | None = None) -> None:
        self.ctx = ctx
        self.cache = cache or CredentialCache()
        self.session_tokens = 0  # GetSessionToken calls made (a new MFA session each)

    # -- the MFA session ---------------------------------------------------------------------------
    def cached_mfa_session(self, main: MainProfile, serial: str | None) -> TempCredentials | None:
        hit = self.cache.get("mfa", mfa_cache_key(main, serial))
        if hit is None or hit[0].seconds_left(self.ctx.now()) <= SKEW:
            return None
        return hit[0]

    def mfa_session(
        self,
        main: MainProfile,
        serial: str | None,
        *,
        may_prompt: bool,
        duration: int = MFA_SESSION_SECONDS,
        for_profile: str | None = None,
    ) -> TempCredentials:
        """The cached MFA session of `main`, or a new one (asking for a code when `may_prompt`)."""
        key = mfa_cache_key(main, serial)
        with self.cache.lock(key):
            cached = self.cached_mfa_session(main, serial)
            if cached is not None:
                return cached
            if serial and not may_prompt:
                raise _session_needed(main, self.cache.get("mfa", key) is not None, for_profile)
            remote = Remote(main)
            keys = remote.source_keys()
            if serial:
                creds = self._new_session(remote, keys, serial, duration)
            else:  # no MFA device: a session without MFA, which roles requiring MFA refuse
                creds = remote.session_token(keys, None, None, duration)
            self.cache.put(
                "mfa",
                key,
                creds,
                Kind="mfa-session",
                Profile=main.name,
                Endpoint=main.endpoint,
                MfaSerial=serial or "",
                SourceKeyId=keys.access_key_id,
                Issued=iso(self.ctx.now()),
            )
            return creds

    def _new_session(self, remote: Remote, keys: Keys, serial: str, duration: int) -> TempCredentials:
        wrong = malformed = False
        for attempt in range(ATTEMPTS):
            code = ask_code(self.ctx.prompter, serial)
            if code is None:
                break
            if not (code.isascii() and code.isdigit() and len(code) == 6):
                malformed = True
                if attempt < ATTEMPTS - 1:
                    _warn("an MFA code is the 6 digits your authenticator shows")
                continue
            try:
                self.session_tokens += 1
                return remote.session_token(keys, serial, code, duration)
            except RemoteError as e:
                if e.code == "AccessDenied" and WRONG_CODE in e.message:
                    wrong = True
                    if attempt < ATTEMPTS - 1:
                        _warn("wrong MFA code (each code works once: wait for the next one)")
                    continue
                raise _session_error(e, remote.main, serial) from e
        if wrong:
            raise UserError(
                f"wrong MFA code for {serial}",
                "wait for your authenticator's next code (a code works once) and run the command again",
            )
        if malformed:
            raise UserError(
                f"no valid MFA code was given for {serial}",
                "type the 6 digits your authenticator shows and run the command again",
            )
        raise UserError(
            f"no MFA code was given for {serial}",
            "type the 6-digit code of your authenticator when asked (or pipe it to stdin)",
        )

    # -- role credentials --------------------------------------------------------------------------
    def credentials(
        self,
        target: Target,
        *,
        may_prompt: bool,
        refresh: bool = False,
        mfa_duration: int = MFA_SESSION_SECONDS,
    ) -> TempCredentials:
        main = target.main
        if target.role_arn is None:
            return self.mfa_session(
                main,
                target.mfa_serial,
                may_prompt=may_prompt,
                duration=mfa_duration,
                for_profile=target.profile,
            )
        key = role_cache_key(target)
        now = self.ctx.now()
        hit = self.cache.get("role", key)
        if hit is not None and not refresh and hit[0].seconds_left(now) > _refresh_margin(*hit):
            return hit[0]
        creds = self._assume(target, may_prompt=may_prompt, mfa_duration=mfa_duration)
        self.cache.put(
            "role",
            key,
            creds,
            Kind="role",
            Profile=target.profile,
            Main=main.name,
            RoleArn=target.role_arn,
            Endpoint=main.endpoint,
            Issued=iso(now),
        )
        return creds

    def cached_role(self, target: Target) -> TempCredentials | None:
        """The role's cached credentials while they last (no renewal, no network)."""
        hit = self.cache.get("role", role_cache_key(target))
        return hit[0] if hit is not None and hit[0].seconds_left(self.ctx.now()) > 0 else None

    def _assume(self, target: Target, *, may_prompt: bool, mfa_duration: int) -> TempCredentials:
        assert target.role_arn is not None
        main, remote = target.main, Remote(target.main)
        if not target.mfa_serial:
            try:
                return self._assume_with(remote, remote.source_keys(), target)
            except RemoteError as e:
                raise _assume_error(e, target) from e
        for retry in (False, True):
            session = self.mfa_session(
                main,
                target.mfa_serial,
                may_prompt=may_prompt,
                duration=mfa_duration,
                for_profile=target.profile,
            )
            try:
                return self._assume_with(remote, Keys.of(session), target)
            except RemoteError as e:
                if e.code in SESSION_GONE and not retry:
                    # the session ended before its time (the server was reset or its keys replaced)
                    self.cache.drop("mfa", mfa_cache_key(main, target.mfa_serial))
                    continue
                raise _assume_error(e, target) from e
        raise AssertionError("unreachable")

    @staticmethod
    def _assume_with(remote: Remote, keys: Keys, target: Target) -> TempCredentials:
        assert target.role_arn is not None
        return remote.assume_role(
            keys, target.role_arn, target.session_name, target.duration, target.external_id
        )

    def forget(self, main: str | None) -> int:
        """Drops the cached sessions of main profile `main` (None: all). Returns how many."""
        dropped = 0
        for path, entry in list(self.cache.entries()):
            if main is None or main in (entry.get("Profile"), entry.get("Main")):
                path.unlink(missing_ok=True)
                dropped += 1
        return dropped


def _refresh_margin(creds: TempCredentials, entry: dict[str, object]) -> float:
    issued = entry.get("Issued")
    lifetime = (creds.expiration - parse_iso(issued)).total_seconds() if isinstance(issued, str) else 3600.0
    return min(ROLE_REFRESH, max(SKEW, lifetime / 2))


def _warn(text: str) -> None:
    click.echo(f"rolehop: {text}", err=True)
    sys.stderr.flush()


def _session_needed(main: MainProfile, expired: bool, profile: str | None) -> MfaSessionNeeded:
    what = "has expired" if expired else "has not been started"
    also = f" or 'rolehop assume {profile}'" if profile and profile != main.name else ""
    return MfaSessionNeeded(
        f"the MFA session of profile {main.name} {what} and this command may not ask for a code",
        f"run 'rolehop login --profile {main.name}'{also} in a terminal, then try again",
    )


def _session_error(e: RemoteError, main: MainProfile, serial: str) -> UserError:
    if e.code == "AccessDenied" and "MultiFactorAuthentication failed" in e.message:
        return UserError(
            f"{main.endpoint} does not know {serial} as your enabled MFA device",
            f"check mfa_serial in profile {main.name} ('rolehop configure' finds your device)",
        )
    if e.code == "LimitExceeded":
        return UserError(e.message, "wait, then use a fresh code")
    if e.code in ("InvalidClientTokenId", "SignatureDoesNotMatch"):
        return UserError(
            f"the access key of profile {main.name} is not valid at {main.endpoint} ({e.code})",
            "run 'rolehop configure' with a valid key",
        )
    return UserError(f"GetSessionToken failed: {e.code}: {e.message}")


def _assume_error(e: RemoteError, target: Target) -> UserError:
    role = target.role_arn
    if e.code == "AccessDenied":
        match = _DENIAL.search(e.message)
        why = match.group("why").strip() if match else e.message
        why = why.removeprefix("because ").rstrip(".")
        return UserError(
            f"you may not assume {role} (profile {target.profile}): {why}",
            "'rolehop roles' lists the roles you may assume",
        )
    if e.code == "ValidationError" and "DurationSeconds" in e.message:
        return UserError(
            f"{role}: {e.message}",
            "ask for a shorter session (--duration, or duration_seconds in the profile)",
        )
    if e.code in SESSION_GONE and target.mfa_serial:
        return UserError(
            f"{target.main.endpoint} refuses the MFA session of profile {target.main.name} ({e.code})",
            f"run 'rolehop logout --profile {target.main.name}' and try again",
        )
    if e.code in ("InvalidClientTokenId", "SignatureDoesNotMatch"):
        return UserError(
            f"the access key of profile {target.main.name} is not valid at {target.main.endpoint} ({e.code})",
            "run 'rolehop configure' with a valid key",
        )
    return UserError(f"AssumeRole {role} failed: {e.code}: {e.message}")


def expires_in(creds: TempCredentials, now: datetime) -> str:
    left = int(creds.seconds_left(now))
    if left <= 0:
        return "expired"
    hours, minutes = divmod(left // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
