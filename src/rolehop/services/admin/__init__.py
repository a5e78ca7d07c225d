"""Operator tooling, not AWS operations: `bootstrap` (what a fresh store needs: the management
account, AWS-managed policies, the root key from the environment); the organization as code, one
purpose a module: `org_model` (the organization file's model, shared by what follows), `org_file`
(a file's YAML checked and read into the model), `org_live` (the store read into the model),
`org_plan` (desired against live: the changes, field by field, and the unmanaged objects),
`apply` (`rolehop plan` / `rolehop apply`: the plan carried out in one transaction) and
`org_export` (`rolehop export`: the live organization written as a file); `keys` (what each key of
the ring seals in the store, and re-sealing it for `rolehop keys`) and `audit` (`rolehop audit`:
verifying the audit trail without a secret, its public keys, export, tail and retention now).
"""
