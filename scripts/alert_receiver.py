"""An example receiver of the desk's P0 alert (desk/alerts.py): verifies the signature, prints
the case's link. A starting point for the firm's own (SMS gateway, chat bot, pager).

    PERMANENCE_ALERT_WEBHOOK_SECRET=... python -m scripts.alert_receiver --port 8099
    # and, for the Rasa server: PERMANENCE_ALERT_WEBHOOK_URL=http://127.0.0.1:8099/alert

What it does with a POST:

- the body is read (at most 16 KiB, else 413);
- with a secret, ``X-Permanence-Signature`` must be ``sha256=<hex HMAC-SHA256(secret, body)>``,
  compared in constant time, else 401 and nothing printed; without a secret (``--insecure``
  only) nothing is verified;
- the body must be a JSON object with ``case_id`` and ``link``, else 400;
- it prints one line, ``P0 case 12 (etrangers, deadline 2026-12-05): <link>``, and answers 204.

The alert carries no person id and no fact: the link leads to the desk, where the lawyer logs
in. The desk retries on a network error or a 5xx, so answer 2xx once the alert is handled.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

MAX_BODY_BYTES = 16 * 1024
SIGNATURE_HEADER = "X-Permanence-Signature"


def signature_valid(secret: str, body: bytes, presented: str | None) -> bool:
    """Whether ``presented`` is the body's signature with ``secret``."""
    if not presented:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, presented)


def alert_line(alert: dict[str, Any]) -> str:
    return (f"{alert.get('tier') or 'P0'} case {alert['case_id']} ({alert.get('domain') or '?'}, "
            f"deadline {alert.get('deadline') or '?'}): {alert['link']}")


def make_server(host: str, port: int, secret: str | None, out: IO[str] = sys.stdout
                ) -> ThreadingHTTPServer:
    """The receiver on ``host:port`` (port 0: a free one, see ``server.server_port``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                self.send_error(413 if length.isdigit() else 411)
                return
            body = self.rfile.read(int(length))
            if secret is not None and not signature_valid(
                    secret, body, self.headers.get(SIGNATURE_HEADER)):
                self.send_error(401, "bad signature")
                return
            try:
                alert = json.loads(body)
            except (ValueError, RecursionError):
                alert = None
            if not isinstance(alert, dict) or "case_id" not in alert or "link" not in alert:
                self.send_error(400, "not an alert")
                return
            print(alert_line(alert), file=out, flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # one line per alert, printed above; no request log

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--insecure", action="store_true",
                        help="accept unsigned alerts (no PERMANENCE_ALERT_WEBHOOK_SECRET)")
    args = parser.parse_args(argv)
    secret = os.environ.get("PERMANENCE_ALERT_WEBHOOK_SECRET") or None
    if secret is None and not args.insecure:
        print("error: set PERMANENCE_ALERT_WEBHOOK_SECRET (or pass --insecure)", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, secret)
    print(f"listening on http://{args.host}:{server.server_port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
