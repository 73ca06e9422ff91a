#!/usr/bin/env bash
# HTTP load benchmark of the authenticated paths: GET /api/v1/me (bearer tokens) and the portal
# dashboard GET / (cookie sessions), against `preau demo` (release), with many distinct sessions.
#   benches/http/run.sh                   # SQLite
#   DB=postgres benches/http/run.sh       # PostgreSQL (PREAU_BENCH_PG, default the local test server)
# Needs wrk (apt-get install wrk) and curl. Prints one line per run; BENCHMARKS.md records them.
set -euo pipefail
cd "$(dirname "$0")/../.."
SESSIONS_COUNT=${SESSIONS_COUNT:-200}
DURATION=${DURATION:-15s}
PORT=${PORT:-18080}
PASSWORD='Bench-Password-2026!'
WORK=$(mktemp -d)
trap 'kill ${SERVER:-0} 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet -p preau-core --bin preau
unset $(env | grep -o '^PREAU_[A-Z_]*' || true)
export PREAU_TODAY=2026-11-30 PREAU_LOG=warn PREAU_DATABASE_MAX_CONNECTIONS=${MAX_CONNECTIONS:-16}
if [ "${DB:-sqlite}" = postgres ]; then
  ADMIN=${PREAU_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
  NAME=preau_bench_$$
  psql "$ADMIN" -qc "CREATE DATABASE $NAME"
  trap 'kill ${SERVER:-0} 2>/dev/null || true; sleep 1; psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)"; rm -rf "$WORK"' EXIT
  export PREAU_DATABASE_URL="${ADMIN%/*}/$NAME"
fi
./target/release/preau demo --no-serve --password "$PASSWORD" --data "$WORK/data" --accounts-json "$WORK/accounts.json" >/dev/null
PREAU_LISTEN=127.0.0.1:$PORT ./target/release/preau serve --data "$WORK/data" >/dev/null 2>&1 &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

# Distinct accounts: parents first (the heaviest /me and dashboard), then anyone activated.
python3 - "$WORK/accounts.json" "$SESSIONS_COUNT" > "$WORK/logins" <<'PY'
import json, sys
accounts = [a for a in json.load(open(sys.argv[1])) if a["activation_code"] is None and a["attachments"]]
accounts.sort(key=lambda a: 0 if any(x["profile"] == "parent" for x in a["attachments"]) else 1)
for a in accounts[: int(sys.argv[2])]:
    print(a["login"])
PY
: > "$WORK/bearer"; : > "$WORK/cookies"
while read -r login; do
  token=$(curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"$login\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  echo "Bearer $token" >> "$WORK/bearer"
  csrf=$(curl -sf -c "$WORK/jar" -o /dev/null -w '%{http_code}' "$BASE/connexion" >/dev/null; awk '$6=="preau_csrf"{print $7}' "$WORK/jar")
  session=$(curl -s -b "$WORK/jar" -o /dev/null -D - "$BASE/connexion" \
    --data-urlencode "_csrf=$csrf" --data-urlencode "login=$login" --data-urlencode "password=$PASSWORD" \
    | awk -F'[=;]' 'tolower($1)=="set-cookie: preau_session"{print $2}')
  echo "preau_session=$session" >> "$WORK/cookies"
  rm -f "$WORK/jar"
done < "$WORK/logins"

echo "engine=${DB:-sqlite} sessions=$(wc -l < "$WORK/bearer") duration=$DURATION"
for c in 8 32; do
  printf 'GET /api/v1/me   c=%-3s ' "$c"
  SESSIONS="$WORK/bearer" HEADER=Authorization wrk -t2 -c"$c" -d"$DURATION" -s benches/http/sessions.lua "$BASE/api/v1/me" | tail -1
  printf 'GET / (dashboard) c=%-3s ' "$c"
  SESSIONS="$WORK/cookies" HEADER=Cookie wrk -t2 -c"$c" -d"$DURATION" -s benches/http/sessions.lua "$BASE/" | tail -1
done
