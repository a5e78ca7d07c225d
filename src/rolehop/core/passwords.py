"""The account password policy and the checks IAM applies to every password set or changed.

Pure: hashing (argon2id) and the comparison with previous passwords happen in the services, which
pass the outcome in. Messages follow IAM's PasswordPolicyViolation wording.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from rolehop.core.errors import PasswordPolicyViolation

# IAM's "non-alphanumeric characters" for RequireSymbols
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
DEFAULT_MINIMUM_LENGTH = 6  # UpdateAccountPasswordPolicy without MinimumPasswordLength
AWS_DEFAULT_MINIMUM_LENGTH = 8  # the policy in force when the account has none


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """An account's password policy. Zero max age / reuse prevention mean "not set", as in IAM."""

    minimum_password_length: int = DEFAULT_MINIMUM_LENGTH
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase_characters: bool = False
    require_lowercase_characters: bool = False
    allow_users_to_change_password: bool = False
    max_password_age: int = 0  # days
    password_reuse_prevention: int = 0  # how many previous passwords may not be reused
    hard_expiry: bool = False

    @property
    def expire_passwords(self) -> bool:
        return self.max_password_age > 0

    def expired(self, changed_at: datetime, now: datetime) -> bool:
        return self.expire_passwords and now >= changed_at + timedelta(days=self.max_password_age)


def _classes(password: str) -> dict[str, bool]:
    return {
        "uppercase": any(c in string.ascii_uppercase for c in password),
        "lowercase": any(c in string.ascii_lowercase for c in password),
        "numbers": any(c in string.digits for c in password),
        "symbols": any(c in SYMBOLS for c in password),
    }


def check_password(
    password: str,
    policy: PasswordPolicy | None,
    *,
    account_names: tuple[str, ...] = (),
) -> None:
    """Raises PasswordPolicyViolation unless `password` satisfies `policy` (None: AWS's default policy).

    AWS's default policy when the account has none: at least 8 characters, at least three of the
    four character classes, and not the account's name or e-mail address (IAM User Guide,
    "Set an account password policy for IAM users").
    """
    classes = _classes(password)
    if policy is None:
        if len(password) < AWS_DEFAULT_MINIMUM_LENGTH:
            raise PasswordPolicyViolation(
                f"Password should have a minimum length of {AWS_DEFAULT_MINIMUM_LENGTH}"
            )
        if sum(classes.values()) < 3:
            raise PasswordPolicyViolation(
                "Password should have at least three of the following: uppercase letters, lowercase "
                "letters, numbers, and symbols"
            )
        if password.lower() in {n.lower() for n in account_names if n}:
            raise PasswordPolicyViolation("Password should not be the account's name or email address")
        return
    if len(password) < policy.minimum_password_length:
        raise PasswordPolicyViolation(
            f"Password should have a minimum length of {policy.minimum_password_length}"
        )
    if policy.require_uppercase_characters and not classes["uppercase"]:
        raise PasswordPolicyViolation("Password should have at least one uppercase letter")
    if policy.require_lowercase_characters and not classes["lowercase"]:
        raise PasswordPolicyViolation("Password should have at least one lowercase letter")
    if policy.require_numbers and not classes["numbers"]:
        raise PasswordPolicyViolation("Password should have at least one number")
    if policy.require_symbols and not classes["symbols"]:
        raise PasswordPolicyViolation("Password should have at least one symbol")


def reused_password_error(policy: PasswordPolicy) -> PasswordPolicyViolation:
    return PasswordPolicyViolation(
        f"Password should not be one of your last {policy.password_reuse_prevention} passwords"
    )
