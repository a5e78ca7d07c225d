"""The organization's lifecycle over the live API, with boto3 and the AWS CLI: a fresh server has no
organization until CreateOrganization; CreateAccount answers IN_PROGRESS and is SUCCEEDED when
described; a standalone account is invited and accepts with its own credentials; handshakes are
declined, canceled and expire with the clock; CloseAccount goes PENDING_CLOSURE -> SUSPENDED;
DeleteOrganization waits for the last member to go, and the next organization is a new one;
EnableAllFeatures runs its handshakes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rolehop.core import account_lifecycle
from rolehop.core.account_lifecycle import close_quota
from rolehop.services.admin.standalone_accounts import StandaloneAccount, create_standalone_account
from support import FakeClock, LiveServer, aws_cli

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DAY = 24 * 3600


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str | None]:
    """The AWS error code of a call that must fail, and its Reason (Organizations' JSON errors)."""
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    response = exc.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] < 500, response
    return response["Error"]["Code"], response.get("Reason")


def standalone(server: LiveServer, name: str, email: str | None = None) -> tuple[StandaloneAccount, Any]:
    """An account outside any organization (as `rolehop accounts create-standalone` makes it) and an
    Organizations client with its own root key."""
    made = create_standalone_account(server.app.rt, name, email)
    creds = {"AccessKeyId": made.access_key_id, "SecretAccessKey": made.secret_access_key}
    return made, server.client_for("organizations", creds)


def created_account(orgs: Any, name: str, email: str) -> str:
    status = orgs.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
    assert status["State"] == "IN_PROGRESS" and "AccountId" not in status
    done = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED", done
    return str(done["AccountId"])


def admin_session(server: LiveServer, account_id: str, service: str = "organizations") -> Any:
    """A client of the management account's administrator in a created member account, through
    OrganizationAccountAccessRole."""
    iam = server.client("iam")
    name = f"operator-{len(iam.list_users()['Users'])}"
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=ADMIN)
    keys = iam.create_access_key(UserName=name)["AccessKey"]
    creds = server.client_for("sts", keys).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="op"
    )["Credentials"]
    return server.client_for(service, creds)


def invite(orgs: Any, account_id: str, **extra: Any) -> dict[str, Any]:
    handshake: dict[str, Any] = orgs.invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": account_id}, **extra
    )["Handshake"]
    return handshake


def test_a_fresh_server_has_no_organization_until_one_is_created(server: LiveServer, tmp_path: Path) -> None:
    orgs = server.client("organizations")
    assert error_of(orgs.describe_organization)[0] == "AWSOrganizationsNotInUseException"
    assert error_of(orgs.list_accounts)[0] == "AWSOrganizationsNotInUseException"
    assert error_of(orgs.delete_organization)[0] == "AWSOrganizationsNotInUseException"
    described = aws_cli(server, tmp_path, "organizations", "describe-organization")
    assert described.returncode != 0 and "AWSOrganizationsNotInUseException" in described.stderr

    created = aws_cli(server, tmp_path, "organizations", "create-organization", "--feature-set", "ALL")
    assert created.returncode == 0, created.stderr
    org = json.loads(created.stdout)["Organization"]
    assert org["Id"].startswith("o-") and org["MasterAccountId"] == server.account_id
    assert org["Arn"] == f"arn:aws:organizations::{server.account_id}:organization/{org['Id']}"
    assert orgs.describe_organization()["Organization"] == org
    assert error_of(orgs.create_organization)[0] == "AlreadyInOrganizationException"
    [management] = orgs.list_accounts()["Accounts"]
    assert management["Id"] == server.account_id and management["JoinedMethod"] == "INVITED"
    assert management["Status"] == management["State"] == "ACTIVE"
    [root] = orgs.list_roots()["Roots"]
    assert orgs.list_children(ParentId=root["Id"], ChildType="ACCOUNT")["Children"] == [
        {"Id": server.account_id, "Type": "ACCOUNT"}
    ]


def test_create_account_is_asynchronous_validated_and_paged(server: LiveServer) -> None:
    orgs = server.organizations()
    ids = [created_account(orgs, f"acct-{i}", f"acct-{i}@example.com") for i in range(3)]

    taken = orgs.create_account(AccountName="again", Email="ACCT-0@example.com")["CreateAccountStatus"]
    assert taken["State"] == "IN_PROGRESS"
    failed = orgs.describe_create_account_status(CreateAccountRequestId=taken["Id"])["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    dotted = orgs.create_account(AccountName="dotted", Email=".dot@example.com")["CreateAccountStatus"]
    dotted = orgs.describe_create_account_status(CreateAccountRequestId=dotted["Id"])["CreateAccountStatus"]
    assert dotted["FailureReason"] == "INVALID_EMAIL"
    assert error_of(
        orgs.create_account, AccountName="r", Email="r@example.com", RoleName="AWSServiceRoleForX"
    ) == (
        "InvalidInputException",
        "INVALID_ROLE_NAME",
    )
    tagged = orgs.create_account(
        AccountName="tagged", Email="tagged@example.com", Tags=[{"Key": "cc", "Value": "42"}]
    )
    tagged = orgs.describe_create_account_status(CreateAccountRequestId=tagged["CreateAccountStatus"]["Id"])
    tagged_id = tagged["CreateAccountStatus"]["AccountId"]
    assert orgs.list_tags_for_resource(ResourceId=tagged_id)["Tags"] == [{"Key": "cc", "Value": "42"}]
    system_tag = [{"Key": "aws:cc", "Value": "42"}]  # a refused tag: no account, no request
    assert error_of(orgs.create_account, AccountName="s", Email="s@example.com", Tags=system_tag) == (
        "InvalidInputException",
        "INVALID_SYSTEM_TAGS_PARAMETER",
    )
    ids.append(tagged_id)
    raw = server.client("organizations", validate=False)  # what the model bounds, the server checks too
    assert error_of(raw.create_account, AccountName="x" * 51, Email="long@example.com") == (
        "InvalidInputException",
        "MAX_LENGTH_EXCEEDED",
    )
    assert error_of(raw.create_account, AccountName="x", Email="a@b.c")[0] == "InvalidInputException"

    listed = [
        a
        for page in orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1})
        for a in page["Accounts"]
    ]
    assert sorted(a["Id"] for a in listed) == sorted([server.account_id, *ids])  # each once
    assert {a["Id"] for a in listed if a["JoinedMethod"] == "CREATED"} == set(ids)
    first = orgs.list_accounts(MaxResults=2)
    assert len(first["Accounts"]) == 2 and "NextToken" in first
    rest = orgs.list_accounts(MaxResults=3, NextToken=first["NextToken"])
    assert len(rest["Accounts"]) == 3 and "NextToken" not in rest
    statuses = [
        s
        for page in orgs.get_paginator("list_create_account_status").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for s in page["CreateAccountStatuses"]
    ]
    assert sorted(s["State"] for s in statuses) == ["FAILED"] * 2 + ["SUCCEEDED"] * 4
    assert len({s["Id"] for s in statuses}) == 6
    failures = orgs.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert {s["FailureReason"] for s in failures} == {"EMAIL_ALREADY_EXISTS", "INVALID_EMAIL"}

    member = admin_session(server, ids[0])  # an administrator of a member account
    for call, kwargs in (
        (member.list_accounts, {}),
        (member.create_account, {"AccountName": "m", "Email": "m@example.com"}),
        (member.invite_account_to_organization, {"Target": {"Type": "ACCOUNT", "Id": ids[1]}}),
        (member.remove_account_from_organization, {"AccountId": ids[1]}),
        (member.close_account, {"AccountId": ids[1]}),
        (member.delete_organization, {}),
        (member.enable_all_features, {}),
        (member.list_handshakes_for_organization, {}),
    ):
        assert error_of(call, **kwargs)[0] == "AccessDeniedException", call
    assert member.describe_organization()["Organization"]["MasterAccountId"] == server.account_id


def test_an_invited_standalone_account_joins_with_its_own_credentials(server: LiveServer) -> None:
    orgs = server.organizations()
    org = orgs.describe_organization()["Organization"]
    outsider, outsider_orgs = standalone(server, "Outsider", "outsider@example.com")
    _, stranger_orgs = standalone(server, "Stranger")
    assert error_of(outsider_orgs.describe_organization)[0] == "AWSOrganizationsNotInUseException"
    assert outsider_orgs.list_handshakes_for_account()["Handshakes"] == []

    handshake = invite(orgs, outsider.account_id, Notes="Join us", Tags=[{"Key": "team", "Value": "blue"}])
    hid = handshake["Id"]
    assert hid.startswith("h-")
    assert (
        handshake["Arn"] == f"arn:aws:organizations::{server.account_id}:handshake/{org['Id']}/invite/{hid}"
    )
    assert handshake["Action"] == "INVITE" and handshake["State"] == "OPEN"
    assert handshake["Parties"] == [
        {"Id": org["Id"], "Type": "ORGANIZATION"},
        {"Id": outsider.account_id, "Type": "ACCOUNT"},
    ]
    assert handshake["ExpirationTimestamp"] - handshake["RequestedTimestamp"] == timedelta(days=15)
    assert handshake["Resources"] == [
        {
            "Type": "ORGANIZATION",
            "Value": org["Id"],
            "Resources": [
                {"Type": "MASTER_EMAIL", "Value": org["MasterAccountEmail"]},
                {"Type": "MASTER_NAME", "Value": "management"},
                {"Type": "ORGANIZATION_FEATURE_SET", "Value": "ALL"},
            ],
        },
        {"Type": "ACCOUNT", "Value": outsider.account_id},
        {"Type": "NOTES", "Value": "Join us"},
    ]
    # the audit trail keeps what AWS's model marks sensitive out: the notes, the parties, the values
    server.app.rt.trail.flush()
    events = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "InviteAccountToOrganization"}]
    )["Events"]
    recorded = json.loads(events[0]["CloudTrailEvent"])
    assert "Join us" not in events[0]["CloudTrailEvent"]
    assert recorded["responseElements"]["handshake"]["resources"][2] == {"type": "NOTES"}
    assert recorded["requestParameters"]["target"] == {"type": "ACCOUNT"}
    # one open invitation per account, whichever way it names the account
    assert error_of(invite, orgs, outsider.account_id)[0] == "DuplicateHandshakeException"
    by_email = {"Type": "EMAIL", "Id": "OUTSIDER@example.com"}
    assert error_of(orgs.invite_account_to_organization, Target=by_email)[0] == "DuplicateHandshakeException"
    assert error_of(invite, orgs, server.account_id) == (
        "HandshakeConstraintViolationException",
        "ALREADY_IN_AN_ORGANIZATION",
    )
    assert error_of(invite, orgs, "999999999999")[0] == "AccountNotFoundException"
    nobody = {"Type": "EMAIL", "Id": "nobody@example.com"}
    assert error_of(orgs.invite_account_to_organization, Target=nobody)[0] == "AccountNotFoundException"
    wrong = {"Type": "ORGANIZATION", "Id": org["Id"]}
    assert error_of(orgs.invite_account_to_organization, Target=wrong) == (
        "InvalidInputException",
        "INVALID_PARTY_TYPE_TARGET",
    )

    # the recipient sees it; an account that is no party to it does not
    assert [h["Id"] for h in outsider_orgs.list_handshakes_for_account()["Handshakes"]] == [hid]
    assert outsider_orgs.describe_handshake(HandshakeId=hid)["Handshake"] == handshake
    assert stranger_orgs.list_handshakes_for_account()["Handshakes"] == []
    assert error_of(stranger_orgs.describe_handshake, HandshakeId=hid)[0] == "HandshakeNotFoundException"
    assert error_of(stranger_orgs.accept_handshake, HandshakeId=hid)[0] == "HandshakeNotFoundException"
    # the sender neither accepts nor declines its own invitation
    assert error_of(orgs.accept_handshake, HandshakeId=hid)[0] == "AccessDeniedException"
    assert error_of(orgs.decline_handshake, HandshakeId=hid)[0] == "AccessDeniedException"

    accepted = outsider_orgs.accept_handshake(HandshakeId=hid)["Handshake"]
    assert accepted["State"] == "ACCEPTED" and accepted["Id"] == hid
    assert outsider_orgs.describe_organization()["Organization"]["Id"] == org["Id"]
    joined = orgs.describe_account(AccountId=outsider.account_id)["Account"]
    assert joined["JoinedMethod"] == "INVITED" and joined["Email"] == "outsider@example.com"
    assert {a["Id"]: a["JoinedMethod"] for a in orgs.list_accounts()["Accounts"]} == {
        server.account_id: "INVITED",
        outsider.account_id: "INVITED",
    }
    assert orgs.list_tags_for_resource(ResourceId=outsider.account_id)["Tags"] == [
        {"Key": "team", "Value": "blue"}
    ]
    root = orgs.list_roots()["Roots"][0]["Id"]
    assert orgs.list_parents(ChildId=outsider.account_id)["Parents"] == [{"Id": root, "Type": "ROOT"}]
    # AWS creates OrganizationAccountAccessRole only in accounts it creates
    outsider_iam = server.client("iam", outsider.access_key_id, outsider.secret_access_key)
    assert error_of(outsider_iam.get_role, RoleName="OrganizationAccountAccessRole")[0] == "NoSuchEntity"
    assert error_of(outsider_orgs.accept_handshake, HandshakeId=hid)[0] == "HandshakeAlreadyInStateException"
    assert (
        error_of(outsider_orgs.decline_handshake, HandshakeId=hid)[0] == "InvalidHandshakeTransitionException"
    )
    assert error_of(orgs.cancel_handshake, HandshakeId=hid)[0] == "InvalidHandshakeTransitionException"
    invites = orgs.list_handshakes_for_organization(Filter={"ActionType": "INVITE"})["Handshakes"]
    assert [h["State"] for h in invites] == ["ACCEPTED"]
    both = {"ActionType": "INVITE", "ParentHandshakeId": hid}
    assert error_of(orgs.list_handshakes_for_organization, Filter=both) == (
        "InvalidInputException",
        "MAX_LIMIT_EXCEEDED_FILTER",
    )

    # an invited account may leave at once (only created ones wait four days), with its own key,
    # once it is no delegated administrator
    assert error_of(orgs.leave_organization)[0] == "MasterCannotLeaveOrganizationException"
    service = "config.amazonaws.com"
    orgs.enable_aws_service_access(ServicePrincipal=service)
    orgs.register_delegated_administrator(AccountId=outsider.account_id, ServicePrincipal=service)
    assert error_of(outsider_orgs.leave_organization) == (
        "ConstraintViolationException",
        "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG",
    )
    orgs.deregister_delegated_administrator(AccountId=outsider.account_id, ServicePrincipal=service)
    outsider_orgs.leave_organization()
    assert error_of(outsider_orgs.describe_organization)[0] == "AWSOrganizationsNotInUseException"
    assert [a["Id"] for a in orgs.list_accounts()["Accounts"]] == [server.account_id]
    assert error_of(orgs.describe_account, AccountId=outsider.account_id)[0] == "AccountNotFoundException"
    assert (
        error_of(orgs.list_tags_for_resource, ResourceId=outsider.account_id)[0] == "TargetNotFoundException"
    )
    # invited again, it joins again; the tags it had are gone
    again = invite(orgs, outsider.account_id)
    outsider_orgs.accept_handshake(HandshakeId=again["Id"])
    assert orgs.list_tags_for_resource(ResourceId=outsider.account_id)["Tags"] == []


def test_handshakes_are_declined_canceled_and_expire(server: LiveServer, clock: FakeClock) -> None:
    orgs = server.organizations()
    _, a_orgs = standalone(server, "A", "a@example.com")
    b, b_orgs = standalone(server, "B")
    c, c_orgs = standalone(server, "C")
    to_a = orgs.invite_account_to_organization(Target={"Type": "EMAIL", "Id": "a@example.com"})["Handshake"]
    assert to_a["Parties"][1] == {"Id": "a@example.com", "Type": "EMAIL"}
    to_b = invite(orgs, b.account_id)
    to_c = invite(orgs, c.account_id)

    declined = a_orgs.decline_handshake(HandshakeId=to_a["Id"])["Handshake"]
    assert declined["State"] == "DECLINED"
    assert error_of(a_orgs.decline_handshake, HandshakeId=to_a["Id"])[0] == "HandshakeAlreadyInStateException"
    assert (
        error_of(a_orgs.accept_handshake, HandshakeId=to_a["Id"])[0] == "InvalidHandshakeTransitionException"
    )
    assert error_of(orgs.cancel_handshake, HandshakeId=to_a["Id"])[0] == "InvalidHandshakeTransitionException"

    canceled = orgs.cancel_handshake(HandshakeId=to_b["Id"])["Handshake"]
    assert canceled["State"] == "CANCELED"
    assert b_orgs.describe_handshake(HandshakeId=to_b["Id"])["Handshake"]["State"] == "CANCELED"
    assert error_of(orgs.cancel_handshake, HandshakeId=to_b["Id"])[0] == "HandshakeAlreadyInStateException"
    assert (
        error_of(b_orgs.accept_handshake, HandshakeId=to_b["Id"])[0] == "InvalidHandshakeTransitionException"
    )
    assert error_of(orgs.cancel_handshake, HandshakeId="h-0000000000")[0] == "HandshakeNotFoundException"

    clock.advance(15 * DAY - 1)
    assert c_orgs.describe_handshake(HandshakeId=to_c["Id"])["Handshake"]["State"] == "OPEN"
    clock.advance(1)
    assert c_orgs.describe_handshake(HandshakeId=to_c["Id"])["Handshake"]["State"] == "EXPIRED"
    assert (
        error_of(c_orgs.accept_handshake, HandshakeId=to_c["Id"])[0] == "InvalidHandshakeTransitionException"
    )
    states = {h["Id"]: h["State"] for h in orgs.list_handshakes_for_organization()["Handshakes"]}
    assert states == {to_a["Id"]: "DECLINED", to_b["Id"]: "CANCELED", to_c["Id"]: "EXPIRED"}
    # a declined, canceled or expired invitation is no longer open: the account may be invited again
    fresh = invite(orgs, c.account_id)
    assert c_orgs.accept_handshake(HandshakeId=fresh["Id"])["Handshake"]["State"] == "ACCEPTED"
    # closed handshakes are listed for 30 days (after their expiry, at the latest), then forgotten
    clock.advance(30 * DAY)
    listed = [h["Id"] for h in orgs.list_handshakes_for_organization()["Handshakes"]]
    assert listed == [fresh["Id"]]
    assert error_of(b_orgs.describe_handshake, HandshakeId=to_b["Id"])[0] == "HandshakeNotFoundException"


def test_invitations_are_limited_to_20_a_day(server: LiveServer, clock: FakeClock) -> None:
    orgs = server.organizations()
    invitees = [create_standalone_account(server.app.rt, f"invitee-{i}") for i in range(21)]
    for made in invitees[:20]:
        invite(orgs, made.account_id)
    assert error_of(invite, orgs, invitees[20].account_id) == (
        "HandshakeConstraintViolationException",
        "HANDSHAKE_RATE_LIMIT_EXCEEDED",
    )
    clock.advance(DAY)
    assert invite(orgs, invitees[20].account_id)["State"] == "OPEN"
    page = orgs.list_handshakes_for_organization(MaxResults=20)
    rest = orgs.list_handshakes_for_organization(NextToken=page["NextToken"])
    assert len(page["Handshakes"]) == 20 and len(rest["Handshakes"]) == 1 and "NextToken" not in rest


def test_close_account_is_pending_then_suspended(
    server: LiveServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs = server.organizations()
    doomed = created_account(orgs, "doomed", "doomed@example.com")
    iam_in_doomed = admin_session(server, doomed, "iam")
    iam_in_doomed.list_roles()

    orgs.close_account(AccountId=doomed)
    account = orgs.describe_account(AccountId=doomed)["Account"]
    assert account["Status"] == account["State"] == "PENDING_CLOSURE"
    assert error_of(orgs.close_account, AccountId=doomed)[0] == "ConflictException"
    assert error_of(orgs.close_account, AccountId=server.account_id) == (
        "ConstraintViolationException",
        "CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
    )
    assert error_of(orgs.close_account, AccountId="999999999999")[0] == "AccountNotFoundException"

    clock.advance(5 * 60)
    account = orgs.describe_account(AccountId=doomed)["Account"]
    assert account["Status"] == account["State"] == "SUSPENDED"
    listed = {a["Id"]: a["Status"] for a in orgs.list_accounts()["Accounts"]}
    assert listed[doomed] == "SUSPENDED"
    assert error_of(orgs.close_account, AccountId=doomed)[0] == "AccountAlreadyClosedException"
    # a closed account's principals can no longer call anything
    code, _ = error_of(iam_in_doomed.list_roles)
    assert code == "InvalidClientTokenId"
    clock.advance(90 * DAY)
    account = orgs.describe_account(AccountId=doomed)["Account"]
    assert (account["Status"], account["State"]) == ("SUSPENDED", "CLOSED")

    # the quota: the higher of 250 and 20% of the members, at most 1,000, in any 30 days
    assert (close_quota(3), close_quota(2000), close_quota(10_000)) == (250, 400, 1000)
    monkeypatch.setattr(account_lifecycle, "CLOSE_QUOTA_FLOOR", 1)  # a small organization's quota
    first, second = (created_account(orgs, n, f"{n}@example.com") for n in ("first", "second"))
    orgs.close_account(AccountId=first)
    assert error_of(orgs.close_account, AccountId=second) == (
        "ConstraintViolationException",
        "CLOSE_ACCOUNT_QUOTA_EXCEEDED",
    )
    clock.advance(30 * DAY)
    orgs.close_account(AccountId=second)


def test_delete_organization_waits_for_the_last_member(server: LiveServer, clock: FakeClock) -> None:
    orgs = server.organizations()
    before = orgs.describe_organization()["Organization"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    made = created_account(orgs, "made", "made@example.com")
    joiner, joiner_orgs = standalone(server, "Joiner")
    joiner_orgs.accept_handshake(HandshakeId=invite(orgs, joiner.account_id)["Id"])
    pending, pending_orgs = standalone(server, "Pending")
    invite(orgs, pending.account_id)
    ou = orgs.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]
    orgs.move_account(AccountId=server.account_id, SourceParentId=root, DestinationParentId=ou["Id"])
    scp = orgs.create_policy(
        Name="deny-nothing",
        Description="d",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "x:Y", "Resource": "*"}]}
        ),
    )["Policy"]["PolicySummary"]
    orgs.attach_policy(PolicyId=scp["Id"], TargetId=ou["Id"])

    assert error_of(orgs.delete_organization)[0] == "OrganizationNotEmptyException"
    made_orgs = admin_session(server, made)
    assert error_of(made_orgs.delete_organization)[0] == "AccessDeniedException"
    # a created account waits four days before it may go
    assert error_of(made_orgs.leave_organization) == ("ConstraintViolationException", "WAIT_PERIOD_ACTIVE")
    assert error_of(orgs.remove_account_from_organization, AccountId=made) == (
        "ConstraintViolationException",
        "WAIT_PERIOD_ACTIVE",
    )
    assert error_of(orgs.remove_account_from_organization, AccountId=server.account_id)[0] == (
        "MasterCannotLeaveOrganizationException"
    )
    assert error_of(orgs.remove_account_from_organization, AccountId="999999999999")[0] == (
        "AccountNotFoundException"
    )
    clock.advance(4 * DAY)
    orgs.remove_account_from_organization(AccountId=made)
    assert error_of(orgs.delete_organization)[0] == "OrganizationNotEmptyException"
    joiner_orgs.leave_organization()
    orgs.delete_organization()

    assert error_of(orgs.describe_organization)[0] == "AWSOrganizationsNotInUseException"
    assert pending_orgs.list_handshakes_for_account()["Handshakes"] == []  # its invitation went too
    after = orgs.create_organization()["Organization"]
    assert after["Id"] != before["Id"]
    new_root = orgs.list_roots()["Roots"][0]["Id"]
    assert new_root != root
    assert orgs.list_organizational_units_for_parent(ParentId=new_root)["OrganizationalUnits"] == []
    policies = orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Name"] for p in policies] == ["FullAWSAccess"]
    assert [a["Id"] for a in orgs.list_accounts()["Accounts"]] == [server.account_id]
    assert orgs.list_create_account_status()["CreateAccountStatuses"] == []  # the old one's requests went
    assert orgs.list_parents(ChildId=server.account_id)["Parents"] == [{"Id": new_root, "Type": "ROOT"}]
    # the account that was created in the old organization can be invited into the new one
    made_orgs = admin_session(server, made)  # the first session expired during the four days
    made_orgs.accept_handshake(HandshakeId=invite(orgs, made)["Id"])
    assert orgs.describe_account(AccountId=made)["Account"]["JoinedMethod"] == "INVITED"


def test_enable_all_features_goes_through_its_handshakes(server: LiveServer) -> None:
    orgs = server.client("organizations")
    org = orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING")["Organization"]
    assert org["FeatureSet"] == "CONSOLIDATED_BILLING" and org["AvailablePolicyTypes"] == []
    made = created_account(orgs, "made", "made@example.com")
    first, first_orgs = standalone(server, "First")
    second, second_orgs = standalone(server, "Second")
    for account, client in ((first, first_orgs), (second, second_orgs)):
        client.accept_handshake(HandshakeId=invite(orgs, account.account_id)["Id"])
    assert error_of(orgs.close_account, AccountId=made) == (
        "ConstraintViolationException",
        "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE",
    )

    parent = orgs.enable_all_features()["Handshake"]
    assert parent["Action"] == "ENABLE_ALL_FEATURES" and parent["State"] == "REQUESTED"
    assert parent["Parties"] == [
        {"Id": org["Id"], "Type": "ORGANIZATION"},
        {"Id": server.account_id, "Type": "ACCOUNT"},
    ]
    assert parent["Arn"].endswith(f"/{org['Id']}/enable_all_features/{parent['Id']}")
    assert error_of(orgs.enable_all_features) == (
        "HandshakeConstraintViolationException",
        "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION",
    )
    third, _ = standalone(server, "Third")
    assert error_of(invite, orgs, third.account_id) == (
        "HandshakeConstraintViolationException",
        "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES",
    )
    children = orgs.list_handshakes_for_organization(Filter={"ParentHandshakeId": parent["Id"]})["Handshakes"]
    assert sorted(c["Parties"][1]["Id"] for c in children) == sorted([first.account_id, second.account_id])
    assert {c["Action"] for c in children} == {"APPROVE_ALL_FEATURES"}
    assert admin_session(server, made).list_handshakes_for_account()["Handshakes"] == []  # approval inferred
    assert (
        error_of(orgs.accept_handshake, HandshakeId=parent["Id"])[0] == "InvalidHandshakeTransitionException"
    )

    for client in (first_orgs, second_orgs):
        [mine] = client.list_handshakes_for_account(Filter={"ActionType": "APPROVE_ALL_FEATURES"})[
            "Handshakes"
        ]
        assert {"Type": "PARENT_HANDSHAKE", "Value": parent["Id"]} in mine["Resources"]
        assert client.accept_handshake(HandshakeId=mine["Id"])["Handshake"]["State"] == "ACCEPTED"
        if client is first_orgs:
            assert orgs.describe_handshake(HandshakeId=parent["Id"])["Handshake"]["State"] == "REQUESTED"
    assert orgs.describe_handshake(HandshakeId=parent["Id"])["Handshake"]["State"] == "OPEN"
    [listed] = orgs.list_handshakes_for_account(Filter={"ActionType": "ENABLE_ALL_FEATURES"})["Handshakes"]
    assert listed["Id"] == parent["Id"]

    assert orgs.accept_handshake(HandshakeId=parent["Id"])["Handshake"]["State"] == "ACCEPTED"
    assert orgs.describe_organization()["Organization"]["FeatureSet"] == "ALL"
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == []  # policy types are enabled one by one
    assert error_of(orgs.enable_all_features) == (
        "HandshakeConstraintViolationException",
        "ORGANIZATION_ALREADY_HAS_ALL_FEATURES",
    )
    invite(orgs, third.account_id)  # invitations resume
