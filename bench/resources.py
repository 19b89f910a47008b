"""5. Resources: the peak resident memory of the servers, and how long ``rasa train`` takes.

Peak RSS is the kernel's high-water mark (``VmHWM`` in ``/proc/<pid>/status``), read just
before a server stops, so it covers the whole benchmark. Training is not repeated by the
benchmark (about 4.5 minutes on 2 cores): ``make train`` times itself and records the figure
here (``python -m bench.resources record-train``), and the benchmark reports that record.

    python -m bench.resources record-train --since-ns <start, date +%s%N> [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
TRAIN_RECORD = ROOT / "bench" / "results" / "train.json"


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (MB), plus its children's if it has any."""
    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return None
    total_kb = 0
    for process in processes:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total_kb += int(line.split()[1])
    return round(total_kb / 1024, 1) if total_kb else None


class LoadSampler:
    """Samples, every ``interval`` seconds, how much CPU the whole machine used and how much
    of it went to the benchmark's own processes (this one, its descendants and the extra
    roots it registers, e.g. PostgreSQL's postmaster). On a shared machine the difference,
    other processes' use, says how much the figures were disturbed."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.roots: set[int] = {os.getpid()}
        self._seen: dict[int, float] = {}
        self._own = 0.0
        self._busy = 0.0
        self._elapsed = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-load", daemon=True)

    def __enter__(self) -> LoadSampler:
        self._last_system = psutil.cpu_times()
        self._last_at = time.monotonic()
        self._sample_own()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _tree(self) -> list[psutil.Process]:
        found: dict[int, psutil.Process] = {}
        for pid in list(self.roots):
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    found[process.pid] = process
            except psutil.Error:
                continue
        return list(found.values())

    def _sample_own(self) -> float:
        used = 0.0
        for process in self._tree():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total = times.user + times.system
            used += total - self._seen.get(process.pid, total)
            self._seen[process.pid] = total
        return used

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            now, system = time.monotonic(), psutil.cpu_times()
            idle = (system.idle + getattr(system, "iowait", 0.0)) - (
                self._last_system.idle + getattr(self._last_system, "iowait", 0.0))
            total = sum(system) - sum(self._last_system)
            self._busy += max(total - idle, 0.0)
            self._own += self._sample_own()
            self._elapsed += now - self._last_at
            self._last_system, self._last_at = system, now

    def summary(self) -> dict[str, float | None]:
        """Average cores busy: in all, the benchmark's processes, the others."""
        if not self._elapsed:
            return {"busy_cores": None, "bench_cores": None, "other_cores": None}
        busy, own = self._busy / self._elapsed, self._own / self._elapsed
        return {"busy_cores": round(busy, 2), "bench_cores": round(own, 2),
                "other_cores": round(max(busy - own, 0.0), 2)}


def record_train(seconds: float, model: Path, path: Path = TRAIN_RECORD) -> dict[str, Any]:
    record = {
        "train_s": round(seconds, 1),
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": str(model),
        "model_mb": round(model.stat().st_size / 2**20, 1) if model.exists() else None,
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def train_record(path: Path = TRAIN_RECORD) -> dict[str, Any] | None:
    """What ``make train`` recorded, or None if it never did."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record the wall time of `rasa train`.")
    sub = parser.add_subparsers(dest="command", required=True)
    record = sub.add_parser("record-train")
    record.add_argument("--since-ns", type=int, required=True,
                        help="when training started, in ns since the epoch (date +%%s%%N)")
    record.add_argument("--model", type=Path, default=ROOT / "models" / "permanence.tar.gz")
    args = parser.parse_args(argv)
    seconds = time.time() - args.since_ns / 1e9
    written = record_train(seconds, args.model)
    print(f"rasa train: {written['train_s']} s (recorded in "
          f"{TRAIN_RECORD.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
