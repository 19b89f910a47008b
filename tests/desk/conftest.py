"""Fixtures for the desk tests: a fresh database per test, migrated to head by Alembic.

Backends (the ``desk_url`` fixture is parametrized over them): ``sqlite`` always (a file in
``tmp_path``); ``postgres`` when ``PERMANENCE_TEST_POSTGRES_URL`` is set or
``PERMANENCE_TEST_POSTGRES_THROWAWAY=1`` (a throwaway server on 127.0.0.1, started as in
``tests/x_store/conftest.py``, whose helper is copied here: conftest modules cannot import each
other). Each postgres test works in its own schema, dropped after the test.
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
from rasa.shared.core.domain import Domain
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from desk import db

POSTGRES_URL_VAR = "PERMANENCE_TEST_POSTGRES_URL"
THROWAWAY_VAR = "PERMANENCE_TEST_POSTGRES_THROWAWAY"
SERVER_USER = "nobody"
ROOT = Path(__file__).resolve().parents[2]


def _backends() -> list[str]:
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
        yield url
        return
    server = start_throwaway_postgres()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=_backends())
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL (no desk tables yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'desk.db'}"
        return
    base_url = request.getfixturevalue("postgres_url")
    schema = f"desk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        db.dispose_all()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def desk_url(empty_url: str) -> Iterator[str]:
    """A fresh database with the desk's tables at the head revision."""
    db.upgrade_to_head(empty_url)
    yield empty_url
    db.dispose_all()


@pytest.fixture
def factory(desk_url: str) -> sessionmaker:
    return db.session_factory(desk_url)


# ---------------------------------------------------------------------- trackers


@pytest.fixture(scope="session")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))
