#!/usr/bin/env bash
# Install, from Debian's packages, the programs the tests run for real and a fresh
# machine may lack: a Java runtime (Spark), redis-server, PostgreSQL and Chromium (the
# dashboard's browser test drives it; no browser is ever downloaded). The tests start
# their own Redis and PostgreSQL when none answers; they need the binaries for that.
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing from Debian packages: ${need[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
