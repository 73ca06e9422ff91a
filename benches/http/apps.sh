#!/usr/bin/env bash
# HTTP load benchmark of a plugin page: GET /e/0750652B/apps/bench/page (the `trivial` test
# plugin, installed and enabled for Collège Condorcet) with many distinct cookie sessions, against
# `preau serve` (release) on the demo data; the dashboard (with the plugin's widget) beside it.
#   benches/http/apps.sh                  # SQLite
#   DB=postgres benches/http/apps.sh      # PostgreSQL (PREAU_BENCH_PG, default the local test server)
# Needs wrk and curl. Prints one line per run; BENCHMARKS.md records them.
set -euo pipefail
cd "$(dirname "$0")/../.."
SESSIONS_COUNT=${SESSIONS_COUNT:-200}
DURATION=${DURATION:-15s}
PORT=${PORT:-18081}
PASSWORD='Bench-Password-2026!'
WORK=$(mktemp -d)
trap 'kill ${SERVER:-0} 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet -p preau-core --bin preau
cargo build --release --quiet --target wasm32-wasip2 --manifest-path tests/plugins/trivial/Cargo.toml --target-dir target/plugins
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

# The plugin: the trivial component with a route and a widget, unsigned (a bench instance).
mkdir -p "$WORK/plugin"
cp target/plugins/wasm32-wasip2/release/trivial.wasm "$WORK/plugin/"
cat > "$WORK/plugin/plugin.toml" <<'TOML'
id = "bench:page"
version = "1.0.0"
licence = "MIT"
component = "trivial.wasm"
host_api = "^1.0"
[name]
fr = "Bonjour"
en = "Hello"
[description]
fr = "Une page d'essai."
en = "A test page."
[[permissions]]
id = "voir"
family = "consultation"
label = { fr = "Voir", en = "See" }
defaults = ["eleve", "enseignant", "parent"]
[[routes]]
path = "/"
permission = "voir"
auth = "user"
[[widgets]]
id = "accueil"
title = { fr = "Accueil", en = "Home" }
permission = "voir"
TOML
./target/release/preau plugin pack "$WORK/plugin" --out "$WORK/page.preau" >/dev/null
./target/release/preau plugin install --file "$WORK/page.preau" --allow-unsigned --data "$WORK/data" >/dev/null
./target/release/preau plugin enable bench:page --establishment 0750652B --yes --data "$WORK/data" >/dev/null

PREAU_LISTEN=127.0.0.1:$PORT ./target/release/preau serve --data "$WORK/data" >/dev/null 2>&1 &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

# Distinct activated accounts of Collège Condorcet holding the page's permission (pupils,
# teachers, parents: the manifest's defaults).
python3 - "$WORK/accounts.json" "$SESSIONS_COUNT" > "$WORK/logins" <<'PY'
import json, sys
accounts = [a for a in json.load(open(sys.argv[1])) if a["activation_code"] is None
            and any(x["uai"] == "0750652B" and x["profile"] in ("eleve", "enseignant", "parent")
                    for x in a["attachments"])]
for a in accounts[: int(sys.argv[2])]:
    print(a["login"])
PY
: > "$WORK/cookies"
while read -r login; do
  csrf=$(curl -sf -c "$WORK/jar" -o /dev/null "$BASE/connexion"; awk '$6=="preau_csrf"{print $7}' "$WORK/jar")
  session=$(curl -s -b "$WORK/jar" -o /dev/null -D - "$BASE/connexion" \
    --data-urlencode "_csrf=$csrf" --data-urlencode "login=$login" --data-urlencode "password=$PASSWORD" \
    | awk -F'[=;]' 'tolower($1)=="set-cookie: preau_session"{print $2}')
  echo "preau_session=$session" >> "$WORK/cookies"
  rm -f "$WORK/jar"
done < "$WORK/logins"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(head -1 "$WORK/cookies")" "$BASE/e/0750652B/apps/bench/page")
[ "$status" = 200 ] || { echo "the plugin page answered $status" >&2; exit 1; }

echo "engine=${DB:-sqlite} sessions=$(wc -l < "$WORK/cookies") duration=$DURATION"
for c in 8 32; do
  printf 'GET plugin page    c=%-3s ' "$c"
  SESSIONS="$WORK/cookies" HEADER=Cookie wrk -t2 -c"$c" -d"$DURATION" -s benches/http/sessions.lua "$BASE/e/0750652B/apps/bench/page" | tail -1
  printf 'GET / (1 widget)   c=%-3s ' "$c"
  SESSIONS="$WORK/cookies" HEADER=Cookie wrk -t2 -c"$c" -d"$DURATION" -s benches/http/sessions.lua "$BASE/" | tail -1
done
