"""Operator tooling, not AWS operations: `bootstrap` (what a fresh store needs: the management
account, AWS-managed policies, the root key from the environment) and `apply` (`rolehop apply`:
make the store hold the organization a file describes) and `keys` (what each key of the ring
seals in the store, and re-sealing it for `rolehop keys`) and `audit` (`rolehop audit`: verifying
the audit trail without a secret, its public keys, export, tail and retention now).
"""
