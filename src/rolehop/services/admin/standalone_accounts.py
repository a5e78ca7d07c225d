"""`rolehop accounts create-standalone`: an AWS account outside any organization, as one a person
signs up for, with its root user's access key, so that it can be invited to the organization
(InviteAccountToOrganization) and accept with its own credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rolehop.core.entities import AccessKey, Account
from rolehop.core.ids import LONG_TERM_KEY_PREFIX, access_key_id, secret_access_key
from rolehop.services.organizations.accounts import is_valid_email, new_account_id
from rolehop.services.pipeline.authenticate import seal_secret
from rolehop.services.pipeline.runtime import Runtime

# CreateAccount's AccountName: 1 to 50 printable ASCII characters (the model's CreateAccountName)
ACCOUNT_NAME = re.compile(r"[\x20-\x7e]{1,50}")
EMAIL_LENGTH = (6, 64)  # the model's Email


class StandaloneAccountError(ValueError):
    """The name or email cannot make an account (not an AWS error: this is operator tooling)."""


@dataclass(frozen=True)
class StandaloneAccount:
    account_id: str
    name: str
    email: str
    access_key_id: str
    secret_access_key: str  # shown once; the store keeps it sealed


def check_name_and_email(name: str, email: str | None) -> None:
    """Refuses, before any store is opened, a name or email CreateAccount would refuse."""
    if not ACCOUNT_NAME.fullmatch(name):
        raise StandaloneAccountError("The account name must be 1 to 50 printable ASCII characters.")
    if email is not None and not (EMAIL_LENGTH[0] <= len(email) <= EMAIL_LENGTH[1] and is_valid_email(email)):
        raise StandaloneAccountError(f"{email!r} is not an email address AWS accepts for an account.")


def create_standalone_account(rt: Runtime, name: str, email: str | None = None) -> StandaloneAccount:
    """A new account that belongs to no organization (JoinedMethod none), and its root access key.
    Without an email, it gets ACCOUNT-ID@example.invalid. Emails are unique across every account,
    as AWS requires."""
    check_name_and_email(name, email)
    now = rt.clock()
    with rt.store.transaction() as tx:
        account_id = new_account_id(rt, tx)
        address = email or f"{account_id}@example.invalid"
        if any(a.email.lower() == address.lower() for a in tx.list_accounts()):
            raise StandaloneAccountError(f"An account with the email address {address} already exists.")
        tx.put_account(Account(account_id, name, address, now))
        key_id = access_key_id(LONG_TERM_KEY_PREFIX, account_id, rt.random(5))
        secret = secret_access_key(rt.random(30))
        tx.insert_key(AccessKey(key_id, account_id, None, seal_secret(rt, key_id, secret), "Active", now))
    rt.changed()  # this node forgets "no such key"; other processes' watchers see the write
    return StandaloneAccount(account_id, name, address, key_id, secret)
