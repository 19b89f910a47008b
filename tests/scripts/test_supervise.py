"""scripts/supervise.py with tiny programs (sh, sleep, python -c): restart on its own with a
capped backoff, giving up on a program that keeps crashing, signals forwarded, nothing left
running. The real servers under it: tests/security/test_supervised_restart.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scripts.supervise import Policy, Supervisor, delay, describe_exit, parse_program

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = [sys.executable, str(ROOT / "scripts" / "supervise.py")]
FAST = ["--backoff", "0.05", "--backoff-max", "0.2", "--stop-timeout", "5"]


def wait_until(probe, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead: its parent has not reaped it yet.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


class Run:
    """supervise.py as a process, its log (stderr) in a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.log_path = tmp_path / "supervise.log"
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen([*SUPERVISE, *args], stdout=self.log_file,
                                        stderr=self.log_file, cwd=tmp_path)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def pids(self, name: str) -> list[int]:
        return [int(pid) for pid in re.findall(rf"{name} started \(pid (\d+)\)", self.log)]

    def wait(self, timeout: float = 15.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log_file.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


@pytest.fixture
def run(tmp_path):
    started: list[Run] = []

    def _run(*args: str) -> Run:
        started.append(Run(tmp_path, *args))
        return started[-1]

    yield _run
    for each in started:
        each.close()


# --- pure parts --------------------------------------------------------------------------------

def test_parse_program() -> None:
    assert parse_program("rasa=.venv/bin/rasa run --port 5005") == (
        "rasa", [".venv/bin/rasa", "run", "--port", "5005"])
    assert parse_program("x-ingress='/a b/python' -m connectors.x.ingress") == (
        "x-ingress", ["/a b/python", "-m", "connectors.x.ingress"])


@pytest.mark.parametrize("spec", ["rasa", "=sleep 1", "rasa=", "rasa=   ", "a b=sleep 1",
                                  "rasa=sleep 'unclosed"])
def test_parse_program_refuses(spec) -> None:
    with pytest.raises(ValueError):
        parse_program(spec)


def test_delay_doubles_and_is_capped() -> None:
    policy = Policy(backoff=1, backoff_max=30)
    assert [delay(policy, n) for n in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_describe_exit() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "killed by SIGKILL"


def test_names_must_differ() -> None:
    with pytest.raises(ValueError):
        Supervisor([("a", ["true"]), ("a", ["true"])])


# --- in process: restarts and giving up ---------------------------------------------------------

def supervise_in_thread(supervisor: Supervisor) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run()), daemon=True)
    thread.start()
    return thread, result


def test_a_program_that_keeps_crashing_is_given_up_with_backoff(tmp_path) -> None:
    starts = tmp_path / "starts"
    lines: list[str] = []
    supervisor = Supervisor(
        [("crash", ["sh", "-c", f"date +%s.%N >> {starts}; exit 3"]),
         ("steady", ["sleep", "60"])],
        Policy(backoff=0.1, backoff_max=0.4, stable_seconds=10, max_quick_crashes=4,
               stop_timeout=5), log=lines.append)

    thread, result = supervise_in_thread(supervisor)
    thread.join(timeout=20)

    assert result == [1]
    times = [float(line) for line in starts.read_text().split()]
    assert len(times) == 4  # started, then restarted 3 times, then given up
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.4  # 0.2, 0.4, then capped
    assert [line for line in lines if "restarting in" in line] == [
        "crash restarting in 0.2 s", "crash restarting in 0.4 s", "crash restarting in 0.4 s"]
    assert "crash exited with code 3" in "\n".join(lines)
    assert lines[-1].startswith("giving up: crash stopped 4 times in a row within 10 s")
    # The other program was stopped too, and started only once.
    steady = supervisor.programs[1]
    assert sum(line.startswith("steady started") for line in lines) == 1
    assert steady.process is None


def test_a_program_that_ran_long_enough_is_always_restarted(tmp_path) -> None:
    starts = tmp_path / "starts"
    lines: list[str] = []
    supervisor = Supervisor(
        [("flaky", ["sh", "-c", f"echo . >> {starts}; sleep 0.3; exit 1"])],
        Policy(backoff=0.05, backoff_max=1, stable_seconds=0.2, max_quick_crashes=2,
               stop_timeout=5), log=lines.append)

    thread, result = supervise_in_thread(supervisor)
    wait_until(lambda: starts.exists() and len(starts.read_text().split()) >= 4)
    supervisor.request_stop(signal.SIGTERM)
    thread.join(timeout=10)

    assert result == [0]
    assert not any("giving up" in line for line in lines)
    # Each crash came after a stable run: the delay never grows.
    assert {line for line in lines if "restarting in" in line} == {"flaky restarting in 0.05 s"}
    assert lines[-1] == "stopped"


def test_a_command_that_cannot_start_is_given_up() -> None:
    lines: list[str] = []
    supervisor = Supervisor([("ghost", ["/nonexistent/server"])],
                            Policy(backoff=0.01, max_quick_crashes=3), log=lines.append)
    assert supervisor.run() == 1
    assert sum("ghost could not start" in line for line in lines) == 3
    assert "giving up: ghost" in lines[-1]


# --- as a process: kill -9 of one program, signals ----------------------------------------------

def test_kill_9_of_one_program_restarts_it_alone(run) -> None:
    supervise = run(*FAST, "--stable-seconds", "0", "a=sleep 60", "b=sleep 60")
    (a_first,) = wait_until(lambda: supervise.pids("a"))
    (b_first,) = wait_until(lambda: supervise.pids("b"))

    os.kill(a_first, signal.SIGKILL)

    a_second = wait_until(lambda: supervise.pids("a")[1:])[0]
    assert a_second != a_first and alive(a_second)
    assert supervise.pids("b") == [b_first] and alive(b_first)
    assert "a killed by SIGKILL after" in supervise.log
    assert "a restarting in 0.05 s" in supervise.log
    supervise.process.send_signal(signal.SIGINT)
    assert supervise.wait() == 0
    assert not alive(a_second) and not alive(b_first)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_signal_is_forwarded_and_everything_stops(run, tmp_path, signum) -> None:
    got = tmp_path / "got"
    catcher = (f"import signal, sys, time; "
               f"signal.signal({int(signum)}, lambda n, f: (open({str(got)!r}, 'w')"
               f".write(str(n)), sys.exit(0))); time.sleep(60)")
    supervise = run(*FAST, f"catcher={sys.executable} -c {catcher!r}", "other=sleep 60")
    (catcher_pid,) = wait_until(lambda: supervise.pids("catcher"))
    (other_pid,) = wait_until(lambda: supervise.pids("other"))
    time.sleep(0.5)  # the catcher's handler is installed

    supervise.process.send_signal(signum)

    assert supervise.wait() == 0
    assert got.read_text() == str(int(signum))
    assert not alive(catcher_pid) and not alive(other_pid)
    assert f"{signum.name} received: stopping" in supervise.log
    assert supervise.log.rstrip().endswith("supervise: stopped")
    assert len(supervise.pids("catcher")) == 1  # not restarted while stopping


def test_a_program_that_ignores_the_signal_is_killed_after_the_timeout(run) -> None:
    stubborn = "trap '' TERM INT; while :; do sleep 0.05; done"
    supervise = run("--stop-timeout", "0.5", f"stubborn=sh -c {stubborn!r}")
    (pid,) = wait_until(lambda: supervise.pids("stubborn"))
    time.sleep(0.3)

    began = time.monotonic()
    supervise.process.send_signal(signal.SIGTERM)

    assert supervise.wait() == 0
    assert 0.4 < time.monotonic() - began < 5
    assert "stubborn did not stop: SIGKILL" in supervise.log
    assert not alive(pid)


def test_a_second_signal_kills_at_once(run) -> None:
    stubborn = "trap '' TERM INT; while :; do sleep 0.05; done"
    supervise = run("--stop-timeout", "60", f"stubborn=sh -c {stubborn!r}")
    (pid,) = wait_until(lambda: supervise.pids("stubborn"))
    time.sleep(0.3)

    supervise.process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    supervise.process.send_signal(signal.SIGINT)

    assert supervise.wait(timeout=10) == 0
    assert not alive(pid)


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_programs_stop_when_the_supervisor_is_killed(run) -> None:
    supervise = run(*FAST, "a=sleep 60")
    (pid,) = wait_until(lambda: supervise.pids("a"))

    supervise.process.kill()
    supervise.wait()

    wait_until(lambda: not alive(pid), timeout=5)


def test_a_malformed_program_is_refused(run) -> None:
    supervise = run("sleep 60")
    assert supervise.wait() == 2
    assert "expected NAME=COMMAND" in supervise.log
