"""``python -m sandbox.mastodon_emulator --port 8091 [--limits NAME|PATH] [--time-scale N]``."""

from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from .app import create_app
from .config import DEFAULT_LIMITS, TOKEN_ENV, EmulatorConfig, LimitsError, load_limits

LIMITS_ENV = "MASTODON_SANDBOX_LIMITS"
TIME_SCALE_ENV = "MASTODON_SANDBOX_TIME_SCALE"


def _positive(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.mastodon_emulator",
        description=f"Mastodon instance emulator on loopback. The account's token comes from "
                    f"{TOKEN_ENV} (a sandbox default otherwise).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--domain", help="the instance's domain (permanence.example)")
    parser.add_argument("--account-username", help="the firm's account (permanence)")
    parser.add_argument("--max-characters", type=int, help="a status's limit (500)")
    parser.add_argument("--limits", default=os.environ.get(LIMITS_ENV) or DEFAULT_LIMITS,
                        help=f"a file of limits/ or a path (default ${LIMITS_ENV}, else "
                             f"{DEFAULT_LIMITS})")
    parser.add_argument("--time-scale", type=_positive,
                        default=os.environ.get(TIME_SCALE_ENV) or "1",
                        help="60: a 5-minute window lasts 5 s")
    parser.add_argument("--private-mentions", choices=("accept", "filter", "drop"),
                        default="filter",
                        help="the account's policy for unsolicited private mentions "
                             "(Mastodon >= 4.3: filter)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    try:
        load_limits(args.limits)
    except LimitsError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = EmulatorConfig.from_env(
        domain=args.domain, account_username=args.account_username,
        max_characters=args.max_characters, limits=args.limits, time_scale=args.time_scale,
        for_private_mentions=args.private_mentions)
    print(f"Mastodon sandbox on http://{args.host}:{args.port}/ (account "
          f"@{config.account_username}@{config.domain}; limits {args.limits}, time scale "
          f"{config.time_scale:g})", flush=True)
    web.run_app(create_app(config), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
