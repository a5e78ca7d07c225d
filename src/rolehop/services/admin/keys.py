"""The stored secrets a key ring seals (access-key secrets, MFA seeds, the audit trail's signing
keys, SAML providers' and server certificates' private keys, service-specific credentials' secrets):
which key seals how many,
and re-sealing them all with the ring's sealing key (`rolehop keys reseal`), so that an old key can
be retired without shutting any stored secret. Session tokens and console sessions are not stored
secrets: they end by themselves within their lifetime (at most 36 hours)."""

from __future__ import annotations

from collections import Counter

from rolehop.core.entities import AccessKey, MfaDevice
from rolehop.core.keyring import key_id_of
from rolehop.services.iam.certificates import reseal_server_certificates, stored_server_certificates
from rolehop.services.iam.saml_providers import reseal_private_keys, stored_saml_providers
from rolehop.services.iam.service_credentials import reseal_service_credentials, stored_service_credentials
from rolehop.services.pipeline.authenticate import open_secret, seal_secret
from rolehop.services.pipeline.mfa_check import SEED_PURPOSE, seal_seed
from rolehop.services.pipeline.runtime import Runtime
from rolehop.services.pipeline.trail import SIGNING_KEY_PURPOSE
from rolehop.services.ports.store import Tx


def _stored(tx: Tx) -> tuple[list[AccessKey], list[MfaDevice]]:
    keys: list[AccessKey] = []
    devices: list[MfaDevice] = []
    for account in tx.list_accounts():
        keys += tx.keys_of(account.account_id, None)
        for user in tx.list_identities("user", account.account_id):
            keys += tx.keys_of(account.account_id, user.unique_id)
        devices += tx.list_mfa_devices(account.account_id)
    return keys, devices


def sealed_by(rt: Runtime) -> Counter[str]:
    """How many stored secrets each key ID seals."""
    with rt.store.transaction() as tx:
        keys, devices = _stored(tx)
        signing = tx.signing_keys()
        saml = stored_saml_providers(tx)
        iam_blobs = [c.sealed_private_key for c in stored_server_certificates(tx)]
        iam_blobs += [c.sealed_secret for c in stored_service_credentials(tx)]
    blobs = [k.sealed_secret for k in keys] + [d.sealed_seed for d in devices]
    blobs += [k.sealed_key for s in saml for k in s.private_keys]
    blobs += [k.sealed_private for k in signing] + iam_blobs
    return Counter(key_id_of(blob) or "?" for blob in blobs)


def reseal_all(rt: Runtime) -> int:
    """Re-seals with the sealing key every stored secret another key sealed; returns how many."""
    sealing = rt.ring.active_key_id
    moved = 0
    with rt.store.transaction() as tx:  # all or nothing
        keys, devices = _stored(tx)
        for key in keys:
            if key_id_of(key.sealed_secret) != sealing:
                secret = open_secret(rt, key)
                tx.reseal_key_secret(key.access_key_id, seal_secret(rt, key.access_key_id, secret))
                moved += 1
        for device in devices:
            if key_id_of(device.sealed_seed) != sealing:
                _kid, seed = rt.ring.open(
                    device.sealed_seed, purpose=SEED_PURPOSE + device.device_id.encode()
                )
                tx.reseal_mfa_seed(device.device_id, seal_seed(rt, device.device_id, seed))
                moved += 1
        for signing in tx.signing_keys():
            if key_id_of(signing.sealed_private) != sealing:
                purpose = SIGNING_KEY_PURPOSE + signing.key_id.encode()
                _kid, private = rt.ring.open(signing.sealed_private, purpose=purpose)
                resealed = rt.ring.seal(private, purpose=purpose, nonce=rt.random(12))
                tx.reseal_signing_key(signing.key_id, resealed)
                moved += 1
        for provider in stored_saml_providers(tx):
            provider, count = reseal_private_keys(rt, provider)
            if count:
                tx.update_saml_provider(provider)
                moved += count
        moved += reseal_server_certificates(rt, tx) + reseal_service_credentials(rt, tx)
    rt.changed()  # cached secrets were opened with the old blobs; reload them
    return moved
