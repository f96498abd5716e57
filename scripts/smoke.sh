#!/usr/bin/env bash
# After a deployment: the services are ready and every served model answers a request.
set -euo pipefail
# The deployed services open nothing without a key: API_KEY needs the 'models' scope.
base="${BASE_URL:?BASE_URL is required}"
key="${API_KEY:?API_KEY is required (a key with the models scope)}"
curl -fsS "$base/readyz"
models="$(curl -fsS -H "X-API-Key: $key" "$base/v1/models" | python3 -c 'import json,sys; print(" ".join(m["name"] for m in json.load(sys.stdin)["models"]))')"
for model in $models; do
  curl -fsS -H "X-API-Key: $key" "$base/v1/models/$model" > /dev/null
  echo "$model: described"
done
echo "smoke test passed"
