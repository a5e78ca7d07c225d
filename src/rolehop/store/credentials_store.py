"""SQL storage of sign-in credentials: virtual MFA devices (with the replay guard), console
passwords, the account password policy and failed-authentication throttles."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from rolehop.core.entities import AuthThrottle, LoginProfile, MfaDevice
from rolehop.core.passwords import PasswordPolicy
from rolehop.store import schema as t
from rolehop.store.rows import insert_unique
from rolehop.store.rows import row_dict as _row_dict


def _mfa_device(row: Row[Any]) -> MfaDevice:
    d = _row_dict(row)
    d.pop("serial_key", None)
    return MfaDevice(**d)


class CredentialSqlMixin:
    c: Connection

    # virtual MFA devices
    def insert_mfa_device(self, device: MfaDevice) -> None:
        values = {f: getattr(device, f) for f in MfaDevice.__dataclass_fields__}
        values["serial_key"] = device.serial_number.lower()
        insert_unique(
            self.c, t.mfa_devices, values, "MFADevice entity at the same path and name already exists."
        )

    def get_mfa_device(self, serial_number: str) -> MfaDevice | None:
        m = t.mfa_devices.c
        row = self.c.execute(select(t.mfa_devices).where(m.serial_key == serial_number.lower())).first()
        return _mfa_device(row) if row else None

    def list_mfa_devices(self, account_id: str) -> list[MfaDevice]:
        m = t.mfa_devices.c
        rows = self.c.execute(select(t.mfa_devices).where(m.account_id == account_id).order_by(m.serial_key))
        return [_mfa_device(r) for r in rows]

    def mfa_devices_of(self, user_id: str) -> list[MfaDevice]:
        m = t.mfa_devices.c
        rows = self.c.execute(
            select(t.mfa_devices).where(m.user_id == user_id).order_by(m.enable_date, m.serial_key)
        )
        return [_mfa_device(r) for r in rows]

    def reseal_mfa_seed(self, device_id: str, sealed_seed: bytes) -> None:
        m = t.mfa_devices.c
        self.c.execute(update(t.mfa_devices).where(m.device_id == device_id).values(sealed_seed=sealed_seed))

    def update_mfa_device(self, device: MfaDevice) -> None:
        m = t.mfa_devices.c
        self.c.execute(
            update(t.mfa_devices)
            .where(m.device_id == device.device_id)
            .values(
                user_id=device.user_id,
                enable_date=device.enable_date,
                last_step=device.last_step,
                drift_steps=device.drift_steps,
            )
        )

    def delete_mfa_device(self, device_id: str) -> None:
        self.c.execute(delete(t.mfa_devices).where(t.mfa_devices.c.device_id == device_id))
        self.c.execute(delete(t.tags).where(t.tags.c.resource_id == device_id))

    def advance_mfa_step(self, device_id: str, step: int) -> bool:
        m = t.mfa_devices.c
        # one conditional UPDATE: the database serializes concurrent uses of a code, on any node
        done = self.c.execute(
            update(t.mfa_devices)
            .where(m.device_id == device_id, or_(m.last_step.is_(None), m.last_step < step))
            .values(last_step=step)
            .execution_options(rolehop_bookkeeping=True)  # no cache holds it: no version bump
        )
        return done.rowcount == 1

    # console passwords
    def get_login_profile(self, user_id: str) -> LoginProfile | None:
        row = self.c.execute(select(t.login_profiles).where(t.login_profiles.c.user_id == user_id)).first()
        if row is None:
            return None
        d = _row_dict(row)
        d["previous_hashes"] = tuple(json.loads(d["previous_hashes"] or "[]"))
        return LoginProfile(**d)

    def put_login_profile(self, profile: LoginProfile) -> None:
        values = {f: getattr(profile, f) for f in LoginProfile.__dataclass_fields__}
        values["previous_hashes"] = json.dumps(list(profile.previous_hashes))
        lp = t.login_profiles.c
        found = self.c.execute(update(t.login_profiles).where(lp.user_id == profile.user_id).values(values))
        if found.rowcount == 0:
            insert_unique(self.c, t.login_profiles, values, "Login Profile for this user already exists.")

    def delete_login_profile(self, user_id: str) -> None:
        self.c.execute(delete(t.login_profiles).where(t.login_profiles.c.user_id == user_id))

    def get_password_policy(self, account_id: str) -> PasswordPolicy | None:
        pp = t.password_policies.c
        row = self.c.execute(select(t.password_policies).where(pp.account_id == account_id)).first()
        if row is None:
            return None
        d = _row_dict(row)
        d.pop("account_id")
        return PasswordPolicy(**d)

    def put_password_policy(self, account_id: str, policy: PasswordPolicy) -> None:
        values = {f: getattr(policy, f) for f in PasswordPolicy.__dataclass_fields__}
        pp = t.password_policies.c
        found = self.c.execute(update(t.password_policies).where(pp.account_id == account_id).values(values))
        if found.rowcount == 0:
            insert_unique(
                self.c, t.password_policies, {**values, "account_id": account_id}, "Password policy exists."
            )

    def delete_password_policy(self, account_id: str) -> None:
        self.c.execute(delete(t.password_policies).where(t.password_policies.c.account_id == account_id))

    # failed authentications
    def get_throttle(self, scope: str, subject: str) -> AuthThrottle | None:
        a = t.auth_throttles.c
        row = self.c.execute(select(t.auth_throttles).where(a.scope == scope, a.subject == subject)).first()
        return AuthThrottle(**_row_dict(row)) if row else None

    def add_failure(self, scope: str, subject: str, now: datetime, window_seconds: int) -> AuthThrottle:
        a = t.auth_throttles.c
        key = (a.scope == scope, a.subject == subject)
        for _attempt in range(3):
            # increments happen in the database (failures + 1), so concurrent failures all count
            grown = self.c.execute(
                update(t.auth_throttles)
                .where(*key, a.window_start > now - timedelta(seconds=window_seconds))
                .values(failures=a.failures + 1)
            )
            if grown.rowcount == 0:
                # restart only a window that has run out: if a concurrent request restarted it
                # first, this matches nothing and the next attempt counts on top of theirs
                restarted = self.c.execute(
                    update(t.auth_throttles)
                    .where(*key, a.window_start <= now - timedelta(seconds=window_seconds))
                    .values(failures=1, window_start=now)
                )
                if restarted.rowcount == 0 and self.get_throttle(scope, subject) is not None:
                    continue
                if restarted.rowcount == 0:
                    try:
                        with self.c.begin_nested():
                            self.c.execute(
                                insert(t.auth_throttles).values(
                                    scope=scope, subject=subject, failures=1, window_start=now
                                )
                            )
                    except IntegrityError:
                        continue  # another request inserted it first: count on top of theirs
            found = self.get_throttle(scope, subject)
            if found is not None:
                return found
        raise RuntimeError("could not record an authentication failure")

    def block(self, scope: str, subject: str, until: datetime) -> None:
        a = t.auth_throttles.c
        self.c.execute(
            update(t.auth_throttles)
            .where(a.scope == scope, a.subject == subject)
            .values(blocked_until=until, failures=0)
        )

    def clear_throttle(self, scope: str, subject: str) -> None:
        a = t.auth_throttles.c
        self.c.execute(delete(t.auth_throttles).where(a.scope == scope, a.subject == subject))
