"""A throwaway Redis server on 127.0.0.1 (no persistence), for the benchmarks' lock store.

    server = start_throwaway_redis()         # redis-server on a free loopback port
    try:
        server.port                          # e.g. lock_store: {type: redis, url: 127.0.0.1, ...}
    finally:
        server.stop()                        # stop it and delete its folder

It runs Debian's ``redis-server`` (``apt-get install redis-server``; ``make bench`` installs it
when run as root) with no RDB snapshots and no append-only file, in a temporary folder.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 20.0


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` binary, or the server did not start."""


@dataclass
class ThrowawayRedis:
    process: subprocess.Popen
    base: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_throwaway_redis() -> ThrowawayRedis:
    """Start ``redis-server`` on a free 127.0.0.1 port, without persistence; raises
    :class:`RedisUnavailable` if it cannot."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable("redis-server is not installed (Debian: apt-get install "
                               "redis-server; make bench does it when run as root)")
    base = Path(tempfile.mkdtemp(prefix="permanence-redis-"))
    port = _free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(base), "--daemonize", "no",
               "--protected-mode", "yes", "--logfile", str(base / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = ThrowawayRedis(process=process, base=base, port=port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = base / "redis.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            server.stop()
            raise RedisUnavailable(f"redis-server exited with {process.returncode}:\n{tail}")
        if _answers(port):
            return server
        time.sleep(0.1)
    server.stop()
    raise RedisUnavailable(f"redis-server did not answer within {START_TIMEOUT_SECONDS} s")
