"""Search scopes, bases, attribute selection and entry contents, end to end.

Expected entries come from demo/members.csv (tests/demo.py); the server is
the shared demo server, driven with ldapsearch and ldap3.
"""

from __future__ import annotations

import ldap3

from tests import demo
from tests.clients import connection, ldapsearch, search_entries
from tests.support import BASE_DN, GROUPS_DN, PEOPLE_DN, SERVICE_DN

SERVICES_DN = f"ou=services,{BASE_DN}"
CONTAINERS = [PEOPLE_DN, GROUPS_DN, SERVICES_DN]
MEMBER_ATTRIBUTES = [
    "objectClass",
    "uid",
    "cn",
    "sn",
    "givenName",
    "displayName",
    "mail",
    "departmentNumber",
    "physicalDeliveryOfficeName",
    "l",
    "employeeType",
    "uidNumber",
    "gidNumber",
    "homeDirectory",
    "loginShell",
    "employeeNumber",
    "pin",
]
TOMAS_DN = f"uid=tomas\\+print@example.org,{PEOPLE_DN}"


def dns(server, *args: str) -> list[str]:
    return [e.dn for e in search_entries(server, *args, "1.1")]


def member_dns() -> set[str]:
    return {row.dn for row in demo.active()}


class TestScopes:
    def test_subtree_of_the_suffix_holds_every_entry(self, demo_server):
        """Suffix, three containers, members, groups and the service account."""
        found = dns(demo_server, "-b", BASE_DN, "-s", "sub")
        expected = 1 + len(CONTAINERS) + len(demo.active()) + len(demo.groups()) + 1
        assert len(found) == expected == 63
        assert len(set(found)) == len(found)

    def test_one_level_below_the_suffix_is_the_three_containers(self, demo_server):
        """Scope one under the suffix returns people, groups and services."""
        assert dns(demo_server, "-b", BASE_DN, "-s", "one") == CONTAINERS

    def test_base_scope_returns_the_base_alone(self, demo_server):
        """Scope base on the suffix returns the suffix entry only."""
        assert dns(demo_server, "-b", BASE_DN, "-s", "base") == [BASE_DN]

    def test_one_level_below_people_is_every_active_member(self, demo_server):
        """ou=people holds exactly the 46 active members of the export."""
        found = dns(demo_server, "-b", PEOPLE_DN, "-s", "one")
        assert len(demo.active()) == 46
        assert sorted(found) == sorted(member_dns())

    def test_subtree_of_people_adds_the_container(self, demo_server):
        """Scope sub under ou=people is the container plus its members."""
        found = dns(demo_server, "-b", PEOPLE_DN, "-s", "sub")
        assert found[0] == PEOPLE_DN
        assert sorted(found[1:]) == sorted(member_dns())

    def test_children_scope_is_the_subtree_without_its_base(self, demo_server):
        """ldapsearch -s children (OpenLDAP's subordinates) leaves the base out."""
        found = dns(demo_server, "-b", PEOPLE_DN, "-s", "children")
        assert sorted(found) == sorted(member_dns())
        assert len(dns(demo_server, "-b", BASE_DN, "-s", "children")) == 62

    def test_one_level_below_groups_is_every_group(self, demo_server):
        """ou=groups holds one entry per team, plan, location and all-members."""
        found = dns(demo_server, "-b", GROUPS_DN, "-s", "one")
        assert sorted(found) == sorted(demo.group_dn(g) for g in demo.groups())

    def test_base_scope_on_a_member(self, demo_server):
        """Scope base on a member's DN returns that member."""
        assert dns(demo_server, "-b", demo.ALEX_DN, "-s", "base") == [demo.ALEX_DN]

    def test_one_level_below_a_member_is_empty(self, demo_server):
        """A member has no children."""
        assert dns(demo_server, "-b", demo.ALEX_DN, "-s", "one") == []

    def test_services_hold_the_configured_account(self, demo_server):
        """ou=services holds cn=papercut, the configured service account."""
        assert dns(demo_server, "-b", SERVICES_DN, "-s", "one") == [SERVICE_DN]

    def test_one_level_below_the_root_is_the_naming_context(self, demo_server):
        """Scope one with the empty base returns the suffix entry."""
        assert dns(demo_server, "-b", "", "-s", "one") == [BASE_DN]

    def test_ldap3_scopes_agree_with_ldapsearch(self, service):
        """ldap3's BASE, LEVEL and SUBTREE scopes give 1, 46 and 47 entries."""
        counts = []
        for scope in (ldap3.BASE, ldap3.LEVEL, ldap3.SUBTREE):
            service.search(PEOPLE_DN, "(objectClass=*)", scope, attributes=["1.1"])
            counts.append(len(service.response))
        assert counts == [1, 46, 47]


class TestSearchBase:
    def test_base_dn_case_and_spaces_are_ignored(self, demo_server):
        """A base DN in other case, with spaces around commas, finds the entry."""
        base = "UID=Alex.Demo@EXAMPLE.com , OU=People,  DC=Example,DC=COM"
        assert dns(demo_server, "-b", base, "-s", "base") == [demo.ALEX_DN]

    def test_base_dn_with_escaped_plus_finds_the_member(self, demo_server):
        """`\\+`, `\\2b` and `\\2B` all name the member whose email has a +."""
        for value in ("tomas\\+print", "tomas\\2bprint", "tomas\\2Bprint"):
            base = f"uid={value}@example.org,{PEOPLE_DN}"
            assert dns(demo_server, "-b", base, "-s", "base") == [TOMAS_DN], value

    def test_base_dn_with_hex_escaped_letters(self, demo_server):
        """Hex escapes of ordinary characters (`ou=p\\65ople`) are unescaped."""
        base = "ou=p\\65ople,dc=ex\\61mple,dc=com"
        assert dns(demo_server, "-b", base, "-s", "base") == [PEOPLE_DN]

    def test_group_base_dn_with_escaped_ampersand(self, demo_server):
        """`cn=Petit \\26 Fils` names the group cn=Petit & Fils."""
        base = f"cn=petit \\26 fils,{GROUPS_DN}"
        assert dns(demo_server, "-b", base, "-s", "base") == [
            demo.group_dn("Petit & Fils")
        ]

    def test_hex_string_base_dn_value(self, demo_server):
        """`cn=#0C0B...` (a BER UTF8String, RFC 4514 2.4) names Kettle Labs."""
        kettle_labs = "#0C0B" + b"Kettle Labs".hex().upper()
        base = f"cn={kettle_labs},{GROUPS_DN}"
        assert dns(demo_server, "-b", base, "-s", "base") == [
            demo.group_dn("Kettle Labs")
        ]

    def test_base_outside_the_tree_is_no_such_object(self, demo_server):
        """A base under another suffix gets noSuchObject (32)."""
        done = ldapsearch(demo_server, "-b", "dc=example,dc=org")
        assert (done.returncode, done.stdout) == (32, "")

    def test_missing_entry_under_the_tree_is_no_such_object(self, demo_server):
        """A well-formed DN with no entry gets noSuchObject (32)."""
        done = ldapsearch(demo_server, "-b", f"uid=nobody@example.com,{PEOPLE_DN}")
        assert done.returncode == 32

    def test_malformed_base_dn_is_invalid_dn_syntax(self, demo_server):
        """Bases that are not DNs get invalidDNSyntax (34)."""
        for base in ("example.com", "dc=example,,dc=com", "uid=a\\zz,dc=com"):
            done = ldapsearch(demo_server, "-b", base)
            assert done.returncode == 34, base

    def test_ldap3_sees_32_and_34_with_messages(self, demo_server):
        """ldap3 gets 32 "no such entry", and 34 naming the fault in the DN."""
        # check_names=False: ldap3 would otherwise refuse to send a bad DN.
        with connection(demo_server, check_names=False) as conn:
            conn.search("dc=example,dc=org", "(objectClass=*)")
            outside = (conn.result["result"], conn.result["message"])
            conn.search("dc=example,,dc=com", "(objectClass=*)")
            malformed = (conn.result["result"], conn.result["message"])

        assert outside == (32, "no such entry")
        assert malformed == (
            34,
            "invalid DN: expected an attribute type at ',dc=com'",
        )


class TestAttributeSelection:
    def test_default_selection_is_every_user_attribute(self, demo_server):
        """No attribute list returns user attributes only, in profile order."""
        (entry,) = search_entries(demo_server, "-b", demo.ALEX_DN, "-s", "base")
        assert list(entry.attributes) == MEMBER_ATTRIBUTES

    def test_star_is_every_user_attribute(self, demo_server):
        """`*` returns the same attributes as no list."""
        (entry,) = search_entries(demo_server, "-b", demo.ALEX_DN, "-s", "base", "*")
        assert list(entry.attributes) == MEMBER_ATTRIBUTES

    def test_plus_is_operational_attributes_only(self, demo_server):
        """`+` returns entryDN and memberOf, and no user attribute."""
        (entry,) = search_entries(demo_server, "-b", demo.ALEX_DN, "-s", "base", "+")
        expected_groups = sorted(
            (
                demo.group_dn(name)
                for name, members in demo.groups().items()
                if "alex.demo@example.com" in members
            ),
            key=str.lower,
        )
        assert entry.attributes == {
            "entryDN": [demo.ALEX_DN],
            "memberOf": expected_groups,
        }

    def test_star_and_plus_return_both(self, demo_server):
        """`* +` returns user attributes followed by operational ones."""
        (entry,) = search_entries(
            demo_server, "-b", demo.ALEX_DN, "-s", "base", "*", "+"
        )
        assert list(entry.attributes) == [*MEMBER_ATTRIBUTES, "entryDN", "memberOf"]

    def test_one_one_returns_no_attributes(self, demo_server):
        """`1.1` returns the DN alone."""
        done = ldapsearch(demo_server, "-b", demo.ALEX_DN, "-s", "base", "1.1")
        assert done.stdout == f"dn: {demo.ALEX_DN}\n\n"

    def test_explicit_list_is_case_insensitive(self, demo_server):
        """Names asked in any case come back, in the server's spelling."""
        (entry,) = search_entries(
            demo_server,
            "-b",
            demo.ALEX_DN,
            "-s",
            "base",
            "MAIL",
            "employeenumber",
            "memberof",
            "nosuchattribute",
        )
        assert list(entry.attributes) == ["mail", "employeeNumber", "memberOf"]

    def test_types_only_returns_names_without_values(self, demo_server):
        """ldapsearch -A (typesOnly) lists attribute names with no values."""
        done = ldapsearch(demo_server, "-A", "-b", demo.ALEX_DN, "-s", "base")
        lines = done.stdout.splitlines()
        assert lines[0] == f"dn: {demo.ALEX_DN}"
        assert lines[1:-1] == [f"{name}:" for name in MEMBER_ATTRIBUTES]

    def test_types_only_with_ldap3(self, service):
        """ldap3 with types_only gets every asked attribute with no values."""
        service.search(
            demo.ALEX_DN,
            "(objectClass=*)",
            ldap3.BASE,
            attributes=["uid", "cn"],
            types_only=True,
        )
        # ldap3 shows an attribute that came without values as None.
        assert service.response[0]["raw_attributes"] == {"uid": None, "cn": None}

    def test_user_password_is_never_returned(self, demo_server):
        """Asking for userPassword, even with `*` and `+`, returns none."""
        (entry,) = search_entries(
            demo_server, "-b", demo.ALEX_DN, "-s", "base", "userPassword", "*", "+"
        )
        assert entry.get("userPassword") == []
        assert "$2b$" not in str(entry.attributes)

    def test_user_password_cannot_be_probed_by_filter(self, demo_server):
        """(userPassword=*) matches no entry, so its presence cannot leak."""
        assert dns(demo_server, "-b", BASE_DN, "(userPassword=*)") == []

    def test_pin_reaches_the_service_account_but_no_password_does(self, service):
        """PaperCut's bind DN reads the PIN exactly; userPassword never leaves."""
        service.search(
            demo.ALEX_DN,
            "(objectClass=*)",
            ldap3.BASE,
            attributes=["pin", "userPassword", "*", "+"],
        )
        values = service.response[0]["raw_attributes"]
        assert values["pin"] == [b"0042"]
        assert values["userPassword"] == []


class TestMemberEntries:
    def test_every_card_is_returned_byte_for_byte(self, demo_server):
        """employeeNumber equals the export's card exactly, zeros and case kept."""
        entries = search_entries(
            demo_server,
            "-b",
            PEOPLE_DN,
            "(objectClass=posixAccount)",
            "uid",
            "employeeNumber",
        )
        cards = {e.get("uid")[0]: e.get("employeeNumber") for e in entries}
        assert cards == {
            row.username: [row.card] if row.card else [] for row in demo.active()
        }

    def test_cards_with_leading_zeros_and_mixed_case_survive(self, service):
        """ldap3 receives the exact bytes of sample cards."""
        samples = {
            "alex.demo@example.com": b"0000424242",
            "jose.martinez@example.es": b"a1B2c3D4",
            "emile@example.fr": b"A1B2C3D4",
            "taro.yamada@example.jp": b"3F9e0B7c",
            "chloe.dubois@example.fr": b"0000000001",
        }
        for uid, card in samples.items():
            service.search(PEOPLE_DN, f"(uid={uid})", attributes=["employeeNumber"])
            assert service.response[0]["raw_attributes"]["employeeNumber"] == [card]

    def test_members_without_a_card_lack_employee_number(self, demo_server):
        """Members with an empty card cell have no employeeNumber at all."""
        entries = search_entries(
            demo_server,
            "-b",
            PEOPLE_DN,
            "(&(objectClass=posixAccount)(!(employeeNumber=*)))",
            "1.1",
        )
        without = {row.dn for row in demo.active() if not row.card}
        assert len(without) == 6
        assert {e.dn for e in entries} == without

    def test_every_name_is_returned_intact(self, demo_server):
        """cn equals the export's full name for every member, accents and all."""
        entries = search_entries(
            demo_server, "-b", PEOPLE_DN, "(objectClass=posixAccount)", "uid", "cn"
        )
        names = {e.get("uid")[0]: e.get("cn") for e in entries}
        assert names == {row.username: [row.full_name] for row in demo.active()}

    def test_non_latin_names_arrive_as_utf8(self, service):
        """Japanese, Cyrillic, Greek and Arabic names reach ldap3 as UTF-8."""
        for email in (
            "taro.yamada@example.jp",
            "dmitry.ivanov@example.ru",
            "sofia.papadopoulou@example.gr",
            "mohammed.ali@example.org",
            "asa.bergstrom@example.se",
        ):
            row = demo.by_email(email)
            service.search(PEOPLE_DN, f"(uid={row.username})", attributes=["cn"])
            raw = service.response[0]["raw_attributes"]["cn"]
            assert raw == [row.full_name.encode("utf-8")], email

    def test_comma_in_a_name_splits_family_and_given(self, demo_server):
        """ "Nguyen, Van An" keeps its comma in cn; sn and givenName are split."""
        (entry,) = search_entries(
            demo_server,
            "-b",
            PEOPLE_DN,
            "(uid=van.an@example.vn)",
            "cn",
            "sn",
            "givenName",
            "displayName",
        )
        assert entry.attributes == {
            "cn": ["Nguyen, Van An"],
            "sn": ["Nguyen"],
            "givenName": ["Van An"],
            "displayName": ["Nguyen, Van An"],
        }

    def test_plus_in_email_is_escaped_in_the_dn_only(self, demo_server):
        """tomas+print@ has DN uid=tomas\\+print@..., uid and mail unescaped."""
        (entry,) = search_entries(
            demo_server,
            "-b",
            PEOPLE_DN,
            "(mail=tomas+print@example.org)",
            "uid",
            "mail",
        )
        assert entry.dn == TOMAS_DN
        assert entry.attributes == {
            "uid": ["tomas+print@example.org"],
            "mail": ["tomas+print@example.org"],
        }

    def test_upper_case_email_gives_lower_case_uid(self, demo_server):
        """EMILE@EXAMPLE.FR keeps its case in mail; uid is lowercased."""
        (entry,) = search_entries(
            demo_server, "-b", PEOPLE_DN, "(uid=emile@example.fr)", "uid", "mail"
        )
        assert entry.dn == f"uid=emile@example.fr,{PEOPLE_DN}"
        assert entry.attributes == {
            "uid": ["emile@example.fr"],
            "mail": ["EMILE@EXAMPLE.FR"],
        }

    def test_alex_demo_entry_is_complete(self, demo_server):
        """Alex Demo's entry holds exactly the values the export implies."""
        (entry,) = search_entries(demo_server, "-b", demo.ALEX_DN, "-s", "base")
        values = dict(entry.attributes)
        uid_number = values.pop("uidNumber")
        gid_number = values.pop("gidNumber")
        assert values == {
            "objectClass": [
                "top",
                "person",
                "organizationalPerson",
                "inetOrgPerson",
                "posixAccount",
            ],
            "uid": ["alex.demo@example.com"],
            "cn": ["Alex Demo"],
            "sn": ["Demo"],
            "givenName": ["Alex"],
            "displayName": ["Alex Demo"],
            "mail": ["alex.demo@example.com"],
            "departmentNumber": ["Night Owls"],
            "physicalDeliveryOfficeName": ["Mill Lane"],
            "l": ["Mill Lane"],
            "employeeType": ["Hot Desk"],
            "employeeNumber": ["0000424242"],
            "pin": ["0042"],
            "homeDirectory": ["/home/alex.demo@example.com"],
            "loginShell": ["/bin/false"],
        }
        assert int(uid_number[0]) >= 10000
        assert gid_number == self._all_members_gid(demo_server)

    def test_company_becomes_o_and_department_falls_back_to_it(self, demo_server):
        """Sara's company is o; her first team is departmentNumber."""
        (entry,) = search_entries(
            demo_server,
            "-b",
            PEOPLE_DN,
            "(uid=sara.haddad@example.com)",
            "o",
            "departmentNumber",
        )
        assert entry.attributes == {
            "departmentNumber": ["Haddad Legal"],
            "o": ["Haddad Legal"],
        }

    def test_uid_numbers_are_unique(self, demo_server):
        """No two members share a uidNumber."""
        entries = search_entries(
            demo_server, "-b", PEOPLE_DN, "(objectClass=posixAccount)", "uidNumber"
        )
        numbers = [e.get("uidNumber")[0] for e in entries]
        assert len(set(numbers)) == len(numbers) == 46

    @staticmethod
    def _all_members_gid(server) -> list[str]:
        (group,) = search_entries(
            server,
            "-b",
            demo.group_dn(demo.ALL_MEMBERS_GROUP),
            "-s",
            "base",
            "gidNumber",
        )
        return group.get("gidNumber")


class TestGroups:
    def test_every_group_has_the_exact_member_uids(self, demo_server):
        """memberUid of each group lists exactly the export's usernames."""
        entries = search_entries(
            demo_server,
            "-b",
            GROUPS_DN,
            "(objectClass=posixGroup)",
            "cn",
            "memberUid",
        )
        found = {e.get("cn")[0]: set(e.get("memberUid")) for e in entries}
        assert found == demo.groups()

    def test_every_group_has_the_exact_member_dns(self, demo_server):
        """member of each group lists exactly the DNs of its members."""
        entries = search_entries(
            demo_server, "-b", GROUPS_DN, "(objectClass=groupOfNames)", "cn", "member"
        )
        found = {e.get("cn")[0]: set(e.get("member")) for e in entries}
        expected = {
            name: {demo.by_email(u).dn for u in usernames}
            for name, usernames in demo.groups().items()
        }
        assert found == expected

    def test_group_kinds_are_all_present(self, demo_server):
        """Teams, plans, locations and all-members: 6 + 3 + 2 + 1 groups."""
        rows = demo.active()
        teams = {r.team for r in rows if r.team}
        plans = {r.plan for r in rows if r.plan}
        locations = {r.location for r in rows if r.location}
        assert (len(teams), len(plans), len(locations)) == (6, 3, 2)
        assert set(demo.groups()) == teams | plans | locations | {"all-members"}

    def test_all_members_group_holds_every_active_member(self, demo_server):
        """cn=all-members has 46 memberUid values."""
        (entry,) = search_entries(
            demo_server, "-b", demo.group_dn("all-members"), "-s", "base", "memberUid"
        )
        assert len(entry.get("memberUid")) == 46

    def test_group_entry_has_both_object_classes(self, demo_server):
        """A group is groupOfNames and posixGroup, with a gidNumber."""
        (entry,) = search_entries(
            demo_server,
            "-b",
            demo.group_dn("Night Owls"),
            "-s",
            "base",
            "objectClass",
            "cn",
            "description",
        )
        assert entry.attributes == {
            "objectClass": ["top", "groupOfNames", "posixGroup"],
            "cn": ["Night Owls"],
            "description": ["team group"],
        }

    def test_papercut_group_lookup_by_member_uid(self, demo_server):
        """(memberUid=alex.demo@example.com) finds Alex's four groups."""
        found = dns(demo_server, "-b", GROUPS_DN, "(memberUid=alex.demo@example.com)")
        expected = [
            demo.group_dn(name)
            for name, members in demo.groups().items()
            if "alex.demo@example.com" in members
        ]
        assert sorted(found) == sorted(expected)
        assert len(found) == 4

    def test_member_of_lists_every_group_of_every_member(self, demo_server):
        """memberOf of each member matches the groups holding them."""
        entries = search_entries(
            demo_server,
            "-b",
            PEOPLE_DN,
            "(objectClass=posixAccount)",
            "uid",
            "memberOf",
        )
        found = {e.get("uid")[0]: set(e.get("memberOf")) for e in entries}
        expected = {
            row.username: {
                demo.group_dn(name)
                for name, members in demo.groups().items()
                if row.username in members
            }
            for row in demo.active()
        }
        assert found == expected


class TestSizeLimit:
    def test_ldapsearch_size_limit_returns_that_many_then_4(self, demo_server):
        """ldapsearch -z 5 gets exactly 5 entries and sizeLimitExceeded (4)."""
        done = ldapsearch(
            demo_server, "-z", "5", "-b", BASE_DN, "(objectClass=posixAccount)", "1.1"
        )
        assert done.returncode == 4
        assert done.stdout.count("dn: ") == 5

    def test_ldap3_size_limit_returns_that_many_then_4(self, service):
        """ldap3 with size_limit=5 gets 5 entries and result 4."""
        service.search(
            BASE_DN, "(objectClass=posixAccount)", attributes=["1.1"], size_limit=5
        )
        assert len(service.response) == 5
        assert service.result["result"] == 4
        assert service.result["description"] == "sizeLimitExceeded"

    def test_size_limit_above_the_count_is_success(self, demo_server):
        """A limit larger than the result returns everything with success."""
        done = ldapsearch(
            demo_server, "-z", "100", "-b", BASE_DN, "(objectClass=posixAccount)", "1.1"
        )
        assert (done.returncode, done.stdout.count("dn: ")) == (0, 46)

    def test_size_limit_equal_to_the_count_is_success(self, demo_server):
        """A limit equal to the number of matches is not exceeded."""
        done = ldapsearch(
            demo_server, "-z", "46", "-b", BASE_DN, "(objectClass=posixAccount)", "1.1"
        )
        assert (done.returncode, done.stdout.count("dn: ")) == (0, 46)

    def test_unlimited_search_returns_all_members_to_the_service(self, demo_server):
        """Without paging or a limit the service account gets all 46 members."""
        assert len(dns(demo_server, "-b", BASE_DN, "(objectClass=posixAccount)")) == 46


class TestRootDSE:
    def test_root_dse_attributes(self, demo_server):
        """The root DSE lists naming context, version, controls and extension."""
        (entry,) = search_entries(demo_server, "-b", "", "-s", "base", auth=())
        assert entry.dn == ""
        assert entry.attributes == {
            "objectClass": ["top", "extensibleObject"],
            "namingContexts": [BASE_DN],
            "supportedLDAPVersion": ["3"],
            "supportedControl": [
                "1.2.840.113556.1.4.319",
                "2.16.840.1.113730.3.4.2",
            ],
            "supportedExtension": ["1.3.6.1.4.1.4203.1.11.3", "1.3.6.1.4.1.1466.20037"],
            "vendorName": ["ldapbridge"],
            "vendorVersion": ["ldapbridge 0.1.0"],
        }

    def test_root_dse_plus_returns_its_operational_attributes(self, demo_server):
        """`+` on the root DSE returns the RFC 4512 5.1 attributes too."""
        (entry,) = search_entries(demo_server, "-b", "", "-s", "base", "+", auth=())
        assert entry.get("supportedControl") == [
            "1.2.840.113556.1.4.319",
            "2.16.840.1.113730.3.4.2",
        ]
        assert entry.get("namingContexts") == [BASE_DN]

    def test_root_dse_explicit_attribute(self, demo_server):
        """Asking for namingContexts alone returns it alone."""
        (entry,) = search_entries(
            demo_server, "-b", "", "-s", "base", "namingContexts", auth=()
        )
        assert entry.attributes == {"namingContexts": [BASE_DN]}

    def test_root_dse_with_ldap3_server_info(self, demo_server):
        """ldap3's get_info=DSA reads the naming context and paged control."""
        server = ldap3.Server(
            demo_server.host, port=demo_server.port, get_info=ldap3.DSA
        )
        conn = ldap3.Connection(server, auto_bind=True)
        try:
            assert server.info.naming_contexts == [BASE_DN]
            controls = [c[0] for c in server.info.supported_controls]
            assert "1.2.840.113556.1.4.319" in controls
        finally:
            conn.unbind()
