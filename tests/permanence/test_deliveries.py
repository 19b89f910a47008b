"""permanence/deliveries.py: a reply's parts make one status; the registry the desk reads."""

from __future__ import annotations

from datetime import datetime, timezone

from permanence import deliveries
from permanence.deliveries import FAILED, QUEUED, SENT, Part, Status, combine

T1 = datetime(2026, 12, 7, 14, 5, tzinfo=timezone.utc)
T2 = datetime(2026, 12, 7, 14, 6, tzinfo=timezone.utc)


def test_a_reply_is_sent_when_every_part_is() -> None:
    assert combine([]) is None
    assert combine([Part(SENT, T2), Part(SENT, T1)]) == Status(SENT, at=T2)
    assert combine([Part(SENT, T1), Part(QUEUED)]) == Status(QUEUED)


def test_one_part_given_up_makes_the_reply_not_delivered_with_its_reason() -> None:
    assert combine([Part(SENT, T1), Part(FAILED, reason="la personne refuse")]) == Status(
        FAILED, reason="la personne refuse")
    assert combine([Part(FAILED), Part(QUEUED)]) == Status(FAILED)


def test_the_desk_reads_what_running_channels_registered() -> None:
    def x_lookup(refs: list[str]) -> dict[str, Status]:
        return {r: Status(QUEUED) for r in refs if r == deliveries.ref(1)}

    def broken(refs: list[str]) -> dict[str, Status]:
        raise RuntimeError("store down")

    deliveries.lookups.register("x-test", x_lookup)
    deliveries.lookups.register("broken-test", broken)
    try:
        assert deliveries.lookup([deliveries.ref(1), deliveries.ref(2)]) == {
            "desk-message:1": Status(QUEUED)}
    finally:
        deliveries.lookups.unregister("x-test", x_lookup)
        deliveries.lookups.unregister("broken-test", broken)
    assert deliveries.lookup([deliveries.ref(1)]) == {}
    assert deliveries.as_json(Status(SENT, at=T1)) == {
        "state": "sent", "at": "2026-12-07T14:05:00+00:00", "reason": None}
