"""The servers a ``Stack`` starts exit without the interpreter's final garbage collection
(sandbox/fast_exit/sitecustomize.py), after their own atexit handlers."""

from __future__ import annotations

import subprocess
import sys

from sandbox.stack import FAST_EXIT, Stack

PROGRAM = """
import atexit

class Cycle:
    def __del__(self):
        print("collected", flush=True)

cycle = Cycle()
cycle.itself = cycle
del cycle
atexit.register(lambda: print("atexit", flush=True))
"""


def run(env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.split()


def test_a_stacks_servers_skip_the_final_collection_after_their_atexit_handlers(tmp_path):
    env = Stack(tmp_path, x_mode=None).server_env()
    assert env["PYTHONPATH"].split(":")[0] == str(FAST_EXIT)
    assert run(env) == ["atexit"]
    # Without it, the final collection finalizes the cycle (what the servers spent seconds on).
    plain = {key: value for key, value in env.items() if key != "PYTHONPATH"}
    assert run(plain) == ["atexit", "collected"]
