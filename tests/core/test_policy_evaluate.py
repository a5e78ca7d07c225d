"""AWS's evaluation logic, rule by rule (IAM User Guide: "Policy evaluation logic", "Policy
evaluation for requests within a single account", "Cross-account policy evaluation logic",
"Permissions boundaries for IAM entities", "Session policies"; STS and KMS guides)."""

from __future__ import annotations

from typing import Any

import pytest

from rolehop.core.policy import Decision, Policy, PolicySet, Request, evaluate, parse_policy

A, B = "111111111111", "222222222222"
USER = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/app"
SESSION = f"arn:aws:sts::{A}:assumed-role/app/run-1"
OBJECT = "arn:aws:s3:::bucket/key"


def pol(*statements: dict[str, Any], name: str = "") -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def allow(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal: Any, effect: str = "Allow", action: str = "s3:GetObject") -> Policy:
    return pol({"Effect": effect, "Principal": principal, "Action": action, "Resource": "*"}, name="resource")


def decide(
    principal: str = USER,
    *,
    account: str = A,
    action: str = "s3:GetObject",
    target: str = OBJECT,
    context: dict[str, Any] | None = None,
    **sets: Any,
) -> Decision:
    """`target` is the request's resource; `resource=` is the resource-based policy."""
    return evaluate(Request(principal, action, target, account, context or {}), PolicySet(**sets))


def outcome(principal: str = USER, **kwargs: Any) -> str:
    return decide(principal, **kwargs).decision


class TestBasics:
    def test_default_is_implicit_deny(self) -> None:
        d = decide()
        assert d.decision == "ImplicitlyDenied"
        assert d.missing == ("identity",)

    def test_identity_allow(self) -> None:
        d = decide(identity=(pol(allow(), name="read"),))
        assert d.decision == "Allowed"
        assert [(m.policy, m.statement, m.effect) for m in d.matched] == [("read", 0, "Allow")]

    def test_explicit_deny_wins_and_is_reported(self) -> None:
        d = decide(identity=(pol(allow("s3:*"), deny(Sid="NoGet"), name="p"),))
        assert d.decision == "ExplicitlyDenied"
        assert [(m.sid, m.effect) for m in d.matched] == [("NoGet", "Deny")]

    def test_actions_are_case_insensitive(self) -> None:
        assert outcome(action="S3:getobject", identity=(pol(allow("s3:GetObject")),)) == "Allowed"

    def test_not_action_and_not_resource(self) -> None:
        assert (
            outcome(identity=(pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),)) == "Allowed"
        )
        assert (
            outcome(identity=(pol({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),)) != "Allowed"
        )
        assert (
            outcome(
                identity=(pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::other/*"}),)
            )
            == "Allowed"
        )
        assert (
            outcome(
                identity=(pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::bucket/*"}),)
            )
            != "Allowed"
        )

    def test_unresolvable_variable_in_not_resource_grants_nothing(self) -> None:
        p = pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::${aws:username}/*"})
        assert outcome(identity=(p,)) == "ImplicitlyDenied"
        assert outcome(identity=(p,), context={"aws:username": "other"}) == "Allowed"

    def test_identity_allow_with_principal_or_without_resource_grants_nothing(self) -> None:
        with_principal = pol({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
        without_resource = pol({"Effect": "Allow", "Action": "s3:*"})
        assert outcome(identity=(with_principal,)) == "ImplicitlyDenied"
        assert outcome(identity=(without_resource,)) == "ImplicitlyDenied"
        # ...but a Deny shaped like that still denies (fail closed)
        odd_deny = pol({"Effect": "Deny", "Principal": "*", "Action": "s3:*"})
        assert outcome(identity=(pol(allow()), odd_deny)) == "ExplicitlyDenied"

    def test_get_caller_identity_needs_no_permission_and_ignores_denies(self) -> None:
        assert outcome(action="sts:GetCallerIdentity", target="*") == "Allowed"
        assert outcome(action="sts:GetCallerIdentity", target="*", identity=(pol(deny("*")),)) == "Allowed"


class TestOrganizationPolicies:
    FULL = pol(allow("*"))

    def test_every_scp_level_must_allow(self) -> None:
        ident = (pol(allow()),)
        assert outcome(identity=ident, scps=((self.FULL,), (self.FULL,))) == "Allowed"
        d = decide(identity=ident, scps=((self.FULL,), (pol(allow("ec2:*")),)))
        assert (d.decision, d.missing) == ("ImplicitlyDenied", ("scp",))
        assert outcome(identity=ident, scps=((),)) == "ImplicitlyDenied"  # a level without policies
        assert outcome(identity=ident, scps=((self.FULL,), (self.FULL, pol(deny())))) == "ExplicitlyDenied"

    def test_scps_do_not_grant(self) -> None:
        assert outcome(scps=((self.FULL,),)) == "ImplicitlyDenied"

    def test_scps_skip_anonymous_service_and_service_linked_callers(self) -> None:
        public = grant("*")
        assert outcome("anonymous", resource=public, scps=((pol(deny()),),)) == "Allowed"
        slr = f"arn:aws:iam::{A}:role/aws-service-role/s3.amazonaws.com/AWSServiceRole"
        assert outcome(slr, identity=(pol(allow()),), scps=((pol(deny()),),)) == "Allowed"

    def test_rcps_every_level_must_allow_and_apply_to_everyone(self) -> None:
        ident = (pol(allow()),)
        rcp_allow = pol({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
        rcp_deny = pol({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})
        assert outcome(identity=ident, rcps=((rcp_allow,),)) == "Allowed"
        assert outcome(identity=ident, rcps=((rcp_allow,), ())) == "ImplicitlyDenied"
        assert outcome(identity=ident, rcps=((rcp_allow, rcp_deny),)) == "ExplicitlyDenied"
        assert outcome("anonymous", resource=grant("*"), rcps=((rcp_allow, rcp_deny),)) == "ExplicitlyDenied"


class TestSameAccountResourcePolicies:
    def test_resource_policy_naming_the_user_suffices(self) -> None:
        assert outcome(resource=grant({"AWS": USER})) == "Allowed"
        # even under a boundary that does not allow the action (the user ARN is named directly)
        assert outcome(resource=grant({"AWS": USER}), boundaries=(pol(allow("ec2:*")),)) == "Allowed"

    def test_resource_policy_naming_the_account_delegates_to_identity(self) -> None:
        for principal in ({"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}):
            assert outcome(resource=grant(principal)) == "ImplicitlyDenied"
            assert outcome(resource=grant(principal), identity=(pol(allow()),)) == "Allowed"

    def test_another_principal_named_gives_nothing(self) -> None:
        assert outcome(resource=grant({"AWS": f"arn:aws:iam::{A}:user/bob"})) == "ImplicitlyDenied"

    def test_role_arn_covers_its_sessions_but_not_past_boundary_or_session_policy(self) -> None:
        by_role = grant({"AWS": f"arn:aws:iam::{A}:role/teams/app"})  # a role ARN with a path
        assert outcome(SESSION, resource=by_role) == "Allowed"
        assert outcome(SESSION, resource=by_role, boundaries=(pol(allow("ec2:*")),)) == "ImplicitlyDenied"
        d = decide(SESSION, resource=by_role, session=(pol(allow("ec2:*")),))
        assert (d.decision, d.missing) == ("ImplicitlyDenied", ("session",))

    def test_session_arn_is_named_directly(self) -> None:
        by_session = grant({"AWS": SESSION})
        assert outcome(SESSION, resource=by_session, boundaries=(pol(allow("ec2:*")),)) == "Allowed"
        assert outcome(SESSION, resource=by_session, session=(pol(allow("ec2:*")),)) == "Allowed"
        other = f"arn:aws:sts::{A}:assumed-role/app/run-2"
        assert outcome(other, resource=by_session) == "ImplicitlyDenied"

    def test_explicit_deny_anywhere(self) -> None:
        assert outcome(resource=grant({"AWS": USER}), identity=(pol(deny()),)) == "ExplicitlyDenied"
        assert (
            outcome(resource=grant({"AWS": USER}, effect="Deny"), identity=(pol(allow()),))
            == "ExplicitlyDenied"
        )
        assert outcome(resource=grant({"AWS": USER}), boundaries=(pol(deny("*")),)) == "ExplicitlyDenied"

    def test_statement_without_principal_applies_to_no_one(self) -> None:
        assert outcome(resource=pol(allow())) == "ImplicitlyDenied"
        assert outcome(resource=pol(deny()), identity=(pol(allow()),)) == "Allowed"

    def test_not_principal(self) -> None:
        allow_others = pol(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{A}:user/bob"},
                "Action": "s3:GetObject",
                "Resource": "*",
            }
        )
        assert outcome(resource=allow_others) == "Allowed"
        deny_others = pol(
            {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}
        )
        assert outcome(identity=(pol(allow()),), resource=deny_others) == "Allowed"
        assert (
            outcome(f"arn:aws:iam::{A}:user/bob", identity=(pol(allow()),), resource=deny_others)
            == "ExplicitlyDenied"
        )

    def test_not_principal_deny_always_applies_under_a_boundary(self) -> None:
        deny_others = pol(
            {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}
        )
        assert (
            outcome(identity=(pol(allow()),), boundaries=(pol(allow("*")),), resource=deny_others)
            == "ExplicitlyDenied"
        )


class TestBoundariesAndSessionPolicies:
    def test_boundary_intersects_identity(self) -> None:
        ident = (pol(allow("s3:*")),)
        assert outcome(identity=ident, boundaries=(pol(allow("s3:Get*")),)) == "Allowed"
        d = decide(identity=ident, boundaries=(pol(allow("ec2:*")),))
        assert (d.decision, d.missing) == ("ImplicitlyDenied", ("boundary",))
        assert outcome(boundaries=(pol(allow("*")),)) == "ImplicitlyDenied"  # a boundary grants nothing

    def test_session_policy_intersects_identity(self) -> None:
        ident = (pol(allow("s3:*")),)
        assert outcome(SESSION, identity=ident, session=(pol(allow("*")),)) == "Allowed"
        assert outcome(SESSION, identity=ident, session=(pol(allow("ec2:*")),)) == "ImplicitlyDenied"
        assert outcome(SESSION, session=(pol(allow("*")),)) == "ImplicitlyDenied"
        assert outcome(SESSION, identity=ident, session=(pol(deny()),)) == "ExplicitlyDenied"


class TestCrossAccount:
    def test_both_sides_must_allow(self) -> None:
        ident = (pol(allow()),)
        assert outcome(account=B, identity=ident) == "ImplicitlyDenied"
        assert outcome(account=B, resource=grant({"AWS": USER})) == "ImplicitlyDenied"
        for principal in ({"AWS": A}, {"AWS": f"arn:aws:iam::{A}:root"}, {"AWS": USER}, "*"):
            assert outcome(account=B, identity=ident, resource=grant(principal)) == "Allowed"

    def test_session_arn_does_not_bypass_the_boundary_across_accounts(self) -> None:
        d = decide(
            SESSION,
            account=B,
            identity=(pol(allow()),),
            boundaries=(pol(allow("ec2:*")),),
            resource=grant({"AWS": SESSION}),
        )
        assert d.decision == "ImplicitlyDenied"
        assert "boundary" in d.missing

    def test_resource_account_defaults_to_the_arn_account(self) -> None:
        req = Request(USER, "sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{B}:queue")
        assert not req.same_account
        assert evaluate(req, PolicySet(identity=(pol(allow("sqs:*")),))).decision == "ImplicitlyDenied"


class TestMandatoryResourcePolicies:
    KEY = f"arn:aws:kms:eu-west-1:{A}:key/1234"
    ROLE_ARN = f"arn:aws:iam::{A}:role/target"

    def test_kms_key_needs_its_key_policy(self) -> None:
        ident = (pol(allow("kms:Decrypt")),)
        kw: dict[str, Any] = {"action": "kms:Decrypt", "target": self.KEY}
        assert outcome(identity=ident, **kw) == "ImplicitlyDenied"
        root = grant({"AWS": f"arn:aws:iam::{A}:root"}, action="kms:*")
        assert outcome(identity=ident, resource=root, **kw) == "Allowed"
        assert outcome(resource=root, **kw) == "ImplicitlyDenied"
        assert outcome(resource=grant({"AWS": USER}, action="kms:*"), **kw) == "Allowed"
        # actions without a key resource are plain identity decisions
        assert outcome(identity=(pol(allow("kms:ListKeys")),), action="kms:ListKeys", target="*") == "Allowed"

    def test_assume_role_needs_the_trust_policy(self) -> None:
        ident = (pol(allow("sts:AssumeRole")),)
        kw: dict[str, Any] = {"action": "sts:AssumeRole", "target": self.ROLE_ARN}
        assert outcome(identity=ident, **kw) == "ImplicitlyDenied"
        trust_account = grant({"AWS": A}, action="sts:AssumeRole")
        assert outcome(resource=trust_account, **kw) == "ImplicitlyDenied"
        assert outcome(identity=ident, resource=trust_account, **kw) == "Allowed"
        assert outcome(resource=grant({"AWS": USER}, action="sts:AssumeRole"), **kw) == "Allowed"

    def test_trust_policy_for_a_service(self) -> None:
        trust = pol(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        )
        kw: dict[str, Any] = {"action": "sts:AssumeRole", "target": self.ROLE_ARN}
        assert outcome("lambda.amazonaws.com", resource=trust, **kw) == "Allowed"
        assert outcome("ec2.amazonaws.com", resource=trust, **kw) == "ImplicitlyDenied"
        d = decide("lambda.amazonaws.com", **kw)
        assert (d.decision, d.missing) == ("ImplicitlyDenied", ("resource",))


class TestAnonymousAndRoot:
    def test_anonymous_needs_a_public_grant(self) -> None:
        assert outcome("anonymous", resource=grant("*")) == "Allowed"
        assert outcome("anonymous", resource=grant({"AWS": "*"})) == "Allowed"
        assert outcome("anonymous", resource=grant({"AWS": A})) == "ImplicitlyDenied"
        assert outcome("anonymous", identity=(pol(allow()),)) == "ImplicitlyDenied"

    def test_root_is_allowed_in_its_account_but_not_past_explicit_denies(self) -> None:
        root = f"arn:aws:iam::{A}:root"
        assert outcome(root) == "Allowed"
        assert outcome(root, scps=((pol(allow("*")), pol(deny())),)) == "ExplicitlyDenied"
        assert outcome(root, account=B) == "ImplicitlyDenied"
        assert outcome(root, account=B, resource=grant({"AWS": A})) == "Allowed"


class TestAwsOwnedResources:
    @pytest.mark.parametrize(
        ("action", "resource", "expected"),
        [
            ("iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", "Allowed"),
            ("iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/ReadOnlyAccess", "ImplicitlyDenied"),
            ("iam:DeletePolicy", f"arn:aws:iam::{A}:policy/Mine", "Allowed"),
            (
                "iam:GetRole",
                f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_X",
                "Allowed",
            ),
            (
                "iam:PassRole",
                f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_X",
                "ImplicitlyDenied",
            ),
            ("kms:DeleteAlias", f"arn:aws:kms:eu-west-1:{A}:alias/aws/s3", "ImplicitlyDenied"),
            ("kms:DeleteAlias", f"arn:aws:kms:eu-west-1:{A}:alias/mine", "Allowed"),
        ],
    )
    def test_aws_owned_resources_cannot_be_changed(self, action: str, resource: str, expected: str) -> None:
        d = decide(action=action, target=resource, identity=(pol(allow("*")),))
        assert d.decision == expected
        if expected != "Allowed":
            assert d.missing == ("aws-managed",)


class TestPatternRequests:
    def test_allow_needs_overlap_deny_needs_cover(self) -> None:
        def run(resource: str, *statements: dict[str, Any]) -> str:
            req = Request(USER, "s3:GetObject", resource, A, resource_is_pattern=True)
            return evaluate(req, PolicySet(identity=(pol(*statements),))).decision

        assert run("arn:aws:s3:::bucket/*", allow(resource="arn:aws:s3:::bucket/public/*")) == "Allowed"
        assert (
            run("arn:aws:s3:::bucket/private/*", allow(resource="arn:aws:s3:::bucket/public/*"))
            == "ImplicitlyDenied"
        )
        partial_deny = deny(resource="arn:aws:s3:::bucket/private/*")
        assert (
            run("arn:aws:s3:::bucket/*", allow(resource="arn:aws:s3:::bucket/*"), partial_deny) == "Allowed"
        )
        assert run("arn:aws:s3:::bucket/private/x*", allow(resource="*"), partial_deny) == "ExplicitlyDenied"

    def test_literal_star_request_matches_only_star_policies(self) -> None:
        assert (
            outcome(target="*", identity=(pol(allow(resource="arn:aws:s3:::bucket/*")),))
            == "ImplicitlyDenied"
        )
        assert outcome(target="*", identity=(pol(allow(resource="*")),)) == "Allowed"


def test_plans_are_cached_per_action() -> None:
    sets = PolicySet(identity=(pol(allow("s3:Get*"), allow("ec2:*")),))
    assert sets.plan("s3:getobject") is sets.plan("s3:getobject")
    assert len(sets.plan("s3:getobject").identity) == 1
