"""The pieces under the commands: editing AWS config files in place, the profile naming rule, the
private cache, and the rule that the command line for people is a pure client."""

from __future__ import annotations

import ast
import configparser
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rolehop.cli.user.cache import CredentialCache, TempCredentials
from rolehop.cli.user.inifile import IniDocument
from rolehop.cli.user.profiles import profile_names, short_role_name
from rolehop.cli.user.state import RoleInfo

USER_CLI = Path(__file__).resolve().parents[2] / "src" / "rolehop" / "cli" / "user"


def role(account: str, role_name: str, account_id: str = "111111111111") -> RoleInfo:
    return RoleInfo(
        account_id, account, account, None, role_name, f"arn:aws:iam::{account_id}:role/{role_name}", 3600
    )


def test_update_touches_only_the_keys_it_is_given() -> None:
    text = (
        "; top comment\n[default]\nregion=eu-west-1\n\n"
        "[profile a]\n# about a\nrole_arn = old\ns3 =\n  addressing_style = path\nregion = x\n\n"
        "[profile b]\nregion = y"
    )
    doc = IniDocument(text)
    doc.update("profile a", {"role_arn": "new", "endpoint_url": "http://e"}, remove=("s3",))
    doc.update("profile b", {"region": "z"})
    doc.update("profile c", {"role_arn": "arn"})
    assert doc.text() == (
        "; top comment\n[default]\nregion=eu-west-1\n\n"
        "[profile a]\n# about a\nrole_arn = new\nregion = x\nendpoint_url = http://e\n\n"
        "[profile b]\nregion = z\n\n[profile c]\nrole_arn = arn\n"
    )
    assert doc.remove("profile b") and not doc.remove("profile b")
    parser = configparser.RawConfigParser()
    parser.read_string(doc.text())
    assert parser.sections() == ["default", "profile a", "profile c"]
    with pytest.raises(ValueError):
        doc.update("profile a", {"role_arn": "two\nlines"})


def test_an_empty_file_gets_sections_without_a_leading_blank_line() -> None:
    doc = IniDocument("")
    doc.update("profile x", {"region": "us-east-1"})
    doc.update("profile y", {"region": "us-east-1"})
    assert doc.text() == "[profile x]\nregion = us-east-1\n\n[profile y]\nregion = us-east-1\n"


def test_naming_rule() -> None:
    assert short_role_name("ak-main-account-admin") == "admin"
    assert short_role_name("OrganizationAccountAccessRole") == "organizationaccountaccessrole"
    roles = [
        role("production", "ak-main-account-admin"),
        role("production", "ak-developer-readonly"),
        role("Sand Box", "ak-main-account-admin", "222222222222"),
    ]
    assert set(profile_names(roles, "rolehop")) == {
        "production-admin",
        "production-readonly",
        "sand-box-admin",
    }
    # two roles of one account ending in the same word: both take their whole name
    clash = [role("dev", "team-a-admin"), role("dev", "team-b-admin"), role("dev", "reader")]
    assert set(profile_names(clash, "rolehop")) == {"dev-team-a-admin", "dev-team-b-admin", "dev-reader"}
    # two accounts with one name: the account ID tells them apart
    twins = [role("dev", "admin", "111111111111"), role("dev", "admin", "222222222222")]
    assert set(profile_names(twins, "rolehop")) == {"dev-111111111111-admin", "dev-222222222222-admin"}
    # never the main profile's name; --long-names always uses the whole role name
    assert set(profile_names([role("ak", "x-admin")], "ak-admin")) == {"ak-x-admin"}
    assert set(profile_names(roles[:1], "rolehop", long_names=True)) == {"production-ak-main-account-admin"}


def test_cache_is_private(tmp_path: Path) -> None:
    cache = CredentialCache(tmp_path / "rolehop" / "cache")
    (tmp_path / "rolehop").mkdir(mode=0o755)
    creds = TempCredentials(
        "ASIAEXAMPLE", "secret", "token", datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    )
    cache.put("role", "k", creds, Profile="p")
    assert stat.S_IMODE((tmp_path / "rolehop").stat().st_mode) == 0o700  # mended
    assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700
    path = cache.directory / "role-k.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    got = cache.get("role", "k")
    assert got is not None and got[0] == creds and got[1]["Profile"] == "p"
    assert "secret" not in repr(creds) and "token" not in repr(creds)
    path.write_text("{not json")
    assert cache.get("role", "k") is None  # a broken entry is a miss, not a crash


def test_the_user_cli_is_a_pure_client() -> None:
    """It talks HTTP to an endpoint: no store, services, wire or core of the server."""
    allowed_rolehop = "rolehop.cli.user"
    third_party = {"click", "rich", "botocore"}
    for path in sorted(USER_CLI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                ok = (
                    name.startswith(allowed_rolehop)
                    or top in third_party
                    or top in sys.stdlib_module_names
                    or top == "__future__"
                )
                assert ok, f"{path.name} imports {name}"
