#!/usr/bin/env bash
# `make sandbox`: the X sandbox (an X API emulator on 127.0.0.1:8090, with a page where you play a
# member of the public) together with the assistant, whose X channel talks to the emulator.
# No X account needed. Ctrl-C stops everything.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var
port="${PERMANENCE_PORT:-5005}"
emulator_port="${X_SANDBOX_PORT:-8090}"
credentials="var/credentials.sandbox.yml"
# The emulator's documented sandbox credentials (sandbox/x_emulator/README.md): not secrets.
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
  mode: webhook
  hashtags: [droitautweet]
YAML
} > "$credentials"

"$BIN/python" -m sandbox.x_emulator --host 127.0.0.1 --port "$emulator_port" \
  --webhook-url "http://127.0.0.1:${port}/webhooks/x/webhook" &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid" 2>/dev/null' EXIT
echo "X sandbox: http://127.0.0.1:${emulator_port}/ (play a member of the public there)"
CREDENTIALS="$credentials" bash scripts/run.sh
