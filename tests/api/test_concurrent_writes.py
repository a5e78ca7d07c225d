"""Writes racing each other on two nodes that share one store (a SQLite file, or PostgreSQL) and on
one node: quotas hold, a name is taken once, a delete and a create never both succeed, and whoever
loses a race gets an AWS-shaped 4xx, never a 500 (issue 15, finding 2)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from races import race
from support import FakeClock, LiveServer

POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def nodes(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[list[LiveServer]]:
    """Two nodes on one store and one key ring (two processes of `serve --workers 2` on SQLite, or
    two hosts on PostgreSQL)."""
    servers = [LiveServer(tmp_path / "keys", clock, database_url=database_url) for _ in range(2)]
    yield servers
    for s in servers:
        s.stop()


def iam_clients(servers: Sequence[LiveServer], count: int) -> list[Any]:
    """`count` clients, spread over the nodes (made here: boto3's default session is not thread-safe)."""
    return [servers[i % len(servers)].client("iam") for i in range(count)]


def test_the_access_key_quota_holds_against_concurrent_creates(nodes: list[LiveServer]) -> None:
    clients = iam_clients(nodes, 50)
    for round_ in range(4):
        user = f"keys{round_}"
        clients[0].create_user(UserName=user)
        outcomes = race([partial(c.create_access_key, UserName=user) for c in clients])
        assert Counter(outcomes) == {"ok": 2, "LimitExceeded": 48}
        assert len(clients[1].list_access_keys(UserName=user)["AccessKeyMetadata"]) == 2


def test_policy_versions_keep_their_limit_and_distinct_ids_under_concurrent_creates(
    nodes: list[LiveServer],
) -> None:
    clients = iam_clients(nodes, 20)
    for round_ in range(3):
        arn = clients[0].create_policy(PolicyName=f"p{round_}", PolicyDocument=POLICY)["Policy"]["Arn"]
        outcomes = race(
            [partial(c.create_policy_version, PolicyArn=arn, PolicyDocument=POLICY) for c in clients]
        )
        assert Counter(outcomes) == {"ok": 4, "LimitExceeded": 16}
        versions = clients[1].list_policy_versions(PolicyArn=arn)["Versions"]
        assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]


def test_a_policy_deleted_while_versions_are_created_leaves_no_version_behind(
    nodes: list[LiveServer],
) -> None:
    deleter, *writers = iam_clients(nodes, 3)
    for round_ in range(12):
        arn = deleter.create_policy(PolicyName=f"brief{round_}", PolicyDocument=POLICY)["Policy"]["Arn"]
        outcomes = race(
            [partial(deleter.delete_policy, PolicyArn=arn)]
            + [partial(c.create_policy_version, PolicyArn=arn, PolicyDocument=POLICY) for c in writers]
        )
        deleted, created = outcomes[0], outcomes[1:]
        if deleted == "ok":
            assert set(created) == {"NoSuchEntity"}, outcomes
        else:
            assert deleted == "DeleteConflict", outcomes
            versions = deleter.list_policy_versions(PolicyArn=arn)["Versions"]
            assert len(versions) == 1 + created.count("ok") == 3, outcomes


def test_a_version_deleted_while_it_becomes_the_default_leaves_a_default_that_exists(
    nodes: list[LiveServer],
) -> None:
    a, b = iam_clients(nodes, 2)
    for round_ in range(12):
        arn = a.create_policy(PolicyName=f"flip{round_}", PolicyDocument=POLICY)["Policy"]["Arn"]
        a.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY)
        outcomes = race(
            [
                partial(a.delete_policy_version, PolicyArn=arn, VersionId="v2"),
                partial(b.set_default_policy_version, PolicyArn=arn, VersionId="v2"),
            ]
        )
        assert outcomes in (["ok", "NoSuchEntity"], ["DeleteConflict", "ok"]), outcomes
        default = a.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        a.get_policy_version(PolicyArn=arn, VersionId=default)  # NoSuchEntity would fail the test


def test_a_user_deleted_while_keys_are_created_ends_with_no_orphaned_key(nodes: list[LiveServer]) -> None:
    deleter, *creators = iam_clients(nodes, 4)
    for round_ in range(12):
        user = f"doomed{round_}"
        deleter.create_user(UserName=user)
        outcomes = race(
            [partial(deleter.delete_user, UserName=user)]
            + [partial(c.create_access_key, UserName=user) for c in creators]
        )
        deleted, created = outcomes[0], outcomes[1:]
        if deleted == "ok":  # every key either came first (and stopped the delete) or found no user
            assert set(created) == {"NoSuchEntity"}, outcomes
        else:
            assert deleted == "DeleteConflict", outcomes
            keys = deleter.list_access_keys(UserName=user)["AccessKeyMetadata"]
            assert len(keys) == created.count("ok") == 2, outcomes


def test_group_membership_holds_its_quota_and_survives_duplicates(nodes: list[LiveServer]) -> None:
    clients = iam_clients(nodes, 30)
    clients[0].create_user(UserName="joiner")
    for i in range(15):
        clients[0].create_group(GroupName=f"g{i}")
    # every group twice: adding a member again is no error, and the quota of 10 counts groups
    outcomes = race(
        [
            partial(c.add_user_to_group, GroupName=f"g{i % 15}", UserName="joiner")
            for i, c in enumerate(clients)
        ]
    )
    assert set(outcomes) <= {"ok", "LimitExceeded"}
    groups = clients[1].list_groups_for_user(UserName="joiner")["Groups"]
    assert len(groups) == 10
    joined = {g["GroupName"] for g in groups}
    assert all((o == "ok") == (f"g{i % 15}" in joined) for i, o in enumerate(outcomes)), outcomes


def test_a_group_deleted_while_users_join_it_ends_with_no_lost_membership(nodes: list[LiveServer]) -> None:
    deleter, *joiners = iam_clients(nodes, 4)
    for i in range(3):
        deleter.create_user(UserName=f"member{i}")
    for round_ in range(12):
        group = f"short-lived{round_}"
        deleter.create_group(GroupName=group)
        outcomes = race(
            [partial(deleter.delete_group, GroupName=group)]
            + [
                partial(c.add_user_to_group, GroupName=group, UserName=f"member{i}")
                for i, c in enumerate(joiners)
            ]
        )
        deleted, joined = outcomes[0], outcomes[1:]
        if deleted == "ok":
            assert set(joined) == {"NoSuchEntity"}, outcomes
        else:
            assert deleted == "DeleteConflict", outcomes
            members = deleter.get_group(GroupName=group)["Users"]
            assert len(members) == joined.count("ok") > 0, outcomes
            for i, outcome in enumerate(joined):  # members may join only so many groups
                if outcome == "ok":
                    deleter.remove_user_from_group(GroupName=group, UserName=f"member{i}")


def one_name_one_user(clients: Sequence[Any]) -> None:
    # IAM names ignore case: "Same" and "SAME" are one name
    names = ["Same", "SAME"]
    outcomes = race([partial(c.create_user, UserName=names[i % 2]) for i, c in enumerate(clients)])
    assert Counter(outcomes) == {"ok": 1, "EntityAlreadyExists": len(clients) - 1}
    winner = names[outcomes.index("ok") % 2]
    assert [u["UserName"] for u in clients[-1].list_users()["Users"]] == [winner]


def test_one_name_makes_one_user_across_nodes(nodes: list[LiveServer]) -> None:
    one_name_one_user(iam_clients(nodes, 50))


def test_one_name_makes_one_user_on_one_node(database_url: str, tmp_path: Path, clock: FakeClock) -> None:
    server = LiveServer(tmp_path / "keys", clock, database_url=database_url)
    try:
        one_name_one_user(iam_clients([server], 50))
    finally:
        server.stop()


def test_the_attached_policies_quota_holds_against_concurrent_attaches(nodes: list[LiveServer]) -> None:
    """At most 10 managed policies per identity (PoliciesPerUser), however many attach at once."""
    clients = iam_clients(nodes, 16)
    arns = [
        clients[0].create_policy(PolicyName=f"q{i}", PolicyDocument=POLICY)["Policy"]["Arn"]
        for i in range(16)
    ]
    clients[0].create_user(UserName="holder")
    outcomes = race(
        [
            partial(c.attach_user_policy, UserName="holder", PolicyArn=arn)
            for c, arn in zip(clients, arns, strict=True)
        ]
    )
    assert Counter(outcomes) == {"ok": 10, "LimitExceeded": 6}
    assert len(clients[1].list_attached_user_policies(UserName="holder")["AttachedPolicies"]) == 10


def test_the_tag_quota_holds_against_concurrent_tagging(nodes: list[LiveServer]) -> None:
    """At most 50 tags per user, however many TagUser calls land at once."""
    clients = iam_clients(nodes, 12)
    clients[0].create_user(UserName="tagged", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(40)])
    outcomes = race(
        [
            partial(c.tag_user, UserName="tagged", Tags=[{"Key": f"new{i}", "Value": "v"}])
            for i, c in enumerate(clients)
        ]
    )
    assert Counter(outcomes) == {"ok": 10, "LimitExceeded": 2}
    assert len(clients[1].list_user_tags(UserName="tagged")["Tags"]) == 50
