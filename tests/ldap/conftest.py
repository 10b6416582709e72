from __future__ import annotations

from collections.abc import Iterator

import ldap3
import pytest

from tests.clients import connection
from tests.support import RunningServer, demo_config, running_server


@pytest.fixture
def service(demo_server: RunningServer) -> Iterator[ldap3.Connection]:
    """An ldap3 connection to the demo server, bound as PaperCut's service DN."""
    with connection(demo_server) as conn:
        assert conn.bound, conn.result
        yield conn


@pytest.fixture(scope="session")
def cancelled_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    """A demo server that also publishes cancelled members."""
    config = demo_config(directory={"include_cancelled": "true"})
    with running_server(config, tmp_path_factory.mktemp("cancelled")) as server:
        yield server
