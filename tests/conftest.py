"""Shared fixtures: a fresh database per test, on SQLite and optionally PostgreSQL.

Tests that take ``fresh_database_url`` (through the desk's ``empty_url`` or the X store's
``store_url``) run once per backend:

- ``sqlite``: always; a file in ``tmp_path``.
- ``postgres``: only when ``PERMANENCE_TEST_POSTGRES_URL`` is set (an existing server, e.g.
  ``postgresql://user:pass@127.0.0.1:5432/test``), or when ``PERMANENCE_TEST_POSTGRES_THROWAWAY=1``
  (a throwaway server started by :func:`start_throwaway_postgres` from Debian's
  ``/usr/lib/postgresql/*/bin``, on 127.0.0.1, as ``nobody`` when run as root; ``make test`` sets
  it). Otherwise the postgres parameter is not generated at all. A set but unreachable URL fails.

Each postgres test works in its own schema (``search_path`` set through the URL), dropped after
the test; one server serves the whole session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL_VAR = "PERMANENCE_TEST_POSTGRES_URL"
THROWAWAY_VAR = "PERMANENCE_TEST_POSTGRES_THROWAWAY"
SERVER_USER = "nobody"


def database_backends() -> list[str]:
    wanted = os.environ.get(POSTGRES_URL_VAR) or os.environ.get(THROWAWAY_VAR) == "1"
    return ["sqlite", "postgres"] if wanted else ["sqlite"]


# ----------------------------------------------------------- throwaway PostgreSQL


@dataclass
class ThrowawayPostgres:
    bindir: Path
    base: Path
    port: int
    as_user: list[str]

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgresql://permanence@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir)]
            + ["-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def _postgres_bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_throwaway_postgres() -> ThrowawayPostgres:
    """initdb into a temporary directory and start a server on 127.0.0.1 (trust auth, no fsync).

    PostgreSQL refuses to run as root, so under root the directory is given to ``nobody`` and
    the commands run through ``runuser``. Call ``stop()`` to shut it down and delete it."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.fail(f"{THROWAWAY_VAR}=1 but no PostgreSQL binaries (initdb) were found")
    base = Path(tempfile.mkdtemp(prefix="permanence-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", SERVER_USER, "--"]
    server = ThrowawayPostgres(bindir=bindir, base=base, port=_free_port(), as_user=as_user)
    initdb = [str(bindir / "initdb"), "-D", str(server.datadir), "-U", "permanence"]
    initdb += ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base} -c fsync=off"
    start = [str(bindir / "pg_ctl"), "-D", str(server.datadir), "-l", str(base / "server.log")]
    start += ["-o", options, "-w", "-t", "60", "start"]
    for command in (initdb, start):
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = base / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            server.stop()
            pytest.fail(
                f"throwaway PostgreSQL: {Path(command[0]).name} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}\n{tail}"
            )
    return server


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL server to test against (only requested by the postgres parameter)."""
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        engine = create_engine(url, future=True, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure means unreachable
            pytest.fail(
                f"{POSTGRES_URL_VAR} is set but the server is unreachable "
                f"({type(error).__name__}): unset it to run on SQLite only",
                pytrace=False,
            )
        finally:
            engine.dispose()
        yield url
        return
    server = start_throwaway_postgres()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=database_backends())
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: an SQLite file, or a schema of its own on PostgreSQL
    (dropped after the test). Tests that take it run once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base_url = request.getfixturevalue("postgres_url")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
