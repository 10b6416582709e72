"""Every RFC 4515 filter type, against the demo server, with exact results.

Each expected set is computed from demo/members.csv with the attribute's
matching rule: caseIgnore for names and mail, integer for uidNumber,
distinguishedName for member and memberOf.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests import demo
from tests.clients import ldapsearch, search_entries
from tests.support import BASE_DN, GROUPS_DN, PEOPLE_DN, RunningServer

Row = demo.DemoRow


def found(server: RunningServer, ldap_filter: str, base: str = PEOPLE_DN) -> set[str]:
    """DNs the server returns for ``ldap_filter`` under ``base``."""
    return {e.dn for e in search_entries(server, "-b", base, ldap_filter, "1.1")}


def members(where: Callable[[Row], bool]) -> set[str]:
    """DNs of the active demo members for which ``where`` holds."""
    return {row.dn for row in demo.active() if where(row)}


def fold(text: str) -> str:
    """caseIgnoreMatch's comparison form, as the tests expect it."""
    return " ".join(text.split()).casefold()


@pytest.fixture(scope="module")
def uid_numbers(demo_server: RunningServer) -> dict[str, int]:
    """Each member DN's uidNumber, as the server publishes it."""
    entries = search_entries(
        demo_server, "-b", PEOPLE_DN, "(objectClass=posixAccount)", "uidNumber"
    )
    return {e.dn: int(e.get("uidNumber")[0]) for e in entries}


class TestEquality:
    def test_equality_on_uid(self, demo_server):
        """(uid=alex.demo@example.com) matches Alex alone."""
        assert found(demo_server, "(uid=alex.demo@example.com)") == {demo.ALEX_DN}

    def test_attribute_names_and_values_ignore_case(self, demo_server):
        """(UID=ALEX.DEMO@EXAMPLE.COM) matches Alex: caseIgnore name and value."""
        assert found(demo_server, "(UID=ALEX.DEMO@EXAMPLE.COM)") == {demo.ALEX_DN}
        assert found(demo_server, "(uId=Alex.Demo@Example.Com)") == {demo.ALEX_DN}

    def test_object_class_ignores_case(self, demo_server):
        """(OBJECTCLASS=POSIXACCOUNT) matches every member."""
        assert found(demo_server, "(OBJECTCLASS=POSIXACCOUNT)") == members(
            lambda r: True
        )

    def test_equality_on_mail_with_original_case(self, demo_server):
        """(mail=grace.okafor@example.com) matches Grace.Okafor@Example.COM."""
        expected = {demo.by_email("Grace.Okafor@Example.COM").dn}
        assert found(demo_server, "(mail=grace.okafor@example.com)") == expected

    def test_equality_ignores_repeated_spaces(self, demo_server):
        """(cn=alex   demo) matches "Alex Demo": spaces are insignificant."""
        assert found(demo_server, "(cn=alex   demo)") == {demo.ALEX_DN}

    def test_equality_on_a_card_with_leading_zeros(self, demo_server):
        """(employeeNumber=0000424242) matches Alex; 424242 matches nobody."""
        assert found(demo_server, "(employeeNumber=0000424242)") == {demo.ALEX_DN}
        assert found(demo_server, "(employeeNumber=424242)") == set()

    def test_equality_with_an_escaped_comma(self, demo_server):
        """(cn=Nguyen\\2c Van An) matches the name holding a comma."""
        expected = {demo.by_email("van.an@example.vn").dn}
        assert found(demo_server, "(cn=Nguyen\\2c Van An)") == expected

    def test_equality_on_a_non_latin_name(self, demo_server):
        """(cn=山田 太郎) matches Taro Yamada."""
        expected = {demo.by_email("taro.yamada@example.jp").dn}
        assert found(demo_server, "(cn=山田 太郎)") == expected

    def test_integer_equality_on_uid_number(self, demo_server, uid_numbers):
        """(uidNumber=N) matches the member with that number, with or without
        leading zeros."""
        number = uid_numbers[demo.ALEX_DN]
        assert found(demo_server, f"(uidNumber={number})") == {demo.ALEX_DN}
        assert found(demo_server, f"(uidNumber=00{number})") == {demo.ALEX_DN}

    def test_invalid_integer_is_undefined_and_matches_nothing(self, demo_server):
        """(uidNumber=abc) is Undefined: no match, and its negation neither."""
        assert found(demo_server, "(uidNumber=abc)") == set()
        assert found(demo_server, "(!(uidNumber=abc))") == set()


class TestBooleanFilters:
    def test_and(self, demo_server):
        """(&(l=Mill Lane)(employeeType=Hot Desk)) is the intersection."""
        expected = members(lambda r: r.location == "Mill Lane" and r.plan == "Hot Desk")
        assert found(demo_server, "(&(l=Mill Lane)(employeeType=Hot Desk))") == expected
        assert len(expected) == 12

    def test_or(self, demo_server):
        """(|(departmentNumber=Kettle Labs)(departmentNumber=Haddad Legal))."""
        expected = members(lambda r: r.team in ("Kettle Labs", "Haddad Legal"))
        ldap_filter = "(|(departmentNumber=Kettle Labs)(departmentNumber=Haddad Legal))"
        assert found(demo_server, ldap_filter) == expected
        assert len(expected) == 15

    def test_not(self, demo_server):
        """(&(objectClass=posixAccount)(!(l=Mill Lane))) leaves Harbour Street."""
        expected = members(lambda r: r.location != "Mill Lane")
        ldap_filter = "(&(objectClass=posixAccount)(!(l=Mill Lane)))"
        assert found(demo_server, ldap_filter) == expected

    def test_nested_boolean_filter(self, demo_server):
        """(&(|(l=Mill Lane)(o=Haddad Legal))(!(employeeType=Hot Desk)))."""
        expected = members(
            lambda r: (
                (r.location == "Mill Lane" or r.company == "Haddad Legal")
                and r.plan != "Hot Desk"
            )
        )
        ldap_filter = "(&(|(l=Mill Lane)(o=Haddad Legal))(!(employeeType=Hot Desk)))"
        assert found(demo_server, ldap_filter) == expected

    def test_and_on_an_indexed_and_unindexed_attribute(self, demo_server):
        """(&(mail=*@example.com)(employeeType=Dedicated Desk)) matches alike."""
        expected = members(
            lambda r: (
                r.email.lower().endswith("@example.com") and r.plan == "Dedicated Desk"
            )
        )
        ldap_filter = "(&(mail=*@example.com)(employeeType=Dedicated Desk))"
        assert found(demo_server, ldap_filter) == expected

    def test_or_of_uids_finds_each(self, demo_server):
        """(|(uid=a)(uid=b)(uid=nobody)) returns the two that exist."""
        ldap_filter = (
            "(|(uid=alex.demo@example.com)(uid=SARA.HADDAD@example.com)"
            "(uid=nobody@example.com))"
        )
        expected = {demo.ALEX_DN, demo.by_email("sara.haddad@example.com").dn}
        assert found(demo_server, ldap_filter) == expected


class TestSubstrings:
    def test_initial(self, demo_server):
        """(mail=a*) matches every mail starting with a, in any case."""
        expected = members(lambda r: r.email.lower().startswith("a"))
        assert found(demo_server, "(mail=A*)") == expected
        assert len(expected) == 6

    def test_final(self, demo_server):
        """(mail=*.SE) matches the Swedish addresses."""
        expected = members(lambda r: r.email.lower().endswith(".se"))
        assert found(demo_server, "(mail=*.SE)") == expected
        assert len(expected) == 4

    def test_any(self, demo_server):
        """(cn=*an*) matches names containing "an" anywhere, in any case."""
        expected = members(lambda r: "an" in fold(r.full_name))
        assert found(demo_server, "(cn=*an*)") == expected

    def test_initial_any_and_final(self, demo_server):
        """(mail=s*@*.fr) combines the three parts."""
        expected = members(
            lambda r: (
                r.email.lower().startswith("s")
                and "@" in r.email
                and r.email.lower().endswith(".fr")
            )
        )
        assert found(demo_server, "(mail=s*@*.fr)") == expected
        assert len(expected) == 1

    def test_several_any_parts_in_order(self, demo_server):
        """(cn=*a*e*) needs an "a" before an "e"."""

        def fits(name: str) -> bool:
            a = fold(name).find("a")
            return a >= 0 and fold(name).find("e", a + 1) >= 0

        assert found(demo_server, "(cn=*a*e*)") == members(lambda r: fits(r.full_name))

    def test_initial_and_final_may_not_overlap(self, demo_server):
        """(uid=alex.demo@example.com*com) needs two "com"s, so matches no one."""
        assert found(demo_server, "(uid=alex.demo@example.com*com)") == set()

    def test_substrings_on_a_card_keep_leading_zeros(self, demo_server):
        """(employeeNumber=0000*) matches the cards starting with four zeros."""
        expected = members(lambda r: r.card.startswith("0000"))
        assert found(demo_server, "(employeeNumber=0000*)") == expected
        assert len(expected) == 4

    def test_substrings_on_accented_names(self, demo_server):
        """(cn=*ström) matches Åsa Bergström."""
        expected = {demo.by_email("asa.bergstrom@example.se").dn}
        assert found(demo_server, "(cn=*ström)") == expected


class TestOrdering:
    def test_greater_or_equal_on_uid_number_is_integer_ordering(
        self, demo_server, uid_numbers
    ):
        """(uidNumber>=N) compares numbers, not strings of digits."""
        threshold = 9_000_000
        as_int = {dn for dn, n in uid_numbers.items() if n >= threshold}
        as_str = {dn for dn, n in uid_numbers.items() if str(n) >= str(threshold)}
        # The demo's numbers must tell the two orderings apart.
        assert as_int != as_str

        assert found(demo_server, f"(uidNumber>={threshold})") == as_int

    def test_less_or_equal_on_uid_number_is_integer_ordering(
        self, demo_server, uid_numbers
    ):
        """(uidNumber<=N) is the complement of (uidNumber>=N+1)."""
        threshold = 9_000_000
        as_int = {dn for dn, n in uid_numbers.items() if n <= threshold}
        as_str = {dn for dn, n in uid_numbers.items() if str(n) <= str(threshold)}
        assert as_int != as_str

        assert found(demo_server, f"(uidNumber<={threshold})") == as_int

    def test_ordering_bounds_are_inclusive(self, demo_server, uid_numbers):
        """(&(uidNumber>=N)(uidNumber<=N)) matches exactly the member with N."""
        number = uid_numbers[demo.ALEX_DN]
        ldap_filter = f"(&(uidNumber>={number})(uidNumber<={number}))"
        assert found(demo_server, ldap_filter) == {demo.ALEX_DN}

    def test_greater_or_equal_on_a_string(self, demo_server):
        """(cn>=s) compares case-folded names."""
        expected = members(lambda r: fold(r.full_name) >= "s")
        assert found(demo_server, "(cn>=S)") == expected

    def test_less_or_equal_on_a_string(self, demo_server):
        """(cn<=b) compares case-folded names."""
        expected = members(lambda r: fold(r.full_name) <= "b")
        assert found(demo_server, "(cn<=b)") == expected
        assert len(expected) == 5

    def test_ordering_on_a_dn_attribute_is_undefined(self, demo_server):
        """member has no ordering rule: (member>=x) and its negation match none."""
        assert found(demo_server, f"(member>={demo.ALEX_DN})", GROUPS_DN) == set()
        assert found(demo_server, f"(!(member>={demo.ALEX_DN}))", GROUPS_DN) == set()


class TestPresentAndApprox:
    def test_present(self, demo_server):
        """(employeeNumber=*) matches the 40 members holding a card."""
        expected = members(lambda r: bool(r.card))
        assert found(demo_server, "(employeeNumber=*)") == expected
        assert len(expected) == 40

    def test_present_object_class_matches_every_entry(self, demo_server):
        """(objectClass=*) under the suffix returns the whole tree."""
        assert len(found(demo_server, "(objectClass=*)", BASE_DN)) == 63

    def test_present_of_an_unknown_attribute_matches_nothing(self, demo_server):
        """(nosuchattribute=*) matches no entry."""
        assert found(demo_server, "(nosuchattribute=*)", BASE_DN) == set()

    def test_approx_ignores_case_spaces_and_punctuation(self, demo_server):
        """(cn~=alexdemo) and (cn~=ALEX-DEMO) match "Alex Demo"."""
        assert found(demo_server, "(cn~=alexdemo)") == {demo.ALEX_DN}
        assert found(demo_server, "(cn~=ALEX-DEMO)") == {demo.ALEX_DN}

    def test_approx_does_not_match_a_different_name(self, demo_server):
        """(cn~=alex demos) matches nobody."""
        assert found(demo_server, "(cn~=alex demos)") == set()


class TestExtensible:
    def test_case_exact_match_tells_card_case_apart(self, demo_server):
        """caseExactMatch finds a1B2c3D4 but not A1B2C3D4."""
        ldap_filter = "(employeeNumber:caseExactMatch:=a1B2c3D4)"
        assert found(demo_server, ldap_filter) == {
            demo.by_email("jose.martinez@example.es").dn
        }

    def test_case_exact_match_by_oid(self, demo_server):
        """2.5.13.5 is caseExactMatch."""
        ldap_filter = "(employeeNumber:2.5.13.5:=A1B2C3D4)"
        assert found(demo_server, ldap_filter) == {demo.by_email("EMILE@EXAMPLE.FR").dn}

    def test_case_ignore_match_finds_both_cases(self, demo_server):
        """caseIgnoreMatch finds both the a1B2c3D4 and the A1B2C3D4 card."""
        expected = members(lambda r: r.card.lower() == "a1b2c3d4")
        ldap_filter = "(employeeNumber:caseIgnoreMatch:=A1b2C3d4)"
        assert found(demo_server, ldap_filter) == expected
        assert len(expected) == 2

    def test_integer_match(self, demo_server, uid_numbers):
        """(uidNumber:integerMatch:=N) matches the member with number N."""
        number = uid_numbers[demo.ALEX_DN]
        ldap_filter = f"(uidNumber:integerMatch:=0{number})"
        assert found(demo_server, ldap_filter) == {demo.ALEX_DN}

    def test_distinguished_name_match(self, demo_server):
        """member:distinguishedNameMatch: finds groups whatever the DN's case."""
        loose = "UID=Alex.Demo@example.com, OU=people, DC=example, DC=com"
        expected = {
            demo.group_dn(name)
            for name, usernames in demo.groups().items()
            if "alex.demo@example.com" in usernames
        }
        ldap_filter = f"(member:distinguishedNameMatch:={loose})"
        assert found(demo_server, ldap_filter, GROUPS_DN) == expected

    def test_bitwise_and_on_gid_number(self, demo_server):
        """1.2.840.113556.1.4.803 matches gidNumbers holding every bit of 8."""
        entries = search_entries(
            demo_server, "-b", BASE_DN, "(gidNumber=*)", "gidNumber"
        )
        expected = {e.dn for e in entries if int(e.get("gidNumber")[0]) & 8 == 8}
        assert 0 < len(expected) < len(entries)

        ldap_filter = "(gidNumber:1.2.840.113556.1.4.803:=8)"
        assert found(demo_server, ldap_filter, BASE_DN) == expected

    def test_bitwise_and_needs_every_bit(self, demo_server, uid_numbers):
        """803 with a uidNumber as mask matches that number, not its subsets."""
        number = uid_numbers[demo.ALEX_DN]
        expected = {dn for dn, n in uid_numbers.items() if n & number == number}
        ldap_filter = f"(uidNumber:1.2.840.113556.1.4.803:={number})"
        assert found(demo_server, ldap_filter) == expected
        assert demo.ALEX_DN in expected

    def test_dn_attributes_match_rdn_values(self, demo_server):
        """(ou:dn:=people) matches ou=people and every entry beneath it."""
        expected = {PEOPLE_DN} | members(lambda r: True)
        assert found(demo_server, "(ou:dn:=people)", BASE_DN) == expected
        assert len(expected) == 47

    def test_without_dn_flag_only_the_attribute_counts(self, demo_server):
        """(ou:=people) matches the container alone."""
        assert found(demo_server, "(ou:=people)", BASE_DN) == {PEOPLE_DN}

    def test_dn_flag_with_a_rule_and_no_attribute(self, demo_server):
        """(:dn:caseIgnoreMatch:=GROUPS) matches ou=groups and every group."""
        expected = {GROUPS_DN} | {demo.group_dn(g) for g in demo.groups()}
        ldap_filter = "(:dn:caseIgnoreMatch:=GROUPS)"
        assert found(demo_server, ldap_filter, BASE_DN) == expected

    def test_in_chain_rule_is_dn_equality(self, demo_server):
        """memberOf:1.2.840.113556.1.4.1941: finds the group's direct members."""
        expected = {demo.by_email(u).dn for u in demo.groups()["Private Office"]}
        group = demo.group_dn("private office")
        ldap_filter = f"(memberOf:1.2.840.113556.1.4.1941:={group})"
        assert found(demo_server, ldap_filter) == expected

    def test_unknown_matching_rule_matches_nothing(self, demo_server):
        """An unknown rule is Undefined: no match."""
        assert found(demo_server, "(cn:1.2.3.4.5:=Alex Demo)") == set()


class TestDNValuedFilters:
    def test_member_filter_normalises_case_and_spaces(self, demo_server):
        """(member=<Alex's DN in other case, spaced>) finds Alex's groups."""
        loose = "uid=ALEX.DEMO@EXAMPLE.COM , ou=People , dc=Example , dc=Com"
        expected = {
            demo.group_dn(name)
            for name, usernames in demo.groups().items()
            if "alex.demo@example.com" in usernames
        }
        assert found(demo_server, f"(member={loose})", GROUPS_DN) == expected

    def test_member_filter_normalises_escapes(self, demo_server):
        """\\+, \\2b and \\2B in a member= DN all find the same groups."""
        expected = {
            demo.group_dn(name)
            for name, usernames in demo.groups().items()
            if "tomas+print@example.org" in usernames
        }
        assert len(expected) == 4
        # In a filter string a backslash itself is written \5c (RFC 4515).
        for value in ("tomas\\5c+print", "TOMAS\\5c2bprint", "Tomas\\5c2Bprint"):
            ldap_filter = f"(member=uid={value}@example.org,{PEOPLE_DN})"
            assert found(demo_server, ldap_filter, GROUPS_DN) == expected, value

    def test_member_of_filter(self, demo_server):
        """(memberOf=cn=hot desk,...) finds every Hot Desk member."""
        expected = members(lambda r: r.plan == "Hot Desk")
        ldap_filter = f"(memberOf=CN=hot desk,{GROUPS_DN})"
        assert found(demo_server, ldap_filter) == expected

    def test_member_filter_with_a_malformed_dn_matches_nothing(self, demo_server):
        """(member=not a dn) is Undefined, not an error."""
        done = ldapsearch(demo_server, "-b", GROUPS_DN, "(member=not a dn)", "1.1")
        assert (done.returncode, done.stdout) == (0, "")


class TestFiltersWithLdap3:
    def test_ldap3_filters_agree_with_the_csv(self, service):
        """A PaperCut-style user search through ldap3 finds the same members."""
        service.search(
            PEOPLE_DN,
            "(&(objectClass=posixAccount)(|(l=harbour street)(employeeNumber=00*)))",
            attributes=["1.1"],
        )
        expected = members(
            lambda r: r.location == "Harbour Street" or r.card.startswith("00")
        )
        assert {e["dn"] for e in service.response} == expected

    def test_ldap3_extensible_bitwise_or_filter(self, service):
        """Through ldap3, rule 1.2.840.113556.1.4.804 with 1 finds odd gidNumbers."""
        service.search(GROUPS_DN, "(objectClass=posixGroup)", attributes=["gidNumber"])
        odd = {
            e["dn"]
            for e in service.response
            if int(e["attributes"]["gidNumber"][0]) % 2
        }
        assert 0 < len(odd) < len(service.response)

        service.search(
            GROUPS_DN, "(gidNumber:1.2.840.113556.1.4.804:=1)", attributes=["1.1"]
        )
        assert {e["dn"] for e in service.response} == odd
