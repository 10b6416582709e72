"""The directory is read-only: every write gets unwillingToPerform (53)."""

from __future__ import annotations

import ldap3
import pytest

from tests import demo
from tests.clients import connection, search_entries
from tests.support import PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, ldap_tool

READ_ONLY = "the directory is read-only: change members in the coworking platform"
NEW_DN = f"uid=new.member@example.com,{PEOPLE_DN}"

LDIF = {
    "add": f"""dn: {NEW_DN}
changetype: add
objectClass: inetOrgPerson
uid: new.member@example.com
cn: New Member
sn: Member
""",
    "modify": f"""dn: {demo.ALEX_DN}
changetype: modify
replace: employeeNumber
employeeNumber: 9999999999
""",
    "delete": f"""dn: {demo.ALEX_DN}
changetype: delete
""",
    "modrdn": f"""dn: {demo.ALEX_DN}
changetype: modrdn
newrdn: uid=alex.renamed@example.com
deleteoldrdn: 1
""",
}


def ldapmodify(server, tmp_path, ldif: str, *auth: str):
    path = tmp_path / "change.ldif"
    path.write_text(ldif, encoding="utf-8")
    return ldap_tool("ldapmodify", server, *auth, "-f", str(path))


def alex_card(server) -> list[str]:
    (entry,) = search_entries(
        server, "-b", demo.ALEX_DN, "-s", "base", "employeeNumber"
    )
    return entry.get("employeeNumber")


def write_as_service(demo_server, tmp_path, change: str, *extra: str):
    """ldapmodify bound as the service account, sending LDIF[change]."""
    return ldapmodify(
        demo_server,
        tmp_path,
        LDIF[change],
        *("-D", SERVICE_DN, "-w", SERVICE_PASSWORD),
        *extra,
    )


class TestLdapmodify:
    @pytest.mark.parametrize("change", ["add", "modify", "delete", "modrdn"])
    def test_every_change_is_unwilling_to_perform(self, demo_server, tmp_path, change):
        """ldapmodify add, modify, delete and modrdn each get 53 and the reason."""
        done = write_as_service(demo_server, tmp_path, change)
        assert done.returncode == 53
        assert f"additional info: {READ_ONLY}" in done.stderr

    @pytest.mark.parametrize("change", ["add", "modify", "delete", "modrdn"])
    def test_write_with_an_unknown_critical_control_gets_12(
        self, demo_server, tmp_path, change
    ):
        """A write carrying an unknown critical control gets 12, as any other
        operation does (RFC 4511 4.1.11)."""
        done = write_as_service(demo_server, tmp_path, change, "-e", "!1.2.3.4")
        assert done.returncode == 12
        assert "additional info: critical control 1.2.3.4 unsupported" in done.stderr

    def test_write_with_manage_dsa_it_still_gets_53(self, demo_server, tmp_path):
        """ManageDsaIT, critical as ldapmodify -MM sends it, leaves the 53 refusal."""
        done = ldapmodify(
            demo_server,
            tmp_path,
            LDIF["modify"],
            "-D",
            SERVICE_DN,
            "-w",
            SERVICE_PASSWORD,
            "-MM",
        )
        assert done.returncode == 53
        assert f"additional info: {READ_ONLY}" in done.stderr

    def test_member_writing_their_own_entry_is_refused(self, demo_server, tmp_path):
        """Alex modifying Alex's own entry also gets 53."""
        done = ldapmodify(
            demo_server,
            tmp_path,
            LDIF["modify"],
            "-D",
            demo.ALEX_DN,
            "-w",
            demo.ALEX_PASSWORD,
        )
        assert done.returncode == 53

    def test_anonymous_write_is_refused(self, demo_server, tmp_path):
        """An anonymous delete gets 53 as well."""
        assert ldapmodify(demo_server, tmp_path, LDIF["delete"]).returncode == 53

    def test_refused_writes_change_nothing(self, demo_server, tmp_path):
        """After every refused change Alex's entry and card are as before."""
        for change in LDIF.values():
            ldapmodify(
                demo_server, tmp_path, change, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD
            )
        assert alex_card(demo_server) == ["0000424242"]
        done = ldap_tool(
            "ldapsearch",
            demo_server,
            "-D",
            SERVICE_DN,
            "-w",
            SERVICE_PASSWORD,
            "-b",
            NEW_DN,
            "-s",
            "base",
        )
        assert done.returncode == 32

    def test_password_change_is_refused(self, demo_server):
        """ldappasswd gets protocolError (2) and the old password still works."""
        done = ldap_tool(
            "ldappasswd",
            demo_server,
            "-D",
            demo.ALEX_DN,
            "-w",
            demo.ALEX_PASSWORD,
            "-s",
            "new-password",
        )
        assert done.stdout.startswith("Result: Protocol error (2)\n")
        whoami = ldap_tool(
            "ldapwhoami", demo_server, "-D", demo.ALEX_DN, "-w", demo.ALEX_PASSWORD
        )
        assert whoami.returncode == 0


class TestLdap3Writes:
    def test_add_is_refused(self, service):
        """ldap3 add gets 53 with the read-only message."""
        service.add(NEW_DN, ["inetOrgPerson"], {"cn": "New", "sn": "Member"})
        assert (service.result["result"], service.result["message"]) == (53, READ_ONLY)
        assert service.result["type"] == "addResponse"

    def test_modify_is_refused(self, service):
        """ldap3 modify gets 53."""
        service.modify(
            demo.ALEX_DN, {"employeeNumber": [(ldap3.MODIFY_REPLACE, ["1"])]}
        )
        assert (service.result["result"], service.result["type"]) == (
            53,
            "modifyResponse",
        )

    def test_delete_is_refused(self, service):
        """ldap3 delete gets 53."""
        service.delete(demo.ALEX_DN)
        assert (service.result["result"], service.result["type"]) == (53, "delResponse")

    def test_modify_dn_is_refused(self, service):
        """ldap3 modify_dn gets 53."""
        service.modify_dn(demo.ALEX_DN, "uid=alex.renamed@example.com")
        assert (service.result["result"], service.result["type"]) == (
            53,
            "modDNResponse",
        )

    def test_connection_keeps_working_after_refused_writes(self, demo_server):
        """A connection refused a write still searches."""
        with connection(demo_server) as conn:
            conn.delete(demo.ALEX_DN)
            conn.search(PEOPLE_DN, "(uid=alex.demo@example.com)", attributes=["1.1"])
            assert conn.result["result"] == 0
            assert [e["dn"] for e in conn.response] == [demo.ALEX_DN]


class TestCompare:
    def test_compare_true_and_false_with_ldapcompare(self, demo_server):
        """ldapcompare on Alex's card: TRUE (6) for the exact card, FALSE (5)."""
        auth = ("-D", SERVICE_DN, "-w", SERVICE_PASSWORD)
        true = ldap_tool(
            "ldapcompare", demo_server, *auth, demo.ALEX_DN, "employeeNumber:0000424242"
        )
        false = ldap_tool(
            "ldapcompare", demo_server, *auth, demo.ALEX_DN, "employeeNumber:424242"
        )
        assert (true.returncode, true.stdout) == (6, "TRUE\n")
        assert (false.returncode, false.stdout) == (5, "FALSE\n")

    def test_compare_uses_the_matching_rule(self, service):
        """Compare on uid ignores case, on uidNumber compares integers."""
        assert service.compare(demo.ALEX_DN, "UID", "ALEX.DEMO@EXAMPLE.COM") is True
        service.search(
            demo.ALEX_DN, "(objectClass=*)", ldap3.BASE, attributes=["uidNumber"]
        )
        number = service.response[0]["raw_attributes"]["uidNumber"][0].decode()
        assert service.compare(demo.ALEX_DN, "uidNumber", "000" + number) is True

    def test_compare_on_a_missing_entry_is_no_such_object(self, service):
        """Compare on a DN with no entry gets 32."""
        service.compare(f"uid=nobody@example.com,{PEOPLE_DN}", "uid", "x")
        assert service.result["result"] == 32

    def test_compare_on_user_password_is_false(self, service):
        """userPassword cannot be probed by compare either."""
        assert (
            service.compare(demo.ALEX_DN, "userPassword", demo.ALEX_PASSWORD) is False
        )
        assert service.result["result"] == 5
