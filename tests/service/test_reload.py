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
