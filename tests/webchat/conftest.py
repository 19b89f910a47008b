"""Every web chat test gets a channels' database of its own (the durable messages, links and
notices: ``channels/webchat_store.py``), opened afresh by the channel when its server starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels import webchat_store


@pytest.fixture(autouse=True)
def _own_channels_database(monkeypatch, tmp_path) -> Iterator[None]:
    monkeypatch.setenv("PERMANENCE_X_DATABASE_URL", f"sqlite:///{tmp_path / 'channels.db'}")
    for name in ("PERMANENCE_SMTP_HOST", "PERMANENCE_WEBCHAT_NOTICE_DELAY_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    webchat_store.reset_shared()
    yield
    webchat_store.reset_shared()
