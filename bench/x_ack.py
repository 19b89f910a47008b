"""Webhook acknowledgement latency of the X channel while the assistant is busy.

    .venv/bin/python -m bench.x_ack [--people 10 50] [--quick]

Starts, on 127.0.0.1: the action server, the X emulator and Rasa with its X channel, whose
webhook is served twice: by Rasa's own route, on the loop that runs inference, and by the
ingress thread (``ingress_port``), and by a separate ingress process
(``python -m connectors.x.ingress``). The three URLs are registered with the emulator, so every
DM is delivered to all three at the same moment (the inbox keeps one copy). N people then
write at once, and the emulator records how long each door took to answer 200. The script
prints p50 and p99 per door and their ratios, plus the time from a DM to the first reply
reaching the emulator, and writes bench/results/x_ack.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "permanence.tar.gz"
RASA = Path(sys.executable).parent / "rasa"
SANDBOX = {
    "X_CONSUMER_KEY": "sandbox-consumer-key",
    "X_CONSUMER_SECRET": "sandbox-consumer-secret",
    "X_ACCESS_TOKEN": "sandbox-access-token",
    "X_ACCESS_TOKEN_SECRET": "sandbox-access-token-secret",
    "X_BEARER_TOKEN": "sandbox-bearer-token",
}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def control(base: str, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(people_counts: list[int]) -> dict:
    from scripts.x_register import Credentials, register

    tmp = Path(tempfile.mkdtemp(prefix="bench-x-ack-"))
    rasa_port, actions_port, x_port, ingress_port, process_port = (free_port() for _ in range(5))
    x_base = f"http://127.0.0.1:{x_port}"
    rasa_door = f"http://127.0.0.1:{rasa_port}/webhooks/x/webhook"
    ingress_door = f"http://127.0.0.1:{ingress_port}/webhooks/x/webhook"
    process_door = f"http://127.0.0.1:{process_port}/webhooks/x/webhook"
    credentials = tmp / "credentials.yml"
    credentials.write_text((ROOT / "credentials.yml").read_text() + "\n".join([
        "", "connectors.x.XInput:",
        *(f"  {k[2:].lower()}: {v}" for k, v in SANDBOX.items()),
        f"  api_base_url: {x_base}", f"  ingress_port: {ingress_port}", ""]))
    env = {**os.environ, "PERMANENCE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
           "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
           "SANIC_HOST": "127.0.0.1", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    logs = open(tmp / "servers.log", "w")  # noqa: SIM115
    processes = [
        subprocess.Popen([sys.executable, "-m", "sandbox.x_emulator", "--port", str(x_port),
                          "--webhook-url", ingress_door, "--log-level", "WARNING"],
                         cwd=ROOT, env={**env, **SANDBOX}, stdout=logs, stderr=logs),
        subprocess.Popen([str(RASA), "run", "actions", "--actions", "actions",
                          "--port", str(actions_port)], cwd=ROOT, env=env, stdout=logs,
                         stderr=logs),
        subprocess.Popen([str(RASA), "run", "--model", str(MODEL), "--credentials",
                          str(credentials), "--endpoints", "endpoints.yml", "--interface",
                          "127.0.0.1", "--port", str(rasa_port)], cwd=ROOT, env=env,
                         stdout=logs, stderr=logs),
        subprocess.Popen([sys.executable, "-m", "connectors.x.ingress", "--port",
                          str(process_port)], cwd=ROOT, env={**env, **SANDBOX},
                         stdout=logs, stderr=logs),
    ]
    results: dict = {"runs": []}
    try:
        wait_http(f"{x_base}/_control/info")
        wait_http(f"http://127.0.0.1:{rasa_port}/")
        wait_http(f"{ingress_door}?crc_token=up")
        wait_http(f"{process_door}?crc_token=up")
        creds = Credentials(**{k[2:].lower(): v for k, v in SANDBOX.items()})
        register(x_base, rasa_door, creds)
        register(x_base, process_door, creds)
        control(x_base, "POST", "/_control/dm", {"sender_id": "1000", "text": "bonjour"})
        time.sleep(3)  # warm-up: model loaded, first turn done
        for people in people_counts:
            control(x_base, "POST", "/_control/reset", {"webhooks": False})
            senders = [str(random.randrange(10**15, 10**18)) for _ in range(people)]
            sent_at: dict[str, float] = {}

            def write(sender: str, sent_at: dict[str, float] = sent_at) -> None:
                sent_at[sender] = time.time()
                control(x_base, "POST", "/_control/dm", {
                    "sender_id": sender, "text": "bonjour, la mairie a refusé mon permis de "
                    "construire pour une extension", "wait": False})

            with ThreadPoolExecutor(max_workers=people) as pool:
                list(pool.map(write, senders))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                outbox = control(x_base, "GET", "/_control/outbox")
                first = {}
                for dm in outbox["dms"]:
                    first.setdefault(dm["recipient_id"], dm["created_at"])
                if all(s in first for s in senders):
                    break
                time.sleep(0.5)
            items = control(x_base, "GET", "/_control/deliveries")
            doors = {rasa_door: "rasa_loop", ingress_door: "thread", process_door: "process"}
            by_door: dict[str, list[float]] = {name: [] for name in doors.values()}
            for item in items:
                if item.get("latency_ms") is None or item.get("status") != 200:
                    continue
                by_door[doors[item["url"]]].append(item["latency_ms"])
            reply_s = []
            for sender in senders:
                if sender in first:
                    created = datetime.fromisoformat(first[sender].replace("Z", "+00:00"))
                    reply_s.append(created.timestamp() - sent_at[sender])
            run_result = {
                "people": people,
                "ack_ms": {door: {"p50": round(percentile(v, 0.5), 1),
                                  "p99": round(percentile(v, 0.99), 1), "n": len(v)}
                           for door, v in by_door.items() if v},
                "first_reply_s": {"p50": round(statistics.median(reply_s), 2),
                                  "p99": round(percentile(reply_s, 0.99), 2),
                                  "answered": len(reply_s)} if reply_s else None,
            }
            acks = run_result["ack_ms"]
            for door in ("thread", "process"):
                if door in acks and "rasa_loop" in acks:
                    run_result[f"ack_p99_ratio_{door}_over_rasa_loop"] = round(
                        acks[door]["p99"] / max(acks["rasa_loop"]["p99"], 0.001), 3)
            results["runs"].append(run_result)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        logs.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--quick", action="store_true", help="10 people only")
    args = parser.parse_args(argv)
    results = run([10] if args.quick else args.people)
    results["machine"] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    out = ROOT / "bench" / "results" / "x_ack.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"{'people':>6} {'door':<10} {'ack p50 ms':>10} {'ack p99 ms':>10}   "
          "first reply p50/p99 s")
    for run_result in results["runs"]:
        reply = run_result["first_reply_s"] or {}
        for door, ack in run_result["ack_ms"].items():
            print(f"{run_result['people']:>6} {door:<10} {ack['p50']:>10} {ack['p99']:>10}   "
                  f"{reply.get('p50')}/{reply.get('p99')}")
        for door in ("thread", "process"):
            if f"ack_p99_ratio_{door}_over_rasa_loop" in run_result:
                print(f"{'':>6} {door} / rasa loop p99 ratio: "
                      f"{run_result[f'ack_p99_ratio_{door}_over_rasa_loop']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
