"""``python -m sandbox.x_emulator --host 127.0.0.1 --port 8090 [--webhook-url URL]``."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .app import create_app
from .config import EmulatorConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.x_emulator",
        description="X API emulator on loopback. Credentials come from X_CONSUMER_KEY, "
                    "X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and "
                    "X_BEARER_TOKEN (sandbox defaults otherwise).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--webhook-url", help="Account Activity webhook, registered and "
                                              "subscribed at start-up (no CRC)")
    parser.add_argument("--account-id", help="id of the emulated account (the firm)")
    parser.add_argument("--account-username", help="its username, without @")
    parser.add_argument("--account-name", help="its display name")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = EmulatorConfig.from_env(
        webhook_url=args.webhook_url, account_id=args.account_id,
        account_username=args.account_username, account_name=args.account_name)
    app = create_app(config)
    print(f"X sandbox: API and page on http://{args.host}:{args.port}/ "
          f"(account @{config.account_username}, id {config.account_id})", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
