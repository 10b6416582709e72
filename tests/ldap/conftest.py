from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import ldap3
import pytest

from tests.clients import connection
from tests.support import DEMO_CSV, RunningServer, demo_config, running_server


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
    """A demo server that also publishes cancelled members.

    Its export gives cancelled Jonas Weber Alex Demo's password hash, so a
    refused bind shows that being cancelled, not a missing hash, refuses it.
    """
    workdir = tmp_path_factory.mktemp("cancelled")
    members_csv = workdir / "members.csv"
    members_csv.write_text(_with_password_of_alex("M-2017"), encoding="utf-8")
    config = demo_config(members_csv, directory={"include_cancelled": "true"})
    with running_server(config, workdir) as server:
        yield server


def _with_password_of_alex(member_id: str) -> str:
    """The demo export with Alex Demo's password hash copied to ``member_id``."""
    with DEMO_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    (alex,) = (r for r in rows if r["Member ID"] == "M-2001")
    (target,) = (r for r in rows if r["Member ID"] == member_id)
    target["Password Hash"] = alex["Password Hash"]

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
