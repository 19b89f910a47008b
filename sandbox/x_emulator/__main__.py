"""``python -m sandbox.x_emulator --host 127.0.0.1 --port 8090 [--webhook-url URL]
[--subscribe aaa|xaa|none] [--limits x-2026|legacy-2022|PATH] [--time-scale N]``."""

from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from .app import create_app
from .config import SUBSCRIBE_CHOICES, EmulatorConfig
from .profiles import DEFAULT_PROFILE, ProfileError, available_profiles, load_profile

LIMITS_ENV = "X_SANDBOX_LIMITS"
TIME_SCALE_ENV = "X_SANDBOX_TIME_SCALE"


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def parse_args(argv: list[str] | None = None,
               environ: dict[str, str] | None = None) -> argparse.Namespace:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.x_emulator",
        description="X API emulator on loopback. Credentials come from X_CONSUMER_KEY, "
                    "X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and "
                    "X_BEARER_TOKEN (sandbox defaults otherwise).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--webhook-url", help="webhook registered at start-up (no CRC)")
    parser.add_argument(
        "--subscribe", choices=SUBSCRIBE_CHOICES, default="aaa",
        help="how the account is subscribed at start-up: aaa (the webhook, Account Activity; "
             "the default), xaa (X Activity API dm.received and post.mention.create, to the "
             "webhook if any and to GET /2/activity/stream) or none")
    parser.add_argument(
        "--stream-keepalive", type=_positive_float, default=20.0,
        help="seconds between keep-alive lines of GET /2/activity/stream (X: 20)")
    parser.add_argument("--account-id", help="id of the emulated account (the firm)")
    parser.add_argument("--account-username", help="its username, without @")
    parser.add_argument("--account-name", help="its display name")
    parser.add_argument(
        "--limits", default=env.get(LIMITS_ENV) or DEFAULT_PROFILE,
        help=f"rate limits and prices: a profile ({', '.join(available_profiles())}) or the "
             f"path of a limits .yml (default ${LIMITS_ENV}, else {DEFAULT_PROFILE}, X at the "
             "end of 2026; legacy-2022 has the generous limits of the recorded fixtures)")
    parser.add_argument(
        "--time-scale", type=_positive_float,
        default=env.get(TIME_SCALE_ENV) or "1",  # a string default goes through `type`
        help=f"60: a 15-minute window lasts 15 s, a 24-hour one 24 min (default "
             f"${TIME_SCALE_ENV}, else 1)")
    parser.add_argument(
        "--allow-unsummoned-replies", action="store_true",
        help="accept a reply to any post (by default a reply to a post whose author did not "
             "@mention the account, quote it or reply to it is refused, 403, as X does since "
             "2026-02-23)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    try:
        load_profile(args.limits)
    except ProfileError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = EmulatorConfig.from_env(
        webhook_url=args.webhook_url, account_id=args.account_id,
        account_username=args.account_username, account_name=args.account_name,
        limits=args.limits, time_scale=args.time_scale, subscribe=args.subscribe,
        stream_keepalive_seconds=args.stream_keepalive,
        summoned_replies_only=not args.allow_unsummoned_replies)
    app = create_app(config)
    print(f"X sandbox: API and page on http://{args.host}:{args.port}/ "
          f"(account @{config.account_username}, id {config.account_id}; limits "
          f"{config.profile.name}, time scale {config.time_scale:g})", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
