"""Start the real action server and Rasa server on free 127.0.0.1 ports, once per test session.

They use the trained model (models/permanence.tar.gz, built by `make train`) and a temporary
SQLite database, so that tests can read what the tracker store really kept. The X emulator
(sandbox/x_emulator) runs too, and Rasa gets a temporary credentials file with the X channel
pointed at it (sandbox credentials), so the X channel is tested against the same servers.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "permanence.tar.gz"
RASA = Path(sys.executable).parent / "rasa"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


# The emulator's default sandbox credentials (sandbox/x_emulator/README.md); not secrets.
X_SANDBOX_CREDENTIALS = {
    "X_CONSUMER_KEY": "sandbox-consumer-key",
    "X_CONSUMER_SECRET": "sandbox-consumer-secret",
    "X_ACCESS_TOKEN": "sandbox-access-token",
    "X_ACCESS_TOKEN_SECRET": "sandbox-access-token-secret",
    "X_BEARER_TOKEN": "sandbox-bearer-token",
}


def x_credentials_file(path: Path, api_base_url: str, ingress_port: int) -> Path:
    """credentials.yml plus the X channel on the emulator, written to ``path``; the webhook is
    also served by the ingress thread on ``ingress_port``."""
    x_section = "\n".join([
        "",
        "connectors.x.XInput:",
        f"  consumer_key: {X_SANDBOX_CREDENTIALS['X_CONSUMER_KEY']}",
        f"  consumer_secret: {X_SANDBOX_CREDENTIALS['X_CONSUMER_SECRET']}",
        f"  access_token: {X_SANDBOX_CREDENTIALS['X_ACCESS_TOKEN']}",
        f"  access_token_secret: {X_SANDBOX_CREDENTIALS['X_ACCESS_TOKEN_SECRET']}",
        f"  bearer_token: {X_SANDBOX_CREDENTIALS['X_BEARER_TOKEN']}",
        "  mode: webhook",
        f"  api_base_url: {api_base_url}",
        f"  ingress_port: {ingress_port}",
        "",
    ])
    path.write_text((ROOT / "credentials.yml").read_text() + x_section)
    return path


@dataclass
class Servers:
    base_url: str
    db_path: Path
    x_base_url: str = ""
    x_ingress_url: str = ""
    x_consumer_secret: str = ""

    def x_control(self, method: str, path: str, body: dict | None = None) -> Any:
        """A call to the X emulator's control API (``/_control/...``), decoded."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.x_base_url}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def say(self, sender: str, text: str) -> list[dict]:
        """One REST turn: the bot's messages in answer to ``text``."""
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def stored_events(self, sender: str) -> list[dict]:
        """The events the tracker store kept for ``sender``, oldest first."""
        with sqlite3.connect(self.db_path) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def stored_slots(self, sender: str) -> dict:
        slots: dict = {}
        for event in self.stored_events(sender):
            if event.get("event") == "slot":
                slots[event["name"]] = event["value"]
        return slots


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    tmp = tmp_path_factory.mktemp("e2e")
    db_path = tmp / "permanence.db"
    rasa_port, actions_port, x_port = free_port(), free_port(), free_port()
    ingress_port = free_port()
    x_base_url = f"http://127.0.0.1:{x_port}"
    credentials = x_credentials_file(tmp / "credentials.yml", x_base_url, ingress_port)
    env = {
        **os.environ,
        "PERMANENCE_DATABASE_URL": f"sqlite:///{db_path}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "SANIC_HOST": "127.0.0.1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    names = ("actions.log", "rasa.log", "x_emulator.log")
    logs = [open(tmp / name, "w") for name in names]  # noqa: SIM115
    emulator = subprocess.Popen(
        [sys.executable, "-m", "sandbox.x_emulator", "--host", "127.0.0.1", "--port", str(x_port),
         "--webhook-url", f"http://127.0.0.1:{ingress_port}/webhooks/x/webhook"],
        cwd=ROOT, env={**env, **X_SANDBOX_CREDENTIALS}, stdout=logs[2], stderr=subprocess.STDOUT,
    )
    actions = subprocess.Popen(
        [str(RASA), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [str(RASA), "run", "--model", str(MODEL), "--credentials", str(credentials),
         "--endpoints", "endpoints.yml", "--interface", "127.0.0.1", "--port", str(rasa_port)],
        cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{actions_port}/health", actions)
        wait_http(f"{x_base_url}/_control/info", emulator)
        wait_http(f"http://127.0.0.1:{rasa_port}/", rasa)
        wait_http(f"http://127.0.0.1:{ingress_port}/webhooks/x/webhook?crc_token=up", rasa)
        yield Servers(base_url=f"http://127.0.0.1:{rasa_port}", db_path=db_path,
                      x_base_url=x_base_url,
                      x_ingress_url=f"http://127.0.0.1:{ingress_port}",
                      x_consumer_secret=X_SANDBOX_CREDENTIALS["X_CONSUMER_SECRET"])
    finally:
        for process in (rasa, actions, emulator):
            process.terminate()
        for process in (rasa, actions, emulator):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
        rasa_log = (tmp / "rasa.log").read_text(errors="replace")
        if "Traceback" in rasa_log:
            print(rasa_log[-5000:])
