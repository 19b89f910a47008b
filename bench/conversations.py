"""1. N people hold the scripted triage at once, through X (webhook mode, against the X
emulator) and through Rasa's REST channel: the same model, server and run, rounds interleaved.

For each N: messages per second (people's messages answered, over the round's wall time) and
the latency of a turn: on REST the HTTP request; on X from the webhook POST to the DM that ends
the answer reaching the emulator. Ratios X / REST, and the X path's overhead (X − REST) at the
median. The webhook acknowledgements of the X rounds are kept too (section 2 reads them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from bench.drive import (
    REST_SCRIPT,
    X_SCRIPT,
    Emulator,
    OutboxWatcher,
    Reference,
    Round,
    rest_round,
    x_round,
)
from bench.progress import note
from bench.stats import ratio, rounded, summary


def describe(result: Round) -> dict[str, Any]:
    latencies = [t.latency_ms for t in result.completed]
    by_turn: dict[int, list[float]] = {}
    for turn in result.completed:
        by_turn.setdefault(turn.index, []).append(turn.latency_ms)
    return {
        "people": result.people,
        "messages": len(result.completed),
        "failed": len(result.turns) - len(result.completed),
        "wall_s": round(result.wall_s, 2),
        "messages_per_s": round(len(result.completed) / result.wall_s, 2)
        if result.wall_s else None,
        "latency_ms": summary(latencies),
        "p50_by_turn_ms": [summary(by_turn[index])["p50"] for index in sorted(by_turn)],
        "first_message_ms": summary([t.first_ms for t in result.completed
                                     if t.first_ms is not None]),
        "errors": dict(Counter(t.error for t in result.turns if t.error)),
    }


def combine(rounds: Sequence[Round]) -> Round:
    """Several rounds of one channel and size, as one (their turns and wall times added)."""
    merged = Round(rounds[0].channel, rounds[0].people)
    for part in rounds:
        merged.turns += part.turns
        merged.wall_s += part.wall_s
        merged.acks_ms += part.acks_ms
    return merged


def compare(x: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    xl, rl = x["latency_ms"], rest["latency_ms"]
    return {
        "throughput_ratio": ratio(x["messages_per_s"], rest["messages_per_s"]),
        "p50_ratio": ratio(xl["p50"], rl["p50"]),
        "p95_ratio": ratio(xl["p95"], rl["p95"]),
        "p99_ratio": ratio(xl["p99"], rl["p99"]),
        "p50_overhead_ms": rounded(xl["p50"] - rl["p50"])
        if None not in (xl["p50"], rl["p50"]) else None,
    }


async def run(session: aiohttp.ClientSession, rasa_url: str, emulator: Emulator,
              watcher: OutboxWatcher, reference: Reference, sizes: Sequence[int],
              repeats: Mapping[int, int] | None = None, *, rest_token: str) -> dict[str, Any]:
    """For each size, ``repeats[size]`` (default 1) pairs of rounds, the channel order
    alternating (X then REST, REST then X, ...) so that neither channel always runs on a
    warmer or more loaded server. Size 1 is one person at a time: the path's own cost."""
    results: list[dict[str, Any]] = []
    acks: dict[int, list[float]] = {}
    flips = 0
    for size in sizes:
        rounds: dict[str, list[Round]] = {"x": [], "rest": []}
        for _ in range((repeats or {}).get(size, 1)):
            order = ("x", "rest") if flips % 2 == 0 else ("rest", "x")
            flips += 1
            for channel in order:
                if channel == "x":
                    rounds["x"].append(await x_round(emulator, watcher, size, X_SCRIPT,
                                                     reference))
                else:
                    rounds["rest"].append(await rest_round(session, rasa_url, size,
                                                           REST_SCRIPT, token=rest_token))
        x, rest = combine(rounds["x"]), combine(rounds["rest"])
        acks[size] = x.acks_ms
        described = {"x": describe(x), "rest": describe(rest)}
        results.append({"people": size, **described, **compare(described["x"],
                                                                described["rest"])})
        who = "1 person" if size == 1 else f"{size} people"
        note(f"conversations, {who}: X {described['x']['messages_per_s']} msg/s, "
             f"REST {described['rest']['messages_per_s']} msg/s")
    return {"script_turns": len(X_SCRIPT), "repeats": dict(repeats or {}), "sizes": results,
            "acks_ms": {size: summary(values) for size, values in acks.items()}}
