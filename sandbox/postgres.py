"""A throwaway PostgreSQL server on 127.0.0.1, for the tests and the benchmarks.

    server = start_throwaway_postgres()      # initdb into a temporary folder, start on a free port
    try:
        url = server.url                     # postgresql://permanence@127.0.0.1:<port>/postgres
    finally:
        server.stop()                        # stop it and delete the folder

It uses Debian's ``/usr/lib/postgresql/*/bin`` (the newest version found), else ``initdb`` on
the ``PATH``; trust authentication on loopback only, no fsync. PostgreSQL refuses to run as
root, so under root the folder is given to ``nobody`` and the commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "nobody"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries, or the server could not be created or started."""


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

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (None once stopped)."""
        pidfile = self.datadir / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir)]
            + ["-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def postgres_bindir() -> Path | None:
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


def start_throwaway_postgres(max_connections: int = 100) -> ThrowawayPostgres:
    """initdb into a temporary directory and start a server on 127.0.0.1 (trust auth, no
    fsync). Raises :class:`PostgresUnavailable` if it cannot. Call ``stop()`` to shut it down
    and delete it."""
    bindir = postgres_bindir()
    if bindir is None:
        raise PostgresUnavailable("no PostgreSQL binaries (initdb) were found")
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
    options += f" -c max_connections={max_connections}"
    start = [str(bindir / "pg_ctl"), "-D", str(server.datadir), "-l", str(base / "server.log")]
    start += ["-o", options, "-w", "-t", "60", "start"]
    for command in (initdb, start):
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = base / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            server.stop()
            raise PostgresUnavailable(
                f"{Path(command[0]).name} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}\n{tail}"
            )
    return server
