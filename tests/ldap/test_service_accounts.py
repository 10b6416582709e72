"""Service account passwords given as hashes, files or environment variables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest

from ldapbridge.directory.passwords import hash_password
from tests.ldap import wire
from tests.support import RunningServer, demo_config, running_server

SERVICES = "ou=services,dc=example,dc=com"
ENV_NAME = "LDAPBRIDGE_TEST_SYNC_PASSWORD"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    """One account per way of giving a password."""
    workdir = tmp_path_factory.mktemp("services")
    secret_file = workdir / "reporting.secret"
    secret_file.write_text("file-secret-55\n", encoding="utf-8")
    config = demo_config(
        service__bcrypted={"password": hash_password("bcrypt-secret-11")},
        service__argoned={"password": argon2.PasswordHasher().hash("argon-secret-22")},
        service__filed={"password_file": str(secret_file)},
        service__enved={"password_env": ENV_NAME},
        service__dollar={"password": "$2cool-but-plain"},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_NAME, "env-secret-33")
        with running_server(config, workdir) as running:
            yield running


def bind(server: RunningServer, name: str, password: str) -> int | None:
    payload = wire.bind_request(1, f"cn={name},{SERVICES}", password)
    return wire.exchange(server, payload, 1)[0].code


class TestServicePasswords:
    @pytest.mark.parametrize(
        ("name", "password"),
        [
            ("bcrypted", "bcrypt-secret-11"),
            ("argoned", "argon-secret-22"),
            ("filed", "file-secret-55"),
            ("enved", "env-secret-33"),
            ("dollar", "$2cool-but-plain"),
        ],
    )
    def test_right_password_binds(
        self, server: RunningServer, name: str, password: str
    ) -> None:
        """Each form of configured password accepts the password it holds."""
        assert bind(server, name, password) == 0

    @pytest.mark.parametrize("name", ["bcrypted", "argoned", "filed", "enved"])
    def test_wrong_password_gets_invalid_credentials(
        self, server: RunningServer, name: str
    ) -> None:
        """A wrong password is 49 whatever the form."""
        assert bind(server, name, "papercut-demo") == 49

    def test_the_hash_itself_is_not_a_password(self, server: RunningServer) -> None:
        """Sending the configured hash as the password fails."""
        config = (server.log_path.parent / "bridge.conf").read_text()
        hashed = config.split("[service.bcrypted]\npassword = ")[1].split("\n")[0]
        assert hashed.startswith("$2b$")
        assert bind(server, "bcrypted", hashed) == 49

    def test_secrets_are_not_logged(self, server: RunningServer) -> None:
        """No configured secret shows in the server's log."""
        bind(server, "filed", "file-secret-55")
        log = server.log()
        for secret in ("file-secret-55", "env-secret-33", "bcrypt-secret-11"):
            assert secret not in log
        assert "reason=service" in log


def test_missing_password_file_names_the_key(tmp_path: Path) -> None:
    """An unreadable password_file stops the start with the section and key."""
    config = demo_config(service__papercut={"password_file": str(tmp_path / "nope")})
    config = config.replace("password = papercut-demo\n", "")
    with (
        pytest.raises(RuntimeError) as failed,
        running_server(config, tmp_path / "run"),
    ):
        pass
    assert "[service.papercut] password_file: expected a readable file" in str(
        failed.value
    )
