"""4. Scaling out: two Rasa server processes on one PostgreSQL database (tracker store, X
store, desk) and one Redis lock store, X webhooks spread over both.

The same N people run the script on X against one Rasa process, then against two: the bench
posts each DM's webhook, signed as X signs it, to the processes' ingress ports in turn (the
emulator has no webhook then; it only records the DMs, so that it accepts the replies). The
inbox, the outbox and the lock store are shared, so either process may answer anyone. Every
person's DMs are then compared with the reference run: none may come out of order, twice, or
not at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.conversations import describe
from bench.drive import (
    X_SCRIPT,
    Emulator,
    OutboxWatcher,
    Reference,
    Round,
    SignedDelivery,
    check_order,
    x_round,
)
from bench.progress import note
from bench.stats import ratio, summary
from sandbox.stack import ROOT, Stack

GRACE_SECONDS = 2.0  # after a round, for a late duplicate to show up


def endpoints_with_redis_lock_store(workdir: Path, redis_port: int) -> Path:
    """The project's endpoints plus a Redis lock store on 127.0.0.1:``redis_port``."""
    path = workdir / "endpoints.redis.yml"
    path.write_text((ROOT / "endpoints.yml").read_text().rstrip("\n") + "\n\n" + "\n".join([
        "# Added by the benchmark: conversations locked across processes.",
        "lock_store:", "  type: redis", "  url: 127.0.0.1", f"  port: {redis_port}",
        "  db: 0", "  key_prefix: bench", ""]))
    return path


def create_schema(database_url: str) -> None:
    """Create the tables the servers create at start (desk, X store, tracker store), so that
    two processes started at once do not race to create them."""
    import warnings

    from desk.db import upgrade_to_head
    from permanence.x_store import Store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Rasa 3.6 on SQLAlchemy 1.4: deprecation warnings
        from permanence.tracker_store import ConfidentialSQLTrackerStore

        upgrade_to_head(database_url)
        Store.create(database_url).close()
        ConfidentialSQLTrackerStore(url=database_url).engine.dispose()


def order_check(result: Round, watcher: OutboxWatcher, reference: Reference) -> dict[str, int]:
    people = {turn.person for turn in result.turns}
    totals = {"people": len(people), "duplicates": 0, "missing": 0, "out_of_order": 0}
    for person in people:
        found = check_order([dm.text for dm in watcher.dms(person)], reference.texts)
        for key, value in found.items():
            totals[key] += value
    return totals


async def measure(emulator: Emulator, watcher: OutboxWatcher, reference: Reference,
                  people: int, ingress_urls: Sequence[str]) -> dict[str, Any]:
    delivery = SignedDelivery(emulator, ingress_urls)
    result = await x_round(emulator, watcher, people, X_SCRIPT, reference, deliver=delivery)
    await asyncio.sleep(GRACE_SECONDS)
    return {**describe(result), "processes": len(ingress_urls),
            "webhook_failures": delivery.failures, "ack_ms": summary(delivery.acks_ms),
            "order": order_check(result, watcher, reference)}


async def run(stack: Stack, emulator: Emulator, watcher: OutboxWatcher, reference: Reference,
              people: int, one_process_first: bool = True) -> dict[str, Any]:
    """With ``one_process_first``, the second Rasa process is started after the one-process
    round; otherwise both already run and only the two-process round is measured."""
    await emulator.deliver_only(None)
    single = None
    if one_process_first:
        single = await measure(emulator, watcher, reference, people, [stack.ingress_url(0)])
        note(f"scale: 1 process: {single['messages_per_s']} msg/s")
        await asyncio.get_running_loop().run_in_executor(None, stack.start_rasa, 1)
        # The first turns of a process load the model's components: warm the second one.
        from bench.drive import REST_SCRIPT, http_session, rest_round

        async with http_session() as session:
            await rest_round(session, stack.rasa_url(1), 2, REST_SCRIPT,
                             token=stack.rest_token)
    double = await measure(emulator, watcher, reference, people,
                           [stack.ingress_url(0), stack.ingress_url(1)])
    note(f"scale: 2 processes: {double['messages_per_s']} msg/s")
    runs = [r for r in (single, double) if r is not None]
    return {
        "people": people,
        "one_process": single,
        "two_processes": double,
        "speedup": ratio(double["messages_per_s"], single["messages_per_s"])
        if single else None,
        "ordering_violations": sum(r["order"]["out_of_order"] for r in runs),
        "duplicates": sum(r["order"]["duplicates"] for r in runs),
        "missing": sum(r["order"]["missing"] for r in runs),
    }
