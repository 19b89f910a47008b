#!/usr/bin/env bash
# `make sandbox`: the X sandbox (an X API emulator on 127.0.0.1:8090, with a page where you play a
# member of the public) together with the assistant, whose X channel talks to the emulator.
# No X account needed. Ctrl-C stops everything.
set -uo pipefail
cd "$(dirname "$0")/.."
# .env read here, before the sandbox's X credentials below, which must win; not again by run.sh.
ENV_FILE="${PERMANENCE_ENV_FILE:-.env}"
if [ -f "$ENV_FILE" ]; then set -a; . "$ENV_FILE"; set +a; fi
export PERMANENCE_ENV_FILE=/dev/null
BIN=.venv/bin
mkdir -p var
emulator_port="${X_SANDBOX_PORT:-8090}"
# The X Activity API, as X is from 2027: webhook deliveries (default), or the persistent stream
# (X_SANDBOX_MODE=stream: the assistant connects out, nothing connects in).
mode="${X_SANDBOX_MODE:-webhook}"
case "$mode" in webhook|stream) ;; *) echo "X_SANDBOX_MODE must be webhook or stream" >&2; exit 2;; esac
credentials="var/credentials.sandbox.yml"
# The webhook goes to the X ingress process that scripts/run.sh supervises next to Rasa: it
# keeps acknowledging into the durable inbox while Rasa restarts.
export X_INGRESS_PORT="${X_INGRESS_PORT:-5006}"
# The emulator's documented sandbox credentials (sandbox/x_emulator/README.md): not secrets.
# In the environment too, for the ingress process.
export X_CONSUMER_KEY=sandbox-consumer-key X_CONSUMER_SECRET=sandbox-consumer-secret \
  X_ACCESS_TOKEN=sandbox-access-token X_ACCESS_TOKEN_SECRET=sandbox-access-token-secret
{
  cat credentials.yml
  cat <<YAML

connectors.x.XInput:
  consumer_key: sandbox-consumer-key
  consumer_secret: sandbox-consumer-secret
  access_token: sandbox-access-token
  access_token_secret: sandbox-access-token-secret
  bearer_token: sandbox-bearer-token
  api_base_url: http://127.0.0.1:${emulator_port}
  mode: ${mode}
  hashtags: [droitautweet]
YAML
} > "$credentials"

webhook=()
if [ "$mode" = webhook ]; then
  webhook=(--webhook-url "http://127.0.0.1:${X_INGRESS_PORT}/webhooks/x/webhook")
fi
"$BIN/python" -m sandbox.x_emulator --host 127.0.0.1 --port "$emulator_port" \
  --subscribe xaa ${webhook[@]+"${webhook[@]}"} &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid" 2>/dev/null' EXIT
echo "X sandbox: http://127.0.0.1:${emulator_port}/ (play a member of the public there)"
CREDENTIALS="$credentials" bash scripts/run.sh
