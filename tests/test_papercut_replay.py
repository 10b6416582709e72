"""PaperCut's LDAP conversation, replayed through Java's own LDAP client (JNDI).

For each PaperCut server type, tests/java/PaperCutReplay.java binds as the
service account, lists 5,000 users paged and unpaged, lists 250 groups and
reads their members, looks a user up by a differently-cased name, logs a user
in and finds their groups, with the searches and fields docs/papercut.md tells
the admin to use.  Every value it saw is checked against the generated export.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from ldapbridge.ldap.dn import escape_value
from tests import generated
from tests.support import (
    BASE_DN,
    GROUPS_DN,
    PEOPLE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    demo_config,
    running_server,
)
from tests.tcp_recorder import recording_relay

JAVA_SOURCE = Path(__file__).parent / "java" / "PaperCutReplay.java"
PAGED_RESULTS_OID = b"1.2.840.113556.1.4.319"
MANAGE_DSA_IT_OID = b"2.16.840.1.113730.3.4.2"
LOGIN = generated.member(generated.LOGIN_MEMBER)


@attrs.frozen
class ServerType:
    """PaperCut's settings for one server type, as docs/papercut.md gives them."""

    profile: str
    user_rdn: str
    user_search: str
    user_fields: str
    group_search: str
    group_name_field: str
    group_member_field: str
    posix_groups: bool
    include_cancelled: bool = False
    extra_group_searches: tuple[str, ...] = ()
    bind_names: tuple[str, ...] = ()


NOT_DISABLED = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
SERVER_TYPES = {
    "unix": ServerType(
        profile="unix",
        user_rdn="uid",
        user_search="(uid={0})",
        user_fields="uid,cn,mail,departmentNumber,physicalDeliveryOfficeName,"
        "employeeNumber,pager,pin",
        group_search="(memberUid={0})",
        group_name_field="cn",
        group_member_field="memberUid",
        posix_groups=True,
    ),
    "ad": ServerType(
        profile="ad",
        user_rdn="cn",
        user_search="(&(sAMAccountName={0})(objectCategory=person)(objectClass=user)"
        + NOT_DISABLED
        + ")",
        user_fields="sAMAccountName,displayName,mail,department,"
        "physicalDeliveryOfficeName,pager,otherPager,pin",
        group_search="(&(member={0})(objectCategory=group))",
        group_name_field="sAMAccountName",
        group_member_field="member",
        posix_groups=False,
        # Cancelled members are published as disabled accounts, which the
        # user search's bitwise filter must leave out.
        include_cancelled=True,
        extra_group_searches=(
            "(&(objectCategory=group)(member:1.2.840.113556.1.4.1941:={0}))",
        ),
        bind_names=(
            LOGIN.username,
            f"{LOGIN.username}@example.com",
            f"EXAMPLE\\{LOGIN.username}",
            f"example\\{LOGIN.username.upper()}",
        ),
    ),
    "edirectory": ServerType(
        profile="edirectory",
        user_rdn="cn",
        user_search="(&(cn={0})(objectClass=person))",
        user_fields="cn,fullName,mail,ou,l,employeeNumber,pager,pin",
        group_search="(&(member={0})(objectClass=groupOfNames))",
        group_name_field="cn",
        group_member_field="member",
        posix_groups=False,
    ),
}


@attrs.frozen
class Replay:
    """What the Java client saw, with what the server type should have shown."""

    server_type: ServerType
    lines: list[list[str]]
    client_bytes: bytes

    def records(self, kind: str) -> list[list[str]]:
        return [line[1:] for line in self.lines if line[0] == kind]

    def users(self, label: str) -> list[list[str]]:
        return [r[1:] for r in self.records("user") if r[0] == label]

    def user_dn(self, username: str) -> str:
        return f"{self.server_type.user_rdn}={escape_value(username)},{PEOPLE_DN}"

    def expected_row(self, m: generated.Generated) -> list[str]:
        return [
            self.user_dn(m.username),
            m.username,
            m.full_name,
            m.email,
            m.team,
            m.location,
            m.card,
            m.second_card,
            m.published_pin,
        ]

    def published_members(self) -> list[generated.Generated]:
        members = generated.all_members()
        if self.server_type.include_cancelled:
            return members
        return [m for m in members if m.active]


@pytest.fixture(scope="module")
def replay_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The replay program, compiled once with javac."""
    javac = shutil.which("javac")
    if javac is None:
        pytest.fail(
            "javac not found: README's test command installs default-jdk-headless"
        )
    classes = tmp_path_factory.mktemp("java")
    subprocess.run(
        [javac, "-encoding", "UTF-8", "-d", str(classes), str(JAVA_SOURCE)],
        check=True,
        timeout=120,
    )
    return classes


@pytest.fixture(scope="module")
def members_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated export: 5,000 active and 20 cancelled members."""
    path = tmp_path_factory.mktemp("generated") / "members.csv"
    generated.write_csv(path)
    return path


@pytest.fixture(scope="module", params=sorted(SERVER_TYPES))
def replay(
    request: pytest.FixtureRequest,
    replay_class: Path,
    members_csv: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Replay]:
    """Serve the export in one profile and replay PaperCut against it."""
    server_type = SERVER_TYPES[request.param]
    workdir = tmp_path_factory.mktemp(f"replay-{server_type.profile}")
    config = demo_config(
        members_csv,
        directory={
            "profile": server_type.profile,
            "include_cancelled": str(server_type.include_cancelled).lower(),
        },
    )
    with (
        running_server(config, workdir / "server") as server,
        recording_relay(server.host, server.port) as relay,
    ):
        settings = _settings(server_type, f"ldap://127.0.0.1:{relay.port}")
        lines = _run_java(replay_class, settings, workdir)
        yield Replay(server_type, lines, relay.client_bytes())


def _settings(t: ServerType, url: str) -> dict[str, str]:
    member_values = [LOGIN.username]
    if not t.posix_groups:
        member_values.insert(
            0, f"{t.user_rdn}={escape_value(LOGIN.username)},{PEOPLE_DN}"
        )
    settings = {
        "url": url,
        "base": BASE_DN,
        "service.dn": SERVICE_DN,
        "service.password": SERVICE_PASSWORD,
        "page.size": "1000",
        "user.search": t.user_search,
        "user.fields": t.user_fields,
        "group.search": t.group_search,
        "group.name.field": t.group_name_field,
        "group.member.field": t.group_member_field,
        "lookup.name": LOGIN.username.upper(),
        "login.name": LOGIN.username,
        "login.password": LOGIN.password,
    }
    for prefix, values in (
        ("member.value", member_values),
        ("group.search.extra", t.extra_group_searches),
        ("bind.name", t.bind_names),
    ):
        settings.update({f"{prefix}.{i}": v for i, v in enumerate(values, 1)})
    return settings


def _run_java(
    classes: Path, settings: dict[str, str], workdir: Path
) -> list[list[str]]:
    properties = workdir / "replay.properties"
    output = workdir / "replay.tsv"
    properties.write_text(
        "".join(f"{key}={_property_value(value)}\n" for key, value in settings.items()),
        encoding="utf-8",
    )
    subprocess.run(
        ["java", "-cp", str(classes), "PaperCutReplay", str(properties), str(output)],
        check=True,
        timeout=120,
    )
    text = output.read_text(encoding="utf-8")
    return [[_unescape(f) for f in line.split("\t")] for line in text.splitlines()]


def _property_value(value: str) -> str:
    """A value for java.util.Properties.load, which reads backslash escapes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(field: str) -> str:
    escapes = {"\\\\": "\\", "\\t": "\t", "\\n": "\n"}
    return re.sub(r"\\[\\tn]", lambda m: escapes[m.group(0)], field)


class TestUserSync:
    def test_paged_listing_returns_every_user_once_in_five_pages(
        self, replay: Replay
    ) -> None:
        """The user search with * in 1000-entry pages gives 5,000 users in 5 pages."""
        usernames = [row[1] for row in replay.users("paged")]

        assert replay.records("pages")[0] == ["paged", "5"]
        assert len(usernames) == 5000
        assert Counter(usernames).most_common(1)[0][1] == 1
        assert set(usernames) == {
            m.username for m in generated.all_members() if m.active
        }

    def test_paged_listing_carries_exact_values(self, replay: Replay) -> None:
        """Names, cards (leading zeros, letter case), labels and PINs are exact."""
        expected = sorted(
            replay.expected_row(m) for m in generated.all_members() if m.active
        )

        assert sorted(replay.users("paged")) == expected

    def test_unpaged_listing_returns_the_same_users(self, replay: Replay) -> None:
        """Without the paged control the service account still gets all 5,000."""
        assert replay.records("pages")[1] == ["unpaged", "1"]
        assert sorted(replay.users("unpaged")) == sorted(replay.users("paged"))

    def test_non_ascii_names_and_escaped_dns_survive(self, replay: Replay) -> None:
        """UTF-8 names and a DN with an escaped plus sign reach Java intact."""
        rows = {row[1]: row for row in replay.users("paged")}

        assert rows["zoë.ångström@example.com"][2] == "José Martínez 7"
        assert rows["member0014@example.com"][2] == "山田 太郎 14"
        assert rows["tomas+print@example.org"][0] == (
            f"{replay.server_type.user_rdn}=tomas\\+print@example.org,{PEOPLE_DN}"
        )

    def test_java_client_sent_paged_results_and_manage_dsa_it(
        self, replay: Replay
    ) -> None:
        """JNDI's non-critical ManageDsaIT control rode along and was accepted."""
        assert PAGED_RESULTS_OID in replay.client_bytes
        assert MANAGE_DSA_IT_OID in replay.client_bytes


class TestGroupSync:
    def test_group_search_lists_all_250_groups(self, replay: Replay) -> None:
        """The group search with * returns every group once, under unique names."""
        names = [record[1] for record in replay.records("group")]
        expected = generated.group_members(replay.published_members())

        assert len(names) == 250
        assert sorted(names) == sorted(expected)

    def test_each_group_lists_exactly_its_members(self, replay: Replay) -> None:
        """Reading a group's member field gives its members, by name or DN."""
        found: dict[str, list[str]] = defaultdict(list)
        for group, value in replay.records("member"):
            found[group].append(value)
        expected = generated.group_members(replay.published_members())

        if replay.server_type.posix_groups:
            assert {g: sorted(v) for g, v in found.items()} == {
                g: sorted(v) for g, v in expected.items()
            }
        else:
            assert {g: sorted(v) for g, v in found.items()} == {
                g: sorted(replay.user_dn(u) for u in v) for g, v in expected.items()
            }
        counts = {record[1]: int(record[2]) for record in replay.records("group")}
        assert counts["all-members"] == len(replay.published_members())

    def test_group_dns_are_under_the_groups_branch(self, replay: Replay) -> None:
        """Every group entry sits at cn=<name>,ou=groups."""
        for dn, name, _ in replay.records("group"):
            assert dn == f"cn={escape_value(name)},{GROUPS_DN}"

    def test_groups_of_one_user_by_name_or_dn(self, replay: Replay) -> None:
        """The group search filled with the user's name or DN finds their 4 groups."""
        found: dict[tuple[str, str], set[str]] = defaultdict(set)
        for search, value, group in replay.records("groupsof"):
            found[search, value].add(group)

        searches = (
            replay.server_type.group_search,
            *replay.server_type.extra_group_searches,
        )
        assert len(found) == len(searches) * (
            1 if replay.server_type.posix_groups else 2
        )
        assert all(groups == set(LOGIN.groups()) for groups in found.values())


class TestLookupAndLogin:
    def test_lookup_by_differently_cased_username_finds_one_user(
        self, replay: Replay
    ) -> None:
        """The user search with ZOË.ÅNGSTRÖM@EXAMPLE.COM finds the one member."""
        assert replay.records("lookup") == [
            [LOGIN.username.upper(), *replay.expected_row(LOGIN)]
        ]

    def test_login_accepts_only_the_right_password(self, replay: Replay) -> None:
        """Right password binds; wrong gets 49; empty is refused (53), never OK."""
        outcomes = dict(replay.records("login"))

        assert outcomes["found"] == "1"
        assert outcomes["right"] == "ok"
        assert outcomes["wrong"] == "error 49"
        assert outcomes["empty"] == "error 53 OperationNotSupportedException"

    def test_login_by_every_name_the_profile_accepts(self, replay: Replay) -> None:
        """AD also logs in by UPN, user@domain and DOMAIN\\user, any case."""
        outcomes = dict(replay.records("login"))

        assert {n: outcomes[n] for n in replay.server_type.bind_names} == {
            n: "ok" for n in replay.server_type.bind_names
        }
