"""Service-specific credentials of IAM users: CreateServiceSpecificCredential,
ListServiceSpecificCredentials, ResetServiceSpecificCredential, UpdateServiceSpecificCredential,
DeleteServiceSpecificCredential.

Two kinds, as AWS: a user name and password for CodeCommit and Amazon Keyspaces
(`<user>-at-<account>`), and a long-term API key (a public alias and a secret) for Bedrock and
CloudWatch Logs, which alone may expire (CredentialAgeDays). The password or secret is generated
here, returned by the call that makes it (Create, Reset) and sealed with the key ring at rest. At
most two per user and service.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta
from typing import Any

from rolehop.core import arn
from rolehop.core.entities import Identity
from rolehop.core.errors import LimitExceeded, NoSuchEntity, NotSupportedService, ValidationError
from rolehop.core.ids import unique_id
from rolehop.core.keyring import key_id_of
from rolehop.services.iam.common import existing, hold, paginate
from rolehop.services.iam.ssh_keys import check_status
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.ports.iam_credentials import ServiceCredential
from rolehop.services.ports.store import Tx

CREDENTIAL_PREFIX = "ACCA"
PER_USER_AND_SERVICE = 2  # IAM's quota ServiceSpecificCredentialsPerUserPerService
PASSWORD_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com")
API_KEY_SERVICES = ("bedrock.amazonaws.com", "logs.amazonaws.com")
SECRET_PURPOSE = b"rolehop/iam-service-specific-credential/"


def _service(name: str) -> str:
    if name not in PASSWORD_SERVICES + API_KEY_SERVICES:
        raise NotSupportedService(f"No such service {name} is supported for Service-Specific Credentials")
    return name


def _user(call: Call, p: Params, action: str) -> Identity:
    """The user named in the request, else the calling user (other callers must name one)."""
    name = p.get("UserName") or call.caller.user_name
    if name is None:
        authorize(call, action, call.caller.arn)
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return existing(call, "user", name, action)


def _new_secret(rt: Runtime, cred: ServiceCredential) -> tuple[str, bytes]:
    """(the password or API key secret, sealed)."""
    random = base64.b64encode(rt.random(32)).decode()
    if cred.alias is None:
        secret = random
    else:
        # Bedrock's long-term keys are "ABSK" + base64 of "<alias>:<secret>"; CloudWatch Logs' alike
        prefix = "ABSK" if cred.service == "bedrock.amazonaws.com" else "ACWL"
        secret = prefix + base64.b64encode(f"{cred.alias}:{random}".encode()).decode()
    sealed = rt.ring.seal(
        secret.encode(), purpose=SECRET_PURPOSE + cred.credential_id.encode(), nonce=rt.random(12)
    )
    return secret, sealed


def _status(cred: ServiceCredential, call: Call) -> str:
    if cred.expires_at is not None and cred.expires_at <= call.now:
        return "Expired"
    return cred.status


def _metadata(cred: ServiceCredential, user_name: str, call: Call) -> dict[str, Any]:
    shape: dict[str, Any] = {"UserName": user_name, "Status": _status(cred, call)}
    if cred.service_user_name is not None:
        shape["ServiceUserName"] = cred.service_user_name
    if cred.alias is not None:
        shape["ServiceCredentialAlias"] = cred.alias
    shape["CreateDate"] = cred.created_at
    if cred.expires_at is not None:
        shape["ExpirationDate"] = cred.expires_at
    shape["ServiceSpecificCredentialId"] = cred.credential_id
    shape["ServiceName"] = cred.service
    return shape


def _with_secret(cred: ServiceCredential, user_name: str, secret: str, call: Call) -> dict[str, Any]:
    shape = _metadata(cred, user_name, call)
    shape["ServicePassword" if cred.alias is None else "ServiceCredentialSecret"] = secret
    return shape


def _credential_of(call: Call, user: Identity, credential_id: str) -> ServiceCredential:
    with call.runtime.store.transaction() as tx:
        creds = tx.service_credentials_of(user.account_id, user.unique_id)
    found = [c for c in creds if c.credential_id == credential_id]
    if not found:
        raise NoSuchEntity(f"No such credential {credential_id} exists")
    return found[0]


@operation("iam", "CreateServiceSpecificCredential")
def create_service_specific_credential(call: Call, p: Params) -> Result:
    user = existing(call, "user", p["UserName"], "iam:CreateServiceSpecificCredential")
    service = _service(p["ServiceName"])
    days = p.get("CredentialAgeDays")
    if days is not None and service not in API_KEY_SERVICES:
        raise ValidationError(f"CredentialAgeDays is not supported for service {service}.")
    rt = call.runtime
    credential_id = unique_id(CREDENTIAL_PREFIX, rt.random(11))
    api_key = service in API_KEY_SERVICES
    cred = ServiceCredential(
        credential_id,
        user.account_id,
        user.unique_id,
        service,
        None if api_key else f"{user.name}-at-{user.account_id}",
        # the public part: the user name, a version and the creation time (docs/decisions.md)
        f"{user.name}+1-at-{user.account_id}-{call.now:%Y%m%dT%H%M%S}" if api_key else None,
        b"",
        "Active",
        call.now,
        call.now + timedelta(days=int(days)) if days is not None else None,
    )
    secret, sealed = _new_secret(rt, cred)
    cred = replace(cred, sealed_secret=sealed)
    with rt.store.transaction() as tx:
        hold(tx, user)  # concurrent creates count each other; DeleteUser waits
        same = [c for c in tx.service_credentials_of(user.account_id, user.unique_id) if c.service == service]
        if len(same) >= PER_USER_AND_SERVICE:
            raise LimitExceeded(
                f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {PER_USER_AND_SERVICE}"
            )
        tx.insert_service_credential(cred)
    rt.changed()
    return {"ServiceSpecificCredential": _with_secret(cred, user.name, secret, call)}


@operation("iam", "ListServiceSpecificCredentials")
def list_service_specific_credentials(call: Call, p: Params) -> Result:
    action = "iam:ListServiceSpecificCredentials"
    account = call.caller.account_id
    service = _service(p["ServiceName"]) if p.get("ServiceName") else None
    if p.get("AllUsers"):
        if p.get("UserName"):
            authorize(call, action, arn.iam_arn(account, "user", "/", p["UserName"]))
            raise ValidationError("UserName cannot be specified together with AllUsers.")
        authorize(call, action, arn.iam_arn(account, "user", "/", "*"))
        with call.runtime.store.transaction() as tx:
            creds = tx.service_credentials_of(account, None)
            names = {c.user_id: tx.get_identity_by_id(c.user_id) for c in creds}
        user_names = {uid: u.name for uid, u in names.items() if u is not None}
    else:
        user = _user(call, p, action)
        with call.runtime.store.transaction() as tx:
            creds = tx.service_credentials_of(account, user.unique_id)
        user_names = {user.unique_id: user.name}
    creds = [c for c in creds if (service is None or c.service == service) and c.user_id in user_names]
    page, more = paginate(creds, p, key=lambda c: c.credential_id)
    return {"ServiceSpecificCredentials": [_metadata(c, user_names[c.user_id], call) for c in page], **more}


@operation("iam", "ResetServiceSpecificCredential")
def reset_service_specific_credential(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:ResetServiceSpecificCredential")
    cred = _credential_of(call, user, p["ServiceSpecificCredentialId"])
    secret, sealed = _new_secret(call.runtime, cred)
    cred = replace(cred, sealed_secret=sealed)
    with call.runtime.store.transaction() as tx:
        tx.update_service_credential(cred)
    call.runtime.changed()
    return {"ServiceSpecificCredential": _with_secret(cred, user.name, secret, call)}


@operation("iam", "UpdateServiceSpecificCredential")
def update_service_specific_credential(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:UpdateServiceSpecificCredential")
    status = check_status(p["Status"])
    cred = _credential_of(call, user, p["ServiceSpecificCredentialId"])
    with call.runtime.store.transaction() as tx:
        tx.update_service_credential(replace(cred, status=status))
    call.runtime.changed()
    return {}


@operation("iam", "DeleteServiceSpecificCredential")
def delete_service_specific_credential(call: Call, p: Params) -> Result:
    user = _user(call, p, "iam:DeleteServiceSpecificCredential")
    cred = _credential_of(call, user, p["ServiceSpecificCredentialId"])
    with call.runtime.store.transaction() as tx:
        tx.delete_service_credential(cred.credential_id)
    call.runtime.changed()
    return {}


# --- the key ring --------------------------------------------------------------------------------


def stored_service_credentials(tx: Tx) -> list[ServiceCredential]:
    """Every account's service-specific credentials (`rolehop keys`: what the ring seals)."""
    return [c for account in tx.list_accounts() for c in tx.service_credentials_of(account.account_id, None)]


def open_service_secret(rt: Runtime, cred: ServiceCredential) -> str:
    _kid, secret = rt.ring.open(cred.sealed_secret, purpose=SECRET_PURPOSE + cred.credential_id.encode())
    return secret.decode()


def reseal_service_credentials(rt: Runtime, tx: Tx) -> int:
    """Re-seals with the ring's sealing key every secret another key sealed; returns how many."""
    moved = 0
    for cred in stored_service_credentials(tx):
        if key_id_of(cred.sealed_secret) != rt.ring.active_key_id:
            purpose = SECRET_PURPOSE + cred.credential_id.encode()
            secret = open_service_secret(rt, cred).encode()
            sealed = rt.ring.seal(secret, purpose=purpose, nonce=rt.random(12))
            tx.update_service_credential(replace(cred, sealed_secret=sealed))
            moved += 1
    return moved
