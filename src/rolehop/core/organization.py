"""Stable identifiers of the organization, derived from its management account ID."""

from __future__ import annotations

import hashlib


def organization_id(management_account_id: str) -> str:
    return "o-" + hashlib.sha256(management_account_id.encode()).hexdigest()[:10]


def root_id(management_account_id: str) -> str:
    return "r-" + hashlib.sha256(b"root" + management_account_id.encode()).hexdigest()[:4]
