"""X's rate limits and prices, read from one YAML file (``limits/<name>.yml`` or a path).

``load_profile("x-2026")`` (the default) or ``load_profile("legacy-2022")`` or
``load_profile("/path/to/file.yml")``. The file is checked completely: an unknown limit key,
scope, header family or price kind, a missing endpoint or a non-positive number is a
``ProfileError`` naming the file and the entry; nothing has a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from permanence import x_costs

PROFILES_DIR = Path(__file__).parent / "limits"
DEFAULT_PROFILE = "x-2026"
LEGACY_PROFILE = "legacy-2022"

# The limit keys of the endpoints the emulator serves (api.ENDPOINTS).
LIMIT_KEYS = ("users_me", "dm_send", "dm_events", "tweets_create", "mentions",
              "search_recent", "webhooks", "subscriptions", "activity_subscriptions",
              "activity_stream")
# user: OAuth 1.0a user context; app: Bearer token; any: every request.
SCOPES = ("user", "app", "any")
HEADER_FAMILIES = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
# The price kinds: one list with the X channel's cost meter (permanence/x_costs.py), which
# reads its prices from the same files.
PRICE_KINDS = x_costs.PRICE_KINDS


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class WindowSpec:
    scope: str
    limit: int
    seconds: int
    headers: str

    def applies_to(self, auth: str | None) -> bool:
        """``auth`` is ``"oauth1"``, ``"bearer"`` or None (not authenticated yet: counted
        as the user context, the one the firm's account uses)."""
        if self.scope == "any":
            return True
        return self.scope == ("app" if auth == "bearer" else "user")


@dataclass(frozen=True)
class Profile:
    name: str
    source: Path
    limits: dict[str, tuple[WindowSpec, ...]]
    prices: dict[str, float]


def profile_path(name_or_path: str) -> Path:
    """A bare name is a file of ``limits/``; anything with a ``/`` or ``.yml`` is a path."""
    if "/" in name_or_path or name_or_path.endswith((".yml", ".yaml")):
        return Path(name_or_path)
    return PROFILES_DIR / f"{name_or_path}.yml"


def available_profiles() -> list[str]:
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yml"))


def load_profile(name_or_path: str = DEFAULT_PROFILE) -> Profile:
    path = profile_path(name_or_path)
    if not path.is_file():
        raise ProfileError(f"no limits file {path} (profiles: {', '.join(available_profiles())})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or set(raw) != {"name", "limits", "prices_usd"}:
        raise ProfileError(f"{path}: top-level keys must be name, limits, prices_usd")
    limits = _limits(path, raw["limits"])
    prices_raw = raw["prices_usd"]
    if isinstance(prices_raw, str):  # another profile's prices, e.g. "x-2026"
        if profile_path(prices_raw).resolve() == path.resolve():
            raise ProfileError(f"{path}: prices_usd refers to the file itself")
        prices = load_profile(prices_raw).prices
    else:
        prices = _prices(path, prices_raw)
    return Profile(str(raw["name"]), path, limits, prices)


def _limits(path: Path, raw: Any) -> dict[str, tuple[WindowSpec, ...]]:
    if not isinstance(raw, dict) or set(raw) != set(LIMIT_KEYS):
        raise ProfileError(f"{path}: limits must list exactly {', '.join(LIMIT_KEYS)}")
    limits: dict[str, tuple[WindowSpec, ...]] = {}
    for key, windows in raw.items():
        if not isinstance(windows, list) or not windows:
            raise ProfileError(f"{path}: limits.{key} must be a non-empty list of windows")
        specs = tuple(_window(path, key, item) for item in windows)
        for scope in ("user", "app"):
            families = [s.headers for s in specs if s.scope in (scope, "any")]
            if len(families) != len(set(families)):
                raise ProfileError(f"{path}: limits.{key}: two windows report the same "
                                   f"headers for the {scope} context")
        limits[key] = specs
    return limits


def _window(path: Path, key: str, item: Any) -> WindowSpec:
    where = f"{path}: limits.{key}"
    if not isinstance(item, dict) or set(item) != {"scope", "limit", "seconds", "headers"}:
        raise ProfileError(f"{where}: each window has exactly scope, limit, seconds, headers")
    if item["scope"] not in SCOPES:
        raise ProfileError(f"{where}: scope must be one of {', '.join(SCOPES)}")
    if item["headers"] not in HEADER_FAMILIES:
        raise ProfileError(f"{where}: headers must be one of {', '.join(HEADER_FAMILIES)}")
    for field in ("limit", "seconds"):
        value = item[field]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ProfileError(f"{where}: {field} must be a positive integer")
    return WindowSpec(item["scope"], item["limit"], item["seconds"], item["headers"])


def _prices(path: Path, raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict) or set(raw) != set(PRICE_KINDS):
        raise ProfileError(f"{path}: prices_usd must give exactly {', '.join(PRICE_KINDS)}")
    prices: dict[str, float] = {}
    for kind, value in raw.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ProfileError(f"{path}: prices_usd.{kind} must be a non-negative number")
        prices[kind] = float(value)
    return prices
