"""IAM's credential report: GenerateCredentialReport, GetCredentialReport.

The report is a CSV with AWS's columns in AWS's order, one row for the account's root
(`<root_account>`) and one per IAM user, built from the store (passwords, MFA devices, access keys,
the password policy) and the audit trail (when a password or key was last used).

Generation (docs/decisions.md): GenerateCredentialReport builds the CSV at once and stores it in the
service last accessed jobs table (services/ports/service_last_accessed.py), under an ID derived from
the account and the four-hour window the report was generated in, so no migration is needed. The
first call answers STARTED, as AWS's does; a call within four hours of the last report answers
COMPLETE and reuses it (AWS: "If the existing report is older than four hours, IAM generates a new
report"). GetCredentialReport reads the newest report: ReportNotPresent before one was generated,
ReportExpired once it is more than four hours old. The job's owner is no principal's ARN, so the
access advisor's Get operations never read it.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from rolehop.core import arn
from rolehop.core.entities import AccessKey
from rolehop.core.errors import ReportExpired, ReportNotPresent
from rolehop.services.iam.service_last_accessed import JOB_DAYS
from rolehop.services.iam.users import CONSOLE_LOGIN
from rolehop.services.pipeline.authorize import authorize
from rolehop.services.pipeline.call import Call
from rolehop.services.pipeline.registry import Params, Result, operation
from rolehop.services.ports.service_last_accessed import AccessReportJob
from rolehop.services.ports.store import Tx
from rolehop.services.ports.trail import LastUse

REPORT_HOURS = 4
KIND = "CREDENTIAL_REPORT"  # the job's granularity: tells a credential report from an access report
ROOT_USER = "<root_account>"
_NAMESPACE = uuid.UUID("5b0c7f0e-3f6a-4c57-9d8e-6f1d2a0c4e11")
_WINDOWS_KEPT = JOB_DAYS * 24 // REPORT_HOURS  # older jobs are swept with the access advisor's
COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    *(
        f"access_key_{n}_{field}"
        for n in (1, 2)
        for field in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
    ),
    *(f"cert_{n}_{field}" for n in (1, 2) for field in ("active", "last_rotated")),
)
NA, NO_INFORMATION, NOT_SUPPORTED = "N/A", "no_information", "not_supported"


@operation("iam", "GenerateCredentialReport")
def generate_credential_report(call: Call, p: Params) -> Result:
    authorize(call, "iam:GenerateCredentialReport", "*")
    rt = call.runtime
    account = call.caller.account_id
    with rt.store.transaction() as tx:
        current = _newest(tx, account, call.now)
    if current is not None and current.created_at > call.now - timedelta(hours=REPORT_HOURS):
        return {"State": "COMPLETE"}
    rt.trail.flush()  # this node's records still waiting for their batch: the report's last-used data
    with rt.store.transaction() as tx:
        content = _csv(tx, account, call.now)
        job_id = _job_id(account, _window(call.now))
        if tx.get_access_report_job(job_id) is None:  # a concurrent Generate may have stored it first
            tx.insert_access_report_job(
                AccessReportJob(
                    job_id=job_id,
                    account_id=account,
                    owner_arn="",
                    entity_arn=arn.root_arn(account),
                    granularity=KIND,
                    created_at=call.now,
                    completed_at=call.now,
                    report=content,
                )
            )
    rt.changed()
    return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}


@operation("iam", "GetCredentialReport")
def get_credential_report(call: Call, p: Params) -> Result:
    authorize(call, "iam:GetCredentialReport", "*")
    with call.runtime.store.transaction() as tx:
        job = _newest(tx, call.caller.account_id, call.now)
    if job is None or job.report is None:
        raise ReportNotPresent(
            "Credential report not present. Use GenerateCredentialReport to generate a report."
        )
    if job.created_at <= call.now - timedelta(hours=REPORT_HOURS):
        raise ReportExpired(
            "Credential report has expired. Use GenerateCredentialReport to generate a new report."
        )
    return {"Content": job.report.encode(), "ReportFormat": "text/csv", "GeneratedTime": job.created_at}


# where reports are kept
def _window(now: datetime) -> int:
    return int(now.timestamp()) // (REPORT_HOURS * 3600)


def _job_id(account_id: str, window: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"credential-report:{account_id}:{window}"))


def _newest(tx: Tx, account_id: str, now: datetime) -> AccessReportJob | None:
    """The account's newest credential report still kept (a window has at most one)."""
    window = _window(now)
    for back in range(_WINDOWS_KEPT + 1):
        job = tx.get_access_report_job(_job_id(account_id, window - back))
        if job is not None and job.granularity == KIND and job.account_id == account_id:
            return job
    return None


# the report
def _time(at: datetime | None) -> str:
    """AWS's timestamps in the report: ISO 8601 to the second, with the UTC offset."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat() if at else NA


def _cert_columns(tx: Tx, account_id: str, user_id: str | None) -> list[str]:
    """cert_1_active, cert_1_last_rotated, cert_2_…: the signing certificates, oldest first."""
    certs = sorted(tx.signing_certificates_of(account_id, user_id), key=lambda c: c.uploaded_at)
    columns: list[str] = []
    for n in range(2):
        cert = certs[n] if n < len(certs) else None
        columns += [
            "true" if cert and cert.status == "Active" else "false",
            _time(cert.uploaded_at) if cert else NA,
        ]
    return columns


def _key_columns(keys: list[AccessKey], used: dict[str, LastUse]) -> list[str]:
    columns: list[str] = []
    for n in range(2):
        key = keys[n] if n < len(keys) else None
        if key is None:
            columns += ["false", NA, NA, NA, NA]
            continue
        last = used.get(key.access_key_id)
        columns += [
            "true" if key.status == "Active" else "false",
            _time(key.created_at),
            _time(last.at) if last else NA,
            last.region if last else NA,
            last.service.removesuffix(".amazonaws.com") if last else NA,
        ]
    return columns


def _csv(tx: Tx, account_id: str, now: datetime) -> str:
    account = tx.get_account(account_id)
    users = tx.list_identities("user", account_id)
    policy = tx.get_password_policy(account_id)
    root = arn.root_arn(account_id)
    keys = {None: tx.keys_of(account_id, None)} | {
        u.unique_id: tx.keys_of(account_id, u.unique_id) for u in users
    }
    for held in keys.values():
        held.sort(key=lambda k: (k.created_at, k.access_key_id))
    used = tx.last_attempts_by_key([k.access_key_id for held in keys.values() for k in held])
    signed_in = tx.last_events_of([root] + [u.arn for u in users], CONSOLE_LOGIN)
    rows: list[list[str]] = []
    root_login = signed_in.get(root)
    rows.append(
        [
            ROOT_USER,
            root,
            _time(account.created_at if account else now),
            NOT_SUPPORTED,
            _time(root_login.at) if root_login else NO_INFORMATION,
            NOT_SUPPORTED,
            NOT_SUPPORTED,
            "false",  # the root user has no MFA device in rolehop (GetAccountSummary's AccountMFAEnabled)
            *_key_columns(keys[None], used),
            *_cert_columns(tx, account_id, None),
        ]
    )
    for user in sorted(users, key=lambda u: u.name.lower()):
        profile = tx.get_login_profile(user.unique_id)
        login = signed_in.get(user.arn)
        # AWS: N/A when the user has no password (even one used before), no_information when unused
        last_used = NA if profile is None else _time(login.at) if login is not None else NO_INFORMATION
        rotation = NA
        if profile is not None and policy is not None and policy.expire_passwords:
            rotation = _time(profile.password_changed_at + timedelta(days=policy.max_password_age))
        mfa = any(d.enable_date is not None for d in tx.mfa_devices_of(user.unique_id))
        rows.append(
            [
                user.name,
                user.arn,
                _time(user.created_at),
                "true" if profile else "false",
                last_used,
                _time(profile.password_changed_at) if profile else NA,
                rotation,
                "true" if mfa else "false",
                *_key_columns(keys[user.unique_id], used),
                *_cert_columns(tx, user.account_id, user.unique_id),
            ]
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().removesuffix("\n")
