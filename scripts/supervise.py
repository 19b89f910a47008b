"""Run several servers and restart each one on its own when it dies (``make run``).

    python scripts/supervise.py "actions=.venv/bin/rasa run actions" "rasa=.venv/bin/rasa run"

Each ``NAME=COMMAND`` is a program (``COMMAND`` split as a shell would, without a shell). What
it does, and why:

- **Restart on its own.** When a program exits, for any reason and with any code, it is started
  again after a delay; the others keep running (the X channel's durable inbox answers what
  arrived meanwhile). Each start and exit is one log line on stderr (name, pid, exit code or
  signal, uptime, next delay), never the programs' own output, which goes to the same terminal.
- **Backoff, capped.** The delay doubles with each crash that came soon after its start
  (``--stable-seconds``): ``--backoff`` × 2^n, at most ``--backoff-max``. A program that ran
  longer than that is restarted after ``--backoff`` and its count starts again.
- **Giving up.** After ``--max-quick-crashes`` crashes in a row, each soon after its start, the
  program cannot run (a bad model, a port in use, a missing secret): the supervisor says so,
  stops the others and exits with 1, rather than loop for ever.
- **Stopping.** SIGINT (Ctrl-C) or SIGTERM is forwarded to every program, which gets
  ``--stop-timeout`` seconds to stop before SIGKILL; a second signal kills at once. Exit 0.
  Each program runs in a process group of its own, so that a terminal's Ctrl-C reaches it
  once, through the supervisor, and on Linux it gets SIGTERM if the supervisor itself dies.

Standard library only; the pure parts (:func:`parse_program`, :func:`delay`) are tested apart
from the process handling (``tests/scripts/test_supervise.py``).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Policy:
    backoff: float = 1.0
    backoff_max: float = 30.0
    stable_seconds: float = 60.0
    max_quick_crashes: int = 5
    stop_timeout: float = 20.0


def parse_program(spec: str) -> tuple[str, list[str]]:
    """``"name=command args"`` → ``("name", ["command", "args"])``; ValueError when malformed."""
    name, separator, command = spec.partition("=")
    name = name.strip()
    if not separator or not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"expected NAME=COMMAND (NAME letters, digits, - or _): {spec!r}")
    argv = shlex.split(command)
    if not argv:
        raise ValueError(f"{name}: empty command")
    return name, argv


def delay(policy: Policy, quick_crashes: int) -> float:
    """Seconds before the next start, after ``quick_crashes`` crashes in a row soon after start."""
    return min(policy.backoff * 2 ** quick_crashes, policy.backoff_max)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the supervisor dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Program:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float | None = 0.0  # start now

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class GaveUp(Exception):
    pass


class Supervisor:
    def __init__(self, programs: Sequence[tuple[str, list[str]]], policy: Policy = Policy(),
                 log: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        names = [name for name, _ in programs]
        if len(set(names)) != len(names):
            raise ValueError(f"program names must differ: {names}")
        self.programs = [Program(name, list(argv)) for name, argv in programs]
        self.policy = policy
        self.log = log or _stderr
        self.clock = clock
        self.stop_signal: int | None = None
        self.kill_now = False

    # --- signals -------------------------------------------------------------------------------
    def request_stop(self, signum: int, _frame: object = None) -> None:
        if self.stop_signal is not None:
            self.kill_now = True
            return
        self.stop_signal = signum

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)

    # --- the loop ------------------------------------------------------------------------------
    def run(self) -> int:
        """Supervise until a stop signal (0) or a program that keeps crashing (1)."""
        try:
            while self.stop_signal is None:
                self.step()
                time.sleep(POLL_SECONDS)
        except GaveUp as error:
            self.log(str(error))
            self.stop(signal.SIGTERM)
            return 1
        self.log(f"{signal.Signals(self.stop_signal).name} received: stopping "
                 f"{', '.join(p.name for p in self.programs if p.running) or 'nothing'}")
        self.stop(self.stop_signal)
        self.log("stopped")
        return 0

    def step(self) -> None:
        """Start what is due, notice what exited (and plan its restart)."""
        now = self.clock()
        for program in self.programs:
            if program.process is not None and program.process.poll() is not None:
                self._exited(program, now)
            if program.process is None and program.restart_at is not None \
                    and now >= program.restart_at and self.stop_signal is None:
                self._start(program, now)

    def _start(self, program: Program, now: float) -> None:
        try:
            program.process = subprocess.Popen(  # noqa: S603 - the operator's own commands
                program.argv, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        except OSError as error:  # not found, not executable: a crash at start
            self.log(f"{program.name} could not start: {error}")
            program.started_at = now
            self._plan_restart(program, now, now)
            return
        program.started_at = now
        program.restart_at = None
        self.log(f"{program.name} started (pid {program.process.pid})")

    def _exited(self, program: Program, now: float) -> None:
        assert program.process is not None
        returncode = program.process.returncode
        program.process = None
        self.log(f"{program.name} {describe_exit(returncode)} after "
                 f"{now - program.started_at:.1f} s")
        self._plan_restart(program, now, program.started_at)

    def _plan_restart(self, program: Program, now: float, started_at: float) -> None:
        if now - started_at >= self.policy.stable_seconds:
            program.quick_crashes = 0
        else:
            program.quick_crashes += 1
            if program.quick_crashes >= self.policy.max_quick_crashes:
                raise GaveUp(
                    f"giving up: {program.name} stopped {program.quick_crashes} times in a row "
                    f"within {self.policy.stable_seconds:g} s of starting; see its output above, "
                    f"fix the cause, then start again")
        wait = delay(self.policy, program.quick_crashes)
        program.restart_at = now + wait
        self.log(f"{program.name} restarting in {wait:g} s")

    # --- stopping ------------------------------------------------------------------------------
    def stop(self, signum: int) -> None:
        """Forward ``signum`` to every program; SIGKILL what is left after the timeout."""
        running = [p for p in self.programs if p.running]
        for program in running:
            _signal_group(program, signum)
        deadline = self.clock() + self.policy.stop_timeout
        while any(p.running for p in running) and self.clock() < deadline and not self.kill_now:
            time.sleep(POLL_SECONDS)
        for program in running:
            if program.running:
                self.log(f"{program.name} did not stop: SIGKILL")
                _signal_group(program, signal.SIGKILL)
            assert program.process is not None
            program.process.wait()
            program.process = None


def _signal_group(program: Program, signum: int) -> None:
    assert program.process is not None
    try:
        os.killpg(program.process.pid, signum)
    except ProcessLookupError:
        pass


def _stderr(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} supervise: {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run servers; restart each one on its own when it dies.")
    parser.add_argument("programs", nargs="+", metavar="NAME=COMMAND")
    defaults = Policy()
    parser.add_argument("--backoff", type=float, default=defaults.backoff,
                        help="first delay before a restart, in seconds")
    parser.add_argument("--backoff-max", type=float, default=defaults.backoff_max)
    parser.add_argument("--stable-seconds", type=float, default=defaults.stable_seconds,
                        help="a crash sooner than this after the start counts as quick")
    parser.add_argument("--max-quick-crashes", type=int, default=defaults.max_quick_crashes,
                        help="give up after this many quick crashes in a row")
    parser.add_argument("--stop-timeout", type=float, default=defaults.stop_timeout)
    args = parser.parse_args(argv)
    try:
        programs = [parse_program(spec) for spec in args.programs]
        supervisor = Supervisor(programs, Policy(
            backoff=args.backoff, backoff_max=args.backoff_max,
            stable_seconds=args.stable_seconds, max_quick_crashes=args.max_quick_crashes,
            stop_timeout=args.stop_timeout))
    except ValueError as error:
        parser.error(str(error))
    supervisor.install_signal_handlers()
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
