#!/usr/bin/env bash
# Re-record every cassette (tests marked @pytest.mark.vcr), then prove no secret got in.
#
#   scripts/record_cassettes.sh                 # against the embedded SmolLM2 server (default)
#   OPENAI_BASE_URL=https://api.openai.com/v1 OPENAI_API_KEY=sk-... SUMMARIZE_MODEL=gpt-4o-mini \
#       scripts/record_cassettes.sh             # against any OpenAI-compatible server
#   scripts/record_cassettes.sh tests/test_llm.py -k retries   # extra pytest arguments
#   scripts/record_cassettes.sh tests/test_judge.py             # only the llm-judge cassettes
#
# Tests always send to http://127.0.0.1:8766/v1 with a dummy key and a fixed model name;
# scripts/fault_proxy.py listens there, forwards to the real server with the real key
# (passed by environment, never on a command line) and injects the faults tests ask for.
# SUMMARIZE_RECORD_BASE_URL / _API_KEY / _MODEL override the OPENAI_* / SUMMARIZE_MODEL names.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

if [[ -n "${OPENAI_BASE_URL:-${SUMMARIZE_RECORD_BASE_URL:-}}" ]]; then
    echo "recording against ${SUMMARIZE_RECORD_BASE_URL:-$OPENAI_BASE_URL}" >&2
else
    echo "recording against the embedded model server (Settings().local_model)" >&2
fi

SUMMARIZE_RECORD=1 "$PY" -m pytest -m vcr --record-mode=rewrite -p no:cacheprovider -q "${@:-tests}"

# No key and no authorization header may be in any cassette.
status=0
if grep -rIil -e 'authorization' -e 'bearer ' -e 'x-api-key' cassettes/; then
    echo "ERROR: the cassettes above contain an authorization header" >&2
    status=1
fi
secrets=(-e 'sk-test-K3Y-must-never-be-recorded')
for var in OPENAI_API_KEY SUMMARIZE_API_KEY SUMMARIZE_RECORD_API_KEY; do
    if [[ -n "${!var:-}" ]]; then secrets+=(-e "${!var}"); fi
done
if grep -rIlF "${secrets[@]}" cassettes/; then
    echo "ERROR: the cassettes above contain an API key" >&2
    status=1
fi
if [[ $status -eq 0 ]]; then
    echo "cassettes re-recorded; no key or authorization header in cassettes/" >&2
fi
exit $status
