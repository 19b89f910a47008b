"""Start the whole assistant on 127.0.0.1: X emulator, action server, Rasa (one or more), and
the Mastodon emulator with the Mastodon channel when asked (``mastodon=True``).

One launcher for the end-to-end tests (``tests/e2e/conftest.py``), the benchmarks (``bench/``)
and anything else that needs the real servers on loopback with the X channel pointed at the
emulator. Every port is free and chosen at start; every file lives in ``workdir``.

    with Stack(workdir, x_mode="webhook") as stack:
        stack.say("person-1", "bonjour")           # REST turn, conversation "rest:person-1"
        stack.stored_events("rest:person-1")       # what the tracker store kept
        stack.x_control("POST", "/_control/dm", {"sender_id": "42", "text": "bonjour"})
        stack.kill_rasa(); stack.start_rasa()      # kill -9 and restart, same ports and database
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from connectors.mastodon import config as mastodon_config
from sandbox.mastodon_emulator.config import DEFAULT_ACCESS_TOKEN as MASTODON_SANDBOX_TOKEN
from sandbox.x_emulator.config import ENV_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
MODEL = ROOT / "models" / "permanence.tar.gz"
RASA = Path(sys.executable).parent / "rasa"

# On the servers' PYTHONPATH: they exit as soon as they have shut down (its sitecustomize.py).
FAST_EXIT = Path(__file__).resolve().parent / "fast_exit"

# The emulator's sandbox credentials ({"X_CONSUMER_KEY": "sandbox-consumer-key", ...}): they
# only open the emulator, they are not secrets.
X_SANDBOX_CREDENTIALS = {env: default for env, (_, default) in ENV_CREDENTIALS.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen | None = None, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def wait_for(probe: Callable[[], T], timeout: float = 60.0, interval: float = 0.05) -> T:
    """The first truthy value of ``probe()`` within ``timeout`` seconds, else the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def http_json(method: str, url: str, body: Any = None, headers: dict | None = None,
              timeout: float = 60) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def x_channel_section(api_base_url: str, mode: str, ingress_port: int | None = None,
                      extra: dict[str, Any] | None = None) -> str:
    """The ``connectors.x.XInput`` block of a credentials file, on the sandbox credentials."""
    lines = ["", "connectors.x.XInput:"]
    lines += [f"  {env[2:].lower()}: {value}" for env, value in X_SANDBOX_CREDENTIALS.items()]
    lines += [f"  mode: {mode}", f"  api_base_url: {api_base_url}", "  hashtags: [droitautweet]"]
    if ingress_port:
        lines.append(f"  ingress_port: {ingress_port}")
    for key, value in (extra or {}).items():
        lines.append(f"  {key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def x_screen_name(user: str) -> str:
    """The handle :meth:`Stack.x_send_dm` gives the X user ``user`` (a numeric id): one per id
    (its digits in base 36), so that people of several tests can share an emulator; at most
    15 characters, as on X."""
    number, digits = int(user), ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return f"c{digits}"


@dataclass
class Stack:
    """The servers, started by :meth:`start` and stopped by :meth:`stop` (or ``with``).

    ``x_mode``: ``"webhook"`` (the emulator delivers signed webhooks to the ingress thread:
    Account Activity bodies, or X Activity API ones with ``x_intake="xaa"``), ``"stream"`` (the
    channel reads the emulator's ``GET /2/activity/stream``, X Activity API subscriptions made
    at start), ``"polling"`` (the channel reads the emulator's ``/2/dm_events`` and search), or
    ``None`` (no X channel, no emulator). ``database_url`` defaults to an SQLite file in
    ``workdir``.
    ``rasa_count`` > 1 starts several Rasa servers on the same database (each with its own
    ports); ``env`` is added to every server's environment (e.g. a lock store).
    ``mastodon``: start the Mastodon emulator (``sandbox/mastodon_emulator``) and the Mastodon
    channel pointed at it (``MASTODON_*`` in the servers' environment, more in
    ``mastodon_env``, e.g. ``MASTODON_LIVENESS_SECONDS``); :meth:`mastodon_control` calls its
    control API, :meth:`mastodon_texts` reads what the account sent to a person.
    ``api_token`` turns on Rasa's HTTP API (``--enable-api``) behind that token; see
    :meth:`rasa_api`. ``rest_token`` opens the REST door (``connectors/rest.py``,
    ``PERMANENCE_REST_TOKEN`` in the servers' environment): random unless given; :meth:`say`
    sends it. A REST sender ``s`` speaks in the conversation ``rest:s``; X people's
    conversations are ``x:<X user id>`` (:meth:`x_conversation`); :meth:`stored_events` and
    the other readers of the tracker store take conversation ids.
    """

    workdir: Path
    x_mode: str | None = "webhook"
    x_intake: str = "aaa"
    database_url: str | None = None
    rasa_count: int = 1
    env: dict[str, str] = field(default_factory=dict)
    x_extra: dict[str, Any] = field(default_factory=dict)
    mastodon: bool = False
    mastodon_env: dict[str, str] = field(default_factory=dict)
    endpoints: Path = ROOT / "endpoints.yml"
    model: Path = MODEL
    quiet_emulator: bool = False
    api_token: str | None = None
    rest_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / "permanence.db"
        self.x_db_path = self.workdir / "permanence-x.db"  # permanence.settings.x_database_url
        self.database_url = self.database_url or f"sqlite:///{self.db_path}"
        self.actions_port = free_port()
        self.x_port = free_port()
        self.rasa_ports = [free_port() for _ in range(self.rasa_count)]
        self.ingress_ports = [free_port() for _ in range(self.rasa_count)]
        self.x_base_url = f"http://127.0.0.1:{self.x_port}" if self.x_mode else ""
        self.mastodon_base_url = f"http://127.0.0.1:{free_port()}" if self.mastodon else ""
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: list[IO[str]] = []

    # --- addresses ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.rasa_url(0)

    def rasa_url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def x_ingress_url(self) -> str:
        return self.ingress_url(0)

    def ingress_url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.ingress_ports[index]}" if self.x_mode == "webhook" else ""

    @property
    def x_consumer_secret(self) -> str:
        return X_SANDBOX_CREDENTIALS["X_CONSUMER_SECRET"]

    def server_env(self) -> dict[str, str]:
        pythonpath = os.pathsep.join(filter(None, [str(FAST_EXIT),
                                                   os.environ.get("PYTHONPATH")]))
        return {
            **os.environ,
            "PYTHONPATH": pythonpath,
            "PERMANENCE_DATABASE_URL": str(self.database_url),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "SANIC_HOST": "127.0.0.1",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PERMANENCE_REST_TOKEN": self.rest_token,
            **self.mastodon_server_env(),
            **self.env,
        }

    def mastodon_server_env(self) -> dict[str, str]:
        if not self.mastodon:
            return {}
        return {mastodon_config.BASE_URL_ENV: self.mastodon_base_url,
                mastodon_config.TOKEN_ENV: MASTODON_SANDBOX_TOKEN, **self.mastodon_env}

    def credentials_file(self, index: int = 0) -> Path:
        path = self.workdir / f"credentials.{index}.yml"
        text = (ROOT / "credentials.yml").read_text()
        if self.x_mode:
            ingress = self.ingress_ports[index] if self.x_mode == "webhook" else None
            text += x_channel_section(self.x_base_url, self.x_mode, ingress, self.x_extra)
        if self.mastodon:
            text += "\nconnectors.mastodon.MastodonInput:\n"
        path.write_text(text)
        return path

    # --- processes ---------------------------------------------------------------------------
    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "a")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_emulator(self) -> None:
        command = [sys.executable, "-m", "sandbox.x_emulator", "--host", "127.0.0.1",
                   "--port", str(self.x_port)]
        if self.x_mode == "webhook":
            command += ["--webhook-url", f"{self.ingress_url(0)}/webhooks/x/webhook",
                        "--subscribe", self.x_intake]
        elif self.x_mode == "stream":
            command += ["--subscribe", "xaa"]  # to the stream only: no webhook
        else:
            command += ["--webhook-url", f"http://127.0.0.1:{free_port()}/unused"]
        if self.quiet_emulator:
            command += ["--log-level", "WARNING"]
        # The channel's tests send many DMs quickly: the recorded 2022 limits unless the Stack's
        # env asks for X's 2026 ones (X_SANDBOX_LIMITS=x-2026; tests/sandbox checks those).
        process = self._spawn("x_emulator", command, {
            "X_SANDBOX_LIMITS": "legacy-2022", **self.server_env(), **X_SANDBOX_CREDENTIALS})
        wait_http(f"{self.x_base_url}/_control/info", process)

    def start_mastodon_emulator(self) -> None:
        """The Mastodon emulator, its private mentions filtered as on Mastodon >= 4.3 (the
        channel accepts them when it starts)."""
        port = self.mastodon_base_url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "sandbox.mastodon_emulator", "--host", "127.0.0.1",
                   "--port", port]
        if self.quiet_emulator:
            command += ["--log-level", "WARNING"]
        process = self._spawn("mastodon_emulator", command, self.server_env())
        wait_http(f"{self.mastodon_base_url}/api/v1/streaming/health", process)

    def start_actions(self, wait: bool = True) -> subprocess.Popen:
        # As scripts/run.sh: a keep-alive longer than Rasa's pool keeps idle connections.
        env = {"SANIC_KEEP_ALIVE_TIMEOUT": "75", **self.server_env()}
        process = self._spawn("actions", [str(RASA), "run", "actions", "--actions", "actions",
                                          "--port", str(self.actions_port)], env)
        if wait:
            self.wait_actions()
        return process

    def wait_actions(self) -> None:
        wait_http(f"http://127.0.0.1:{self.actions_port}/health", self.processes["actions"])

    def start_rasa(self, index: int = 0, wait: bool = True) -> subprocess.Popen:
        name = "rasa" if index == 0 else f"rasa{index}"
        api = ["--enable-api", "--auth-token", self.api_token] if self.api_token else []
        process = self._spawn(name, [
            str(RASA), "run", "--model", str(self.model),
            "--credentials", str(self.credentials_file(index)),
            "--endpoints", str(self.endpoints), "--interface", "127.0.0.1",
            "--port", str(self.rasa_ports[index]), *api], self.server_env())
        if wait:
            self.wait_rasa(index)
        return process

    def wait_rasa(self, index: int = 0) -> None:
        name = "rasa" if index == 0 else f"rasa{index}"
        process = self.processes[name]
        wait_http(f"{self.rasa_url(index)}/", process)
        if self.x_mode == "webhook":
            wait_http(f"{self.ingress_url(index)}/webhooks/x/webhook?crc_token=up", process)
        if self.mastodon:  # the account known and its private mentions accepted
            url = f"{self.rasa_url(index)}/webhooks/mastodon/"
            if not wait_for(lambda: http_json("GET", url)["ready"], 120, 0.2):
                raise TimeoutError("the Mastodon channel did not become ready")

    def kill_rasa(self, index: int = 0) -> None:
        """``kill -9`` the Rasa server: no shutdown hook runs."""
        process = self.processes["rasa" if index == 0 else f"rasa{index}"]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def start(self) -> Stack:
        if not self.model.exists():
            raise FileNotFoundError(f"{self.model} is missing: run `make train` first")
        try:
            if self.x_mode:  # first (a second or two): Rasa's X channel calls it as it starts
                self.start_emulator()
            if self.mastodon:
                self.start_mastodon_emulator()
            # The action server and the Rasa servers boot side by side (Rasa calls the action
            # server only when a message comes, and neither touches the database before).
            self.start_actions(wait=False)
            for index in range(self.rasa_count):
                self.start_rasa(index, wait=False)
            self.wait_actions()
            for index in range(self.rasa_count):
                self.wait_rasa(index)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- talking to it -----------------------------------------------------------------------
    def x_control(self, method: str, path: str, body: dict | None = None) -> Any:
        """A call to the X emulator's control API (``/_control/...``), decoded."""
        return http_json(method, f"{self.x_base_url}{path}", body, timeout=30)

    def mastodon_control(self, method: str, path: str, body: dict | None = None) -> Any:
        """A call to the Mastodon emulator's control API (``/_control/...``), decoded."""
        return http_json(method, f"{self.mastodon_base_url}{path}", body, timeout=30)

    def mastodon_post(self, username: str, text: str) -> dict:
        """A person (``username@avocats.social``) writes a direct status to the account."""
        answer = self.mastodon_control("POST", "/_control/post", {
            "username": username, "domain": "avocats.social", "text": text,
            "visibility": "direct"})
        if not answer["notification_id"] or answer["filtered"]:
            raise RuntimeError(f"the account was not notified: {answer}")
        return answer

    def mastodon_texts(self, username: str) -> list[str]:
        """The texts of the direct statuses the account sent to ``username``, oldest first."""
        acct = f"{username}@avocats.social"
        return [s["text"] for s in self.mastodon_control("GET", "/_control/sent")["statuses"]
                if s["visibility"] == "direct" and acct in s["mentions"]]

    def rasa_api(self, method: str, path: str, body: Any = None, index: int = 0) -> Any:
        """A call to Rasa's HTTP API (``/conversations/...``); needs ``api_token``."""
        if not self.api_token:
            raise RuntimeError("Rasa's HTTP API is off: give the Stack an api_token")
        separator = "&" if "?" in path else "?"
        return http_json(method, f"{self.rasa_url(index)}{path}{separator}token={self.api_token}",
                         body)

    def x_send_dm(self, user: str, text: str, wait: bool = True) -> str:
        """A member of the public writes to the account (``/_control/dm``); the event id.
        With ``wait`` (webhook mode), the emulator delivers the signed webhook first and an
        answer other than 200 raises."""
        answer = self.x_control("POST", "/_control/dm", {
            "sender_id": user, "screen_name": x_screen_name(user), "text": text,
            "wait": wait})
        if wait and answer.get("delivery_status") != 200:
            raise RuntimeError(f"webhook delivery not acknowledged: {answer}")
        return answer["event_id"]

    def x_dm_texts(self, user: str) -> list[str]:
        """The texts of the DMs the account sent to ``user``, oldest first."""
        return [dm["text"] for dm in self.x_control("GET", "/_control/outbox")["dms"]
                if dm["recipient_id"] == user]

    def x_wait_dm_containing(self, user: str, needle: str, timeout: float = 60.0,
                             interval: float = 0.1) -> bool:
        return bool(wait_for(lambda: any(needle in text for text in self.x_dm_texts(user)),
                             timeout, interval))

    # --- what the servers kept (the default SQLite database) ----------------------------------
    def sql(self, query: str, *params: Any) -> list[tuple]:
        """A query on the SQLite database of the conversations and the desk."""
        with sqlite3.connect(self.db_path, timeout=30) as connection:
            return connection.execute(query, params).fetchall()

    def x_sql(self, query: str, *params: Any) -> list[tuple]:
        """A query on the X channel's SQLite store (``x_inbox``, ``x_outbox``...)."""
        with sqlite3.connect(self.x_db_path, timeout=30) as connection:
            return connection.execute(query, params).fetchall()

    def stored_events(self, conversation_id: str) -> list[dict]:
        """The events the tracker store kept for ``conversation_id`` (``rest:…``, ``x:…``,
        ``web:…``), oldest first."""
        rows = self.sql("SELECT data FROM events WHERE sender_id = ? ORDER BY id",
                        conversation_id)
        return [json.loads(data) for (data,) in rows]

    def stored_slots(self, conversation_id: str) -> dict:
        slots: dict = {}
        for event in self.stored_events(conversation_id):
            if event.get("event") == "slot":
                slots[event["name"]] = event["value"]
        return slots

    def user_message_ids(self, conversation_id: str) -> list[str]:
        """The message ids of the person's messages, as the tracker store kept them."""
        return [event.get("message_id") for event in self.stored_events(conversation_id)
                if event.get("event") == "user"]

    @staticmethod
    def x_conversation(user: str) -> str:
        """The conversation id of the X person ``user`` (an X user id)."""
        return f"x:{user}"

    @property
    def rest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.rest_token}"}

    def say(self, sender: str, text: str, index: int = 0) -> list[dict]:
        """One turn through the REST door as ``sender`` (conversation ``rest:<sender>``): the
        bot's messages in answer to ``text``."""
        return http_json("POST", f"{self.rasa_url(index)}/webhooks/rest/webhook",
                         {"sender": sender, "message": text}, headers=self.rest_headers)

    def press(self, sender: str, payload: str, index: int = 0) -> list[dict]:
        """A button of the assistant's last answer, through the REST door (``payload``; a
        typed ``/affirm`` would be text)."""
        return http_json("POST", f"{self.rasa_url(index)}/webhooks/rest/webhook",
                         {"sender": sender, "payload": payload}, headers=self.rest_headers)
