"""SIGHUP reloads the config and directory without dropping connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ldap3

from tests.service.helpers import (
    hangup,
    metrics_config,
    metrics_url,
    scrape,
    value,
    wait_for_log,
    write_config,
)
from tests.support import (
    BASE_DN,
    DEMO_CSV,
    PEOPLE_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    RunningServer,
    demo_config,
    ldap_tool,
    running_server,
)

NEW_MEMBER = (
    "M-3001,Nova Newcomer,nova.newcomer@example.com,,Night Owls,Hot Desk,"
    "Mill Lane,0000777001,,Active,\n"
)
RELOADS = "ldapbridge_config_reloads_total"
REFUSED = "reload refused, still serving the previous config and directory: "


@contextmanager
def service_connection(server: RunningServer) -> Iterator[ldap3.Connection]:
    """One LDAP connection bound as PaperCut's service account."""
    connection = ldap3.Connection(
        ldap3.Server(server.host, port=server.port),
        SERVICE_DN,
        SERVICE_PASSWORD,
        auto_bind=True,
        raise_exceptions=False,
    )
    try:
        yield connection
    finally:
        connection.unbind()


def member_uids(connection: ldap3.Connection) -> set[str]:
    connection.search(BASE_DN, "(objectClass=posixAccount)", attributes=["uid"])
    assert connection.result["result"] == 0, connection.result
    return {str(e.uid.value) for e in connection.entries}


def export_with_new_member(tmp_path: Path) -> Path:
    path = tmp_path / "members-new.csv"
    path.write_text(DEMO_CSV.read_text(encoding="utf-8") + NEW_MEMBER, "utf-8")
    return path


class TestReloadWithChangedConfig:
    def test_new_member_appears_on_a_connection_opened_before(
        self, tmp_path: Path
    ) -> None:
        """A changed export path brings its new member to an already-open session."""
        with running_server(metrics_config(), tmp_path / "server") as server:
            url = metrics_url(server)
            with service_connection(server) as connection:
                before = member_uids(connection)

                new_export = export_with_new_member(tmp_path)
                write_config(server, metrics_config(new_export))
                hangup(server)
                wait_for_log(server, "reloaded config")
                after = member_uids(connection)
            samples = scrape(url)

        assert len(before) == 46
        assert after - before == {"nova.newcomer@example.com"}
        assert len(after) == 47
        assert value(samples, RELOADS, outcome="success") == 1
        assert value(samples, "ldapbridge_snapshot_members") == 47

    def test_changed_listener_port_is_logged_as_needing_a_restart(
        self, tmp_path: Path
    ) -> None:
        """A new ldap_port is not applied live; each reload says a restart is needed."""
        warning = (
            "[server] ldap_port is 10999 in the config but 0 in force: "
            "restart ldapbridge to apply it"
        )
        with running_server(metrics_config(), tmp_path) as server:
            write_config(server, metrics_config(server={"ldap_port": "10999"}))
            hangup(server)
            wait_for_log(server, "reloaded config")
            hangup(server)
            log = wait_for_log(server, "reloaded config", count=2)
            still_served = ldap_tool(
                "ldapwhoami", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD
            )

        # The second reload warns again: the listener still has the old port.
        assert log.count(warning) == 2
        assert still_served.returncode == 0

    def test_lower_log_level_applies_after_the_reload(self, tmp_path: Path) -> None:
        """After a reload to level warn, operations are no longer logged."""
        with running_server(metrics_config(), tmp_path) as server:
            write_config(server, metrics_config(logging={"level": "warn"}))
            hangup(server)
            wait_for_log(server, "reloaded config")
            searched = ldap_tool(
                "ldapsearch", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD,
                "-b", PEOPLE_DN, "(uid=alex.demo@example.com)",
            )  # fmt: skip
            # A refused reload logs an error: a marker that the search's line,
            # had it been written, would be in the log by now.
            write_config(server, "[server]\nldap_port = banana\n")
            hangup(server)
            log = wait_for_log(server, "reload refused")

        after_reload = log[log.index("reloaded config") :]
        assert searched.returncode == 0
        assert "op=search" not in after_reload
        assert "reloading config from" not in after_reload


class TestReloadWithBrokenConfig:
    def test_invalid_config_is_refused_and_old_directory_kept(
        self, tmp_path: Path
    ) -> None:
        """A bad value is refused with its reason; the open session is unaffected."""
        with running_server(metrics_config(), tmp_path) as server:
            url = metrics_url(server)
            with service_connection(server) as connection:
                before = member_uids(connection)

                write_config(
                    server, metrics_config(directory={"profile": "open-directory"})
                )
                hangup(server)
                log = wait_for_log(server, "reload refused")
                after = member_uids(connection)
            fresh_connection = ldap_tool(
                "ldapwhoami", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD
            )
            samples = scrape(url)

        assert (
            REFUSED + "[directory] profile: expected one of unix, ad, edirectory, "
            "found 'open-directory'" in log
        )
        assert after == before
        assert len(after) == 46
        assert fresh_connection.returncode == 0
        assert value(samples, RELOADS, outcome="failure") == 1
        assert value(samples, RELOADS, outcome="success") == 0

    def test_unreadable_export_is_refused_and_old_directory_kept(
        self, tmp_path: Path
    ) -> None:
        """A source that cannot be read refuses the reload; members stay served."""
        missing = tmp_path / "gone.csv"
        with (
            running_server(metrics_config(), tmp_path / "server") as server,
            service_connection(server) as connection,
        ):
            write_config(server, metrics_config(missing))
            hangup(server)
            log = wait_for_log(server, "reload refused")
            after = member_uids(connection)

        assert (
            REFUSED
            + f"the source failed: cannot read member file {missing}: "
            + "No such file or directory"
            in log
        )
        assert len(after) == 46


REAL_EXPORT = (
    "Member ID,Full Name,Email,Status\nR-1,Real Person,real@example.org,Active\n"
)


class TestReloadedSafetySettings:
    def test_demo_password_brought_in_by_a_reload_is_refused_off_loopback(
        self, tmp_path: Path
    ) -> None:
        """A server listening beyond loopback refuses a reload to the demo
        password, as it would refuse to start with it."""
        export = tmp_path / "members.csv"
        export.write_text(REAL_EXPORT, encoding="utf-8")
        real = {"password": "a-long-real-secret"}
        public = {"bind_address": "0.0.0.0"}
        with running_server(
            demo_config(export, server=public, service__papercut=real),
            tmp_path / "server",
        ) as server:
            write_config(server, demo_config(export, server=public))
            hangup(server)
            log = wait_for_log(server, "reload refused")

        assert (
            REFUSED + "[server] bind_address: expected a loopback address while "
            "[service.papercut] password is the public demo password, found 0.0.0.0"
            in log
        )

    def test_new_connection_limit_applies_to_new_connections(
        self, tmp_path: Path
    ) -> None:
        """After a reload to max_connections = 1, a second connection is refused
        while the first, opened before, keeps working."""
        with (
            running_server(metrics_config(), tmp_path) as server,
            service_connection(server) as first,
        ):
            write_config(server, metrics_config(limits={"max_connections": "1"}))
            hangup(server)
            wait_for_log(server, "reloaded config")
            second = ldap_tool(
                "ldapwhoami", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD
            )
            still = member_uids(first)

        assert second.returncode != 0
        assert len(still) == 46

    def test_requiring_tls_applies_to_the_next_bind(self, tmp_path: Path) -> None:
        """A reload that takes loopback out of cleartext_password_networks makes
        the next cleartext password bind get confidentialityRequired (13)."""
        with running_server(metrics_config(), tmp_path) as server:
            before = ldap_tool(
                "ldapwhoami", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD
            )
            strict = {
                "require_tls_for_passwords": "true",
                "cleartext_password_networks": "192.0.2.0/24",
            }
            write_config(server, metrics_config(security=strict))
            hangup(server)
            wait_for_log(server, "reloaded config")
            after = ldap_tool(
                "ldapwhoami", server, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD
            )

        assert (before.returncode, after.returncode) == (0, 13)
