#!/usr/bin/env bash
# Start the action server and the Rasa server together; Ctrl-C stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
BIN=.venv/bin
mkdir -p var

# Keep-alive longer than Rasa's connection pool keeps idle connections (15 s): with Sanic's 5 s
# default, the action server closes connections Rasa is about to reuse, and turns fail under load.
SANIC_KEEP_ALIVE_TIMEOUT="${SANIC_KEEP_ALIVE_TIMEOUT:-75}" \
SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}" "$BIN/rasa" run actions --actions actions \
  --port "${ACTIONS_PORT:-5055}" &
actions_pid=$!
"$BIN/rasa" run --model models/permanence.tar.gz --credentials "${CREDENTIALS:-credentials.yml}" \
  --endpoints endpoints.yml --interface "${PERMANENCE_HOST:-127.0.0.1}" \
  --port "${PERMANENCE_PORT:-5005}" &
rasa_pid=$!

stop() {
  trap - INT TERM
  kill "$rasa_pid" "$actions_pid" 2>/dev/null
  wait "$rasa_pid" "$actions_pid" 2>/dev/null
  echo "Permanence stopped."
  exit 0
}
trap stop INT TERM

url="http://${PERMANENCE_HOST:-127.0.0.1}:${PERMANENCE_PORT:-5005}"
for _ in $(seq 1 120); do
  if curl -fs "$url/" >/dev/null 2>&1; then break; fi
  kill -0 "$rasa_pid" 2>/dev/null || { echo "Rasa server exited"; kill "$actions_pid"; exit 1; }
  sleep 1
done
echo
echo "Permanence is running."
echo "  Web chat:      $url/chat"
echo "  REST door:     POST $url/webhooks/rest/webhook ($([ -n "${PERMANENCE_REST_TOKEN:-}" ] && echo "Authorization: Bearer \$PERMANENCE_REST_TOKEN" || echo "disabled: PERMANENCE_REST_TOKEN is not set"))"
echo "  Lawyer's desk: $url/desk/  (an account first: make desk-user EMAIL=... PASSWORD=...)"
echo "Press Ctrl-C to stop."
wait -n "$rasa_pid" "$actions_pid"
stop
