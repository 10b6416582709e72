from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import RunningServer, demo_config, running_server


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server on the bundled demo export, shared by read-only tests."""
    workdir = tmp_path_factory.mktemp("demo-server")
    with running_server(demo_config(), workdir) as server:
        yield server
