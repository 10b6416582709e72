"""Request controls: ManageDsaIT accepted, unknown critical controls refused."""

from __future__ import annotations

from tests import demo
from tests.clients import ldapsearch
from tests.support import BASE_DN, PEOPLE_DN, ldap_tool

MANAGE_DSA_IT = "2.16.840.1.113730.3.4.2"
PAGED = "1.2.840.113556.1.4.319"
ALEX = "(uid=alex.demo@example.com)"


class TestManageDsaIT:
    def test_non_critical_manage_dsa_it_is_accepted(self, demo_server):
        """ldapsearch -M (as Java's JNDI sends it) gets Alex's entry and 0."""
        done = ldapsearch(demo_server, "-M", "-b", BASE_DN, ALEX, "1.1")
        assert (done.returncode, done.stdout) == (0, f"dn: {demo.ALEX_DN}\n\n")

    def test_critical_manage_dsa_it_is_accepted(self, demo_server):
        """ldapsearch -MM marks it critical; it is supported, so still 0."""
        done = ldapsearch(demo_server, "-MM", "-b", BASE_DN, ALEX, "1.1")
        assert (done.returncode, done.stdout) == (0, f"dn: {demo.ALEX_DN}\n\n")

    def test_manage_dsa_it_with_ldap3(self, service):
        """ldap3 sending ManageDsaIT, critical or not, gets the entry."""
        for critical in (False, True):
            service.search(
                BASE_DN,
                ALEX,
                attributes=["1.1"],
                controls=[(MANAGE_DSA_IT, critical, None)],
            )
            assert service.result["result"] == 0
            assert [e["dn"] for e in service.response] == [demo.ALEX_DN]

    def test_manage_dsa_it_on_bind_is_accepted(self, demo_server):
        """ldapwhoami -e manageDSAit sends it with the bind and Who am I?."""
        done = ldap_tool(
            "ldapwhoami",
            demo_server,
            "-e",
            "manageDSAit",
            "-D",
            demo.ALEX_DN,
            "-w",
            demo.ALEX_PASSWORD,
        )
        assert (done.returncode, done.stdout) == (0, f"dn:{demo.ALEX_DN}\n")


class TestUnknownControls:
    def test_unknown_critical_control_is_unavailable_critical_extension(
        self, demo_server
    ):
        """ldapsearch -e '!1.2.3.4' gets unavailableCriticalExtension (12)."""
        done = ldapsearch(demo_server, "-e", "!1.2.3.4", "-b", BASE_DN, ALEX)
        assert (done.returncode, done.stdout) == (12, "")

    def test_unknown_critical_control_with_ldap3(self, service):
        """ldap3 gets 12, a message naming the control, and no entries."""
        service.search(BASE_DN, ALEX, controls=[("1.2.3.4", True, None)])
        assert service.result["result"] == 12
        assert service.result["message"] == "critical control 1.2.3.4 unsupported"
        assert service.response == []

    def test_unknown_non_critical_control_is_ignored(self, demo_server):
        """ldapsearch -e 1.2.3.4 (not critical) is served as if absent."""
        done = ldapsearch(demo_server, "-e", "1.2.3.4", "-b", BASE_DN, ALEX, "1.1")
        assert (done.returncode, done.stdout) == (0, f"dn: {demo.ALEX_DN}\n\n")

    def test_unknown_critical_control_on_compare(self, service):
        """A compare carrying an unknown critical control also gets 12."""
        service.compare(
            demo.ALEX_DN,
            "uid",
            "alex.demo@example.com",
            controls=[("1.2.3.4", True, None)],
        )
        assert service.result["result"] == 12

    def test_connection_works_after_a_refused_control(self, service):
        """After a 12 the same connection searches normally."""
        service.search(BASE_DN, ALEX, controls=[("1.2.3.4", True, None)])
        service.search(PEOPLE_DN, ALEX, attributes=["1.1"])
        assert service.result["result"] == 0
        assert len(service.response) == 1

    def test_malformed_paged_control_is_a_protocol_error(self, service):
        """A paged results control whose value is not BER gets protocolError (2)."""
        service.search(BASE_DN, ALEX, controls=[(PAGED, False, b"\x00\x01junk")])
        assert service.result["result"] == 2
        assert service.result["message"] == "malformed paged results control"
