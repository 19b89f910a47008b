"""The X (Twitter) channel: ``XInput`` (``connectors.x.XInput`` in the credentials file).

Modules: ``signatures`` (CRC answer, webhook signature check), ``payloads`` (the one module
that knows X's webhook and v2 formats), ``render`` (text for X DMs and the public invitation),
``config`` (the credentials section), ``client`` (tweepy's AsyncClient, optionally pointed at
another origin such as the sandbox), ``send`` (one DM, X's answer as a typed outcome),
``adapter`` (``XAdapter``: X as a ``channels.adapter.ChannelAdapter``), ``output``
(``XOutput``: numbered options, X ids), ``runtime`` (``XRuntime``: the account, public posts,
the options read back, costs), ``sender`` (X's DM budget and pacing, the look-up of a DM sent
before a crash, the link to continue on the web chat), ``ingress`` (X's webhook routes on the
generic ingress thread, or a process of its own), ``polling`` (polling mode: X's lists read
into the inbox by one process at a time), ``stream`` (stream mode) and ``channel``
(``XInput``). The channel-agnostic machinery (the store, its migrations, outcomes, the runtime
with its workers, output, sender thread and ingress thread, the lease loop, the doorbell, the
replay of a saved turn) is in ``channels/``; the X classes are its subclasses.

``XInput`` is imported on first use, so that the pure modules stay importable without Rasa.
"""

from __future__ import annotations

from typing import Any

__all__ = ["XInput", "XOutput"]


def __getattr__(name: str) -> Any:
    if name == "XInput":
        from connectors.x.channel import XInput

        return XInput
    if name == "XOutput":
        from connectors.x.output import XOutput

        return XOutput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
