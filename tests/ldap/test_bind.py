"""Simple binds, access rules and Who am I?, against a real server process."""

from __future__ import annotations

import time

import ldap3

from tests import demo
from tests.clients import (
    SERVICE_AUTH,
    connection,
    ldapsearch,
    search_entries,
    simple_bind,
)
from tests.support import (
    BASE_DN,
    GROUPS_DN,
    PEOPLE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    ldap_tool,
)

MEMBER_AUTH = ("-D", demo.ALEX_DN, "-w", demo.ALEX_PASSWORD)
BAD_CREDENTIALS = (
    "ldap_bind: Invalid credentials (49)\n\tadditional info: invalid credentials\n"
)
EMPTY_PASSWORD = (
    "ldap_bind: Server is unwilling to perform (53)\n"
    "\tadditional info: unauthenticated bind (a DN with no password) is not allowed\n"
)


# A wrong guess costs at least one check of a bcrypt hash of cost 10 (tens of
# milliseconds); answered without one, it takes well under a millisecond.
HASH_CHECK_MIN_S = 0.01


def refusal_s(server: RunningServer, dn: str, password: str) -> float:
    """The shortest of three refused binds' round trips, on one connection."""
    times = []
    with connection(server, user=None) as conn:
        for _ in range(3):
            began = time.monotonic()
            assert simple_bind(conn, dn, password)["result"] == 49
            times.append(time.monotonic() - began)
    return min(times)


def whoami(server: RunningServer, *auth: str) -> tuple[int, str, str]:
    done = ldap_tool("ldapwhoami", server, *auth)
    return done.returncode, done.stdout, done.stderr


class TestServiceBind:
    def test_service_account_binds_with_its_password(self, demo_server):
        """The configured service account binds and is told who it is."""
        assert whoami(demo_server, *SERVICE_AUTH) == (0, f"dn:{SERVICE_DN}\n", "")

    def test_service_account_with_wrong_password_is_refused(self, demo_server):
        """A wrong service password gets invalidCredentials (49)."""
        code, _, err = whoami(demo_server, "-D", SERVICE_DN, "-w", "papercut-dem0")
        assert (code, err) == (49, BAD_CREDENTIALS)

    def test_wrong_service_password_takes_as_long_as_an_unknown_dn(self, demo_server):
        """A service account's plain password is compared at once, but a miss
        is answered only after a hash check, as for a name that does not exist."""
        assert refusal_s(demo_server, SERVICE_DN, "papercut-dem0") >= HASH_CHECK_MIN_S

    def test_service_account_binds_with_ldap3(self, demo_server):
        """ldap3 binds as the service account with result success (0)."""
        with connection(demo_server) as conn:
            assert conn.bound is True
            assert conn.result["result"] == 0


class TestMemberBind:
    def test_member_binds_with_their_password(self, demo_server):
        """Alex Demo binds with the demo password; ldapwhoami prints the DN."""
        assert whoami(demo_server, *MEMBER_AUTH) == (0, f"dn:{demo.ALEX_DN}\n", "")

    def test_member_dn_is_matched_whatever_its_case_and_spacing(self, demo_server):
        """A bind DN in other case and with spaces after commas finds the member."""
        loose_dn = "UID=Alex.Demo@Example.COM, OU=People, DC=example, DC=com"
        with connection(demo_server, loose_dn, demo.ALEX_PASSWORD) as conn:
            assert conn.result["result"] == 0

    def test_wrong_password_and_unknown_dn_get_the_same_answer(self, demo_server):
        """Wrong password and unknown DN: both 49, with one diagnostic message."""
        wrong = whoami(demo_server, "-D", demo.ALEX_DN, "-w", "alex-demo-PW")
        unknown_dn = f"uid=nobody@example.com,{PEOPLE_DN}"
        unknown = whoami(demo_server, "-D", unknown_dn, "-w", "alex-demo-pw")

        assert wrong == (49, "", BAD_CREDENTIALS)
        assert unknown == wrong

    def test_wrong_password_and_unknown_dn_look_alike_to_ldap3(self, demo_server):
        """ldap3 sees result 49 and message "invalid credentials" for both."""
        unknown_dn = f"uid=nobody@example.com,{PEOPLE_DN}"
        outcomes = []
        for dn, password in ((demo.ALEX_DN, "nope"), (unknown_dn, "nope")):
            with connection(demo_server, dn, password) as conn:
                outcomes.append(
                    (conn.bound, conn.result["result"], conn.result["message"])
                )
        assert outcomes == [(False, 49, "invalid credentials")] * 2

    def test_password_with_extra_space_is_refused(self, demo_server):
        """Passwords are compared exactly: a trailing space makes it wrong."""
        code, _, err = whoami(demo_server, "-D", demo.ALEX_DN, "-w", "alex-demo-pw ")
        assert (code, err) == (49, BAD_CREDENTIALS)

    def test_member_without_password_hash_cannot_bind(self, demo_server):
        """A member whose export row has no password hash gets 49."""
        dn = demo.by_email("van.an@example.vn").dn
        code, _, err = whoami(demo_server, "-D", dn, "-w", "anything")
        assert (code, err) == (49, BAD_CREDENTIALS)

    def test_group_entry_cannot_bind(self, demo_server):
        """An existing entry that is no account (a group) gets 49."""
        code, _, err = whoami(demo_server, "-D", demo.group_dn("Hot Desk"), "-w", "x")
        assert (code, err) == (49, BAD_CREDENTIALS)

    def test_failed_bind_password_is_never_logged(self, demo_server):
        """The server log names the failed bind's reason, never the password."""
        whoami(demo_server, "-D", demo.ALEX_DN, "-w", "s3cret-never-logged")
        log = demo_server.log()
        assert "reason=wrong_password" in log
        assert "s3cret-never-logged" not in log


class TestEmptyPassword:
    def test_member_dn_with_empty_password_is_refused(self, demo_server):
        """ldapwhoami with -w '' is an unauthenticated bind: 53, not a login."""
        assert whoami(demo_server, "-D", demo.ALEX_DN, "-w", "") == (
            53,
            "",
            EMPTY_PASSWORD,
        )

    def test_service_dn_with_empty_password_is_refused(self, demo_server):
        """Even the service DN with an empty password is not authenticated."""
        code, _, _ = whoami(demo_server, "-D", SERVICE_DN, "-w", "")
        assert code == 53

    def test_empty_password_leaves_the_connection_anonymous(self, demo_server):
        """After an empty-password bind, searches still get 50 and whoami is empty."""
        with connection(demo_server, user=None) as conn:
            result = simple_bind(conn, demo.ALEX_DN, "")
            conn.search(PEOPLE_DN, "(objectClass=*)")
            search_code = conn.result["result"]
            conn.extend.standard.who_am_i()

            assert result["result"] == 53
            assert search_code == 50
            assert conn.result["responseValue"] == b""

    def test_failed_bind_drops_the_earlier_identity(self, demo_server):
        """A service connection that fails a later bind is anonymous again."""
        with connection(demo_server) as conn:
            assert simple_bind(conn, SERVICE_DN, "wrong")["result"] == 49
            conn.search(PEOPLE_DN, "(objectClass=*)")
            assert conn.result["result"] == 50


class TestAnonymous:
    def test_anonymous_reads_the_root_dse(self, demo_server):
        """Without a bind the root DSE is readable."""
        entries = search_entries(demo_server, "-b", "", "-s", "base", auth=())
        assert [e.dn for e in entries] == [""]
        assert entries[0].get("namingContexts") == [BASE_DN]

    def test_anonymous_search_of_the_tree_is_refused(self, demo_server):
        """Any other anonymous search gets insufficientAccessRights (50)."""
        for base in (BASE_DN, PEOPLE_DN, GROUPS_DN, demo.ALEX_DN):
            done = ldapsearch(demo_server, "-b", base, auth=())
            assert (done.returncode, done.stdout) == (50, ""), base

    def test_anonymous_subtree_search_from_the_root_is_refused(self, demo_server):
        """An anonymous subtree search with the empty base also gets 50."""
        done = ldapsearch(demo_server, "-b", "", "-s", "sub", auth=())
        assert done.returncode == 50

    def test_anonymous_ldap3_search_gets_50_with_a_reason(self, demo_server):
        """ldap3 without a bind: result 50 and a message saying to bind first."""
        with connection(demo_server, user=None) as conn:
            conn.search(BASE_DN, "(uid=alex.demo@example.com)")
            assert conn.result["result"] == 50
            assert conn.result["message"] == (
                "bind first: anonymous clients may read the root DSE only"
            )
            assert conn.entries == []

    def test_anonymous_compare_is_refused(self, demo_server):
        """ldapcompare without a bind gets 50."""
        done = ldap_tool("ldapcompare", demo_server, demo.ALEX_DN, "uid:x")
        assert done.returncode == 50

    def test_sasl_bind_is_not_supported(self, demo_server):
        """A SASL bind gets authMethodNotSupported (7)."""
        conn = ldap3.Connection(
            ldap3.Server(demo_server.host, port=demo_server.port),
            authentication=ldap3.SASL,
            sasl_mechanism=ldap3.EXTERNAL,
            raise_exceptions=False,
        )
        try:
            assert conn.bind() is False
            assert conn.result["result"] == 7
        finally:
            conn.unbind()


class TestMemberView:
    def test_member_sees_only_their_own_entry(self, demo_server):
        """Alex's subtree search of the whole tree returns Alex's entry alone."""
        entries = search_entries(demo_server, "-b", BASE_DN, "1.1", auth=MEMBER_AUTH)
        assert [e.dn for e in entries] == [demo.ALEX_DN]

    def test_member_does_not_see_another_member(self, demo_server):
        """A base search on another member's DN is noSuchObject (32) to Alex."""
        other = demo.by_email("sara.haddad@example.com").dn
        done = ldapsearch(demo_server, "-b", other, "-s", "base", auth=MEMBER_AUTH)
        assert (done.returncode, done.stdout) == (32, "")

    def test_member_does_not_see_groups(self, demo_server):
        """Groups, even Alex's own, are not visible to Alex (noSuchObject)."""
        done = ldapsearch(
            demo_server,
            "-b",
            GROUPS_DN,
            "(memberUid=alex.demo@example.com)",
            auth=MEMBER_AUTH,
        )
        assert (done.returncode, done.stdout) == (32, "")

    def test_member_reads_their_own_attributes(self, demo_server):
        """Alex reads their own card number and mail."""
        entries = search_entries(
            demo_server,
            "-b",
            demo.ALEX_DN,
            "-s",
            "base",
            "employeeNumber",
            "mail",
            auth=MEMBER_AUTH,
        )
        assert entries[0].attributes == {
            "mail": ["alex.demo@example.com"],
            "employeeNumber": ["0000424242"],
        }

    def test_member_paged_search_sees_only_their_entry(self, demo_server):
        """A paged search by Alex also yields Alex's entry alone."""
        with connection(demo_server, demo.ALEX_DN, demo.ALEX_PASSWORD) as conn:
            found = conn.extend.standard.paged_search(
                BASE_DN,
                "(objectClass=*)",
                attributes=["1.1"],
                paged_size=5,
                generator=False,
            )
            assert [e["dn"] for e in found] == [demo.ALEX_DN]

    def test_member_compare_on_another_entry_is_no_such_object(self, demo_server):
        """Alex comparing on someone else's entry gets noSuchObject (32)."""
        other = demo.by_email("sara.haddad@example.com").dn
        done = ldap_tool("ldapcompare", demo_server, *MEMBER_AUTH, other, "uid:x")
        assert done.returncode == 32


class TestCancelledMembers:
    def test_cancelled_members_are_left_out_by_default(self, demo_server):
        """The demo's cancelled members have no entry by default."""
        for row in demo.cancelled():
            done = ldapsearch(demo_server, "-b", row.dn, "-s", "base")
            assert done.returncode == 32, row.email

    def test_cancelled_member_cannot_bind_when_left_out(self, demo_server):
        """A left-out member's DN binds like any unknown DN: 49."""
        row = demo.by_email("ex@example.com")
        assert whoami(demo_server, "-D", row.dn, "-w", "x") == (49, "", BAD_CREDENTIALS)

    def test_cancelled_members_are_present_when_configured(self, cancelled_server):
        """With include_cancelled = true every row of the export has an entry."""
        entries = search_entries(
            cancelled_server, "-b", PEOPLE_DN, "(objectClass=posixAccount)", "1.1"
        )
        assert len(entries) == len(demo.rows())
        assert {row.dn for row in demo.cancelled()} <= {e.dn for e in entries}

    def test_published_cancelled_member_still_cannot_bind(self, cancelled_server):
        """A cancelled member with a valid password hash gets 49 all the same."""
        row = demo.by_email("jonas.weber@example.de")
        code, _, err = whoami(cancelled_server, "-D", row.dn, "-w", demo.ALEX_PASSWORD)
        assert (code, err) == (49, BAD_CREDENTIALS)
        assert "reason=inactive_member" in cancelled_server.log()

    def test_cancelled_member_is_refused_after_a_hash_check(self, cancelled_server):
        """A published cancelled member is refused no faster than an unknown DN."""
        row = demo.by_email("jonas.weber@example.de")
        assert refusal_s(cancelled_server, row.dn, "guess") >= HASH_CHECK_MIN_S

    def test_active_member_binds_on_the_server_with_cancelled(self, cancelled_server):
        """Publishing cancelled members does not stop active ones binding."""
        assert whoami(cancelled_server, *MEMBER_AUTH) == (0, f"dn:{demo.ALEX_DN}\n", "")


class TestWhoAmI:
    def test_whoami_of_the_service_account(self, demo_server):
        """ldapwhoami as the service account prints its DN."""
        assert whoami(demo_server, *SERVICE_AUTH)[1] == f"dn:{SERVICE_DN}\n"

    def test_whoami_of_a_member(self, demo_server):
        """ldapwhoami as Alex prints Alex's DN."""
        assert whoami(demo_server, *MEMBER_AUTH)[1] == f"dn:{demo.ALEX_DN}\n"

    def test_whoami_of_anonymous(self, demo_server):
        """ldapwhoami without credentials prints "anonymous"."""
        assert whoami(demo_server) == (0, "anonymous\n", "")

    def test_whoami_with_ldap3(self, demo_server):
        """ldap3's who_am_i returns the authzId "dn:<bound DN>"."""
        with connection(demo_server, SERVICE_DN, SERVICE_PASSWORD) as conn:
            assert conn.extend.standard.who_am_i() == f"dn:{SERVICE_DN}"
