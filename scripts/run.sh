#!/usr/bin/env bash
# Start the action server, the Rasa server and, when $CREDENTIALS has the X channel in webhook
# mode, the X webhook ingress (python -m connectors.x.ingress), under scripts/supervise.py: each
# one restarts on its own when it dies (with a backoff, logged); Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_FILE="${PERMANENCE_ENV_FILE:-.env}"
if [ -f "$ENV_FILE" ]; then set -a; . "$ENV_FILE"; set +a; fi
BIN=.venv/bin
mkdir -p var
CREDENTIALS="${CREDENTIALS:-credentials.yml}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"

quoted() { printf '%q ' "$@"; }

# Keep-alive longer than Rasa's connection pool keeps idle connections (15 s): with Sanic's 5 s
# default, the action server closes connections Rasa is about to reuse, and turns fail under load.
programs=(
  "actions=$(quoted env SANIC_KEEP_ALIVE_TIMEOUT="${SANIC_KEEP_ALIVE_TIMEOUT:-75}" \
    SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}" "$BIN/rasa" run actions --actions actions \
    --port "$ACTIONS_PORT")"
  "rasa=$(quoted "$BIN/rasa" run --model models/permanence.tar.gz --credentials "$CREDENTIALS" \
    --endpoints endpoints.yml --interface "${PERMANENCE_HOST:-127.0.0.1}" \
    --port "${PERMANENCE_PORT:-5005}")"
)

# The X channel in webhook mode, without `ingress_port` (a thread of Rasa's): the webhook gets a
# process of its own, which keeps acknowledging X into the durable inbox while Rasa restarts.
if "$BIN/python" - "$CREDENTIALS" <<'EOF'
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as handle:
    section = (yaml.safe_load(handle) or {}).get("connectors.x.XInput")
webhook = isinstance(section, dict) and str(section.get("mode") or "webhook") == "webhook"
sys.exit(0 if webhook and not section.get("ingress_port") else 1)
EOF
then
  ingress="http://${X_INGRESS_HOST:-127.0.0.1}:${X_INGRESS_PORT:-5006}/webhooks/x/webhook"
  programs+=("x-ingress=$(quoted "$BIN/python" -m connectors.x.ingress \
    --host "${X_INGRESS_HOST:-127.0.0.1}" --port "${X_INGRESS_PORT:-5006}")")
else
  ingress=""
fi

url="http://${PERMANENCE_HOST:-127.0.0.1}:${PERMANENCE_PORT:-5005}"
supervisor=$$  # this shell becomes the supervisor (exec below)
(
  while kill -0 "$supervisor" 2>/dev/null; do
    if curl -fs "$url/" >/dev/null 2>&1; then
      echo
      echo "Permanence is running."
      echo "  Web chat:      $url/chat"
      echo "  REST door:     POST $url/webhooks/rest/webhook ($([ -n "${PERMANENCE_REST_TOKEN:-}" ] && echo "Authorization: Bearer \$PERMANENCE_REST_TOKEN" || echo "disabled: PERMANENCE_REST_TOKEN is not set"))"
      echo "  Lawyer's desk: $url/desk/  (an account first: make desk-user EMAIL=...)"
      if [ -n "$ingress" ]; then echo "  X webhook:     $ingress"; fi
      echo "Each server restarts on its own if it stops. Press Ctrl-C to stop."
      exit 0
    fi
    sleep 1
  done
) &
exec "$BIN/python" scripts/supervise.py "${programs[@]}"
