"""The storage ports: Protocols that say what services need from a store and nothing about how it
keeps it. rolehop.store implements them (SQLite or PostgreSQL through SQLAlchemy).

    store          Store (hands out transactions) and Tx (identities, policies, keys, MFA…)
    organizations  OrgTx: OUs, control policies and their targets
    trail          TrailTx: the audit trail (CloudTrail records on hash chains, digests, keys)
    console        ConsoleStore: console sessions and role history; UserSessionsTx (part of Tx):
                   ending a user's sessions when their credentials change
    federation     FederationTx (part of Tx): IAM's OIDC and SAML identity providers
    meter          Meter: the events services count for operators (decisions, credentials issued,
                   failed MFA codes and passwords); rolehop.metrics implements it
"""
