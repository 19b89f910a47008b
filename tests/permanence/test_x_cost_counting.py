"""permanence/x_costs.py: X's prices from the one file the emulator bills from, and the
charges of the channel's calls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from permanence import x_costs
from permanence.x_costs import (
    DEDUPLICATED,
    PRICE_KINDS,
    CostMeter,
    PricesError,
    has_url,
    load_prices,
    post_kind,
    prices_file,
)
from sandbox.x_emulator.profiles import load_profile

NOW = datetime(2026, 12, 1, 11, 30, tzinfo=timezone.utc)


def test_the_prices_are_the_emulators_and_x_2026_md() -> None:
    prices = load_prices()
    # X-API-2026.md, "Prices": the figures the firm pays.
    assert prices["dm_sent"] == 15_000 and prices["dm_received"] == 10_000
    assert prices["dm_event_read"] == 10_000 and prices["post_mention_received"] == 5_000
    assert prices["post_created"] == 15_000 and prices["post_created_with_url"] == 200_000
    assert prices["post_created_summoned"] == 10_000
    for profile in ("x-2026", "legacy-2022"):  # legacy-2022 takes x-2026's prices
        emulator = load_profile(profile).prices
        assert {kind: round(usd * 1_000_000) for kind, usd in emulator.items()} == prices
        assert load_prices(x_costs.LIMITS_DIR / f"{profile}.yml") == prices


def test_the_file_is_chosen_by_setting_then_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(x_costs.PRICES_ENV, raising=False)
    assert prices_file() == x_costs.DEFAULT_PRICES_FILE
    assert prices_file("legacy-2022") == x_costs.LIMITS_DIR / "legacy-2022.yml"
    own = tmp_path / "prices.yml"
    monkeypatch.setenv(x_costs.PRICES_ENV, str(own))
    assert prices_file() == own
    assert prices_file("x-2026") == x_costs.DEFAULT_PRICES_FILE  # the setting wins


def _write(path: Path, prices: object) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"name": "t", "prices_usd": prices}), encoding="utf-8")
    return path


def test_a_wrong_file_is_refused_with_its_name(tmp_path: Path) -> None:
    full = {kind: 0.01 for kind in PRICE_KINDS}
    assert load_prices(_write(tmp_path / "ok.yml", full))["dm_sent"] == 10_000
    cases = {
        "missing.yml": {k: v for k, v in full.items() if k != "dm_sent"},
        "extra.yml": {**full, "dm_free": 0.0},
        "negative.yml": {**full, "dm_sent": -1},
        "text.yml": {**full, "dm_sent": "0.015"},
        "boolean.yml": {**full, "dm_sent": True},
        "self.yml": "self",
    }
    for name, prices in cases.items():
        with pytest.raises(PricesError, match=name):
            load_prices(_write(tmp_path / name, prices))
    with pytest.raises(PricesError, match="nowhere"):
        load_prices(tmp_path / "nowhere.yml")
    with pytest.raises(PricesError):
        CostMeter({"dm_sent": 1})


def test_a_request_is_charged_once_a_resource_once_a_day() -> None:
    meter = CostMeter.from_file()
    [sent] = meter.call("dm_sent")
    assert (sent.kind, sent.micro_usd, sent.dedupe) == ("dm_sent", 15_000, None)
    read = meter.resources("dm_event_read", ["111", "222", "111"], NOW)
    assert [c.kind for c in read] == ["dm_event_read"] * 2  # 111 once in the batch
    assert all(c.micro_usd == 10_000 and c.dedupe for c in read)
    later = meter.resources("dm_event_read", ["111"], NOW + timedelta(hours=12))
    next_day = meter.resources("dm_event_read", ["111"], NOW + timedelta(days=1))
    assert later[0].dedupe == read[0].dedupe != next_day[0].dedupe
    # The key is a hash: neither the id nor the kind can be read from it.
    assert "111" not in read[0].dedupe and len(read[0].dedupe) == 40
    assert meter.resources("dm_received", ["111"], NOW)[0].dedupe != read[0].dedupe
    with pytest.raises(ValueError):
        meter.call("dm_event_read")
    with pytest.raises(ValueError):
        meter.resources("dm_sent", ["1"], NOW)
    with pytest.raises(ValueError):
        meter.resources("user_read", ["1"], datetime(2026, 12, 1))  # naive
    assert DEDUPLICATED < set(PRICE_KINDS)


def test_the_price_of_a_post() -> None:
    assert post_kind("Écrivez-nous en message privé à @Cabinet.", summoned_reply=True) == (
        "post_created_summoned")
    assert post_kind("Écrivez-nous (lien : https://x.com/messages/compose?recipient_id=1).",
                     summoned_reply=True) == "post_created_with_url"
    assert post_kind("Permanence mardi à 12 h", summoned_reply=False) == "post_created"
    assert has_url("voir HTTP://exemple.fr") and not has_url("écrivez à @Cabinet_Exemple.")
