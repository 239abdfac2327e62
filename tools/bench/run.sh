#!/usr/bin/env bash
# Side-by-side benchmark of kq against what users would pick instead (issue 9).
#
#   tools/bench/run.sh [--events N] [--runs N] [--jq-runs N] [--no-compress] [--no-webhook]
#                      [--no-sqlite] [--workdir DIR] [--report FILE] [--keep]
#
# Generates one corpus with `kq gen`, then measures on that same file, in one run:
#   kq      bulk import (kq --data DIR import), webhook ingest through kqd (15 concurrent
#           senders, 400-event EventList batches, durable 200s), bytes on disk, peak RSS, and
#           the latency (median, p95) of six fixed queries;
#   SQLite  the JSON in a table with indexed generated columns (Debian's sqlite3; --no-sqlite
#           skips it: loading 10M events takes it about 4 minutes);
#   DuckDB  the JSON loaded into a native table (@duckdb/node-api from npm, installed into
#           tools/bench/peers/node_modules);
#   jq      the same questions as scans of the file;
#   gzip -6 and zstd -19 of the file, as compression references (zstd -19 is slow, about
#   1 MB/s per core: above 200,000 events it compresses the first 200,000 lines and scales;
#   --no-compress skips both).
# and writes the "Side by side" section of docs/benchmarks.md (or --report FILE).
#
# Needs the built binaries (build/bin/kq, build/bin/kqd; BUILD_DIR overrides build/). Missing
# tools are installed with apt-get and npm when possible; a peer that cannot be installed is
# skipped and the report says so. Nothing else is fetched from the network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
KQ="$BUILD_DIR/bin/kq"
KQD="$BUILD_DIR/bin/kqd"
PEERS="$ROOT/tools/bench/peers"

EVENTS=1000000
RUNS=10
JQ_RUNS=1
COMPRESS=1
WEBHOOK=1
SQLITE=1
WORK="$ROOT/tools/bench/out/work"
REPORT="$ROOT/docs/benchmarks.md"
KEEP=0
SEED=1
NS=payments
ZSTD_SAMPLE_LINES=200000

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --jq-runs) JQ_RUNS="$2"; shift 2 ;;
    --no-compress) COMPRESS=0; shift ;;
    --no-webhook) WEBHOOK=0; shift ;;
    --no-sqlite) SQLITE=0; shift ;;
    --workdir) WORK="$2"; shift 2 ;;
    --report) REPORT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done
for n in "$EVENTS" "$RUNS" "$JQ_RUNS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "run.sh: not a number: $n" >&2; exit 2; }
done
[[ "$EVENTS" -ge 1000 ]] || { echo "run.sh: --events must be at least 1000" >&2; exit 2; }
[[ "$RUNS" -ge 1 ]] || { echo "run.sh: --runs must be at least 1" >&2; exit 2; }

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools

SUDO=""
if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null; then SUDO="sudo -n"; fi
APT_UPDATED=0
apt_install() {  # apt_install PACKAGE...: quiet; true when installed
  command -v apt-get >/dev/null || return 1
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null 2>&1
}
need() {  # need COMMAND PACKAGE: installs PACKAGE when COMMAND is missing; false if it cannot
  command -v "$1" >/dev/null && return 0
  log "installing $2"
  apt_install "$2" && command -v "$1" >/dev/null
}

[[ -x "$KQ" ]] || die "$KQ not found: build first (cmake --build $BUILD_DIR --target kq kqd)"
[[ -x /usr/bin/time ]] || apt_install time || die "/usr/bin/time is needed (apt-get install time)"
need curl curl || die "curl is needed"
HAVE_SQLITE="$SQLITE"; [[ "$SQLITE" -eq 0 ]] || need sqlite3 sqlite3 || HAVE_SQLITE=0
HAVE_JQ=1; need jq jq || HAVE_JQ=0
HAVE_ZSTD=1; need zstd zstd || HAVE_ZSTD=0
HAVE_DUCKDB=1
if need node nodejs && need npm npm; then
  if [[ ! -d "$PEERS/node_modules/@duckdb/node-api" ]]; then
    log "installing @duckdb/node-api into tools/bench/peers"
    (cd "$PEERS" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
      HAVE_DUCKDB=0
  fi
  node "$PEERS/duckdb_bench.mjs" version >/dev/null 2>&1 || HAVE_DUCKDB=0
else
  HAVE_DUCKDB=0
fi
WEBHOOK_NOTE="skipped (--no-webhook)"
if [[ "$WEBHOOK" -eq 1 && ! -x "$KQD" ]]; then WEBHOOK=0; WEBHOOK_NOTE="skipped (kqd not built)"; fi

# ---------------------------------------------------------------------------------------------
# Helpers

KQD_PID=""
cleanup() {
  if [[ -n "$KQD_PID" ]]; then kill "$KQD_PID" 2>/dev/null || true; wait "$KQD_PID" 2>/dev/null || true; fi
  if [[ "$KEEP" -eq 0 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

now_ns() { date +%s%N; }
# timed OUT_FILE CMD...: runs CMD with stdout to OUT_FILE (stderr to OUT_FILE.err); prints the
# wall time in ms. A failing CMD is reported on stderr (its rows will not match).
timed() {
  local out="$1"; shift
  local t0 t1
  t0=$(now_ns)
  if ! "$@" >"$out" 2>"$out.err"; then
    log "warning: failed: $* -- $(head -c 300 "$out.err")"
  fi
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000000 ))
}
# rss_run LOG CMD...: runs CMD under /usr/bin/time -v (stdout kept); LOG gets time's report.
rss_run() { local log="$1"; shift; /usr/bin/time -v -o "$log" "$@"; }
peak_rss_mb() { awk -F: '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
wall_s() {  # elapsed "h:mm:ss" or "m:ss.cc" from /usr/bin/time -v
  awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
    for (i = 1; i <= n; ++i) s = s * 60 + p[i]; printf "%.2f", s}' "$1"
}
# stats MS...: "median p95" (nearest rank) of the numbers
stats() {  # stats MS...: "median p95" of the values, as given (ms, integers or decimals)
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    m = int((NR + 1) / 2); p = int(NR * 0.95); if (p < NR * 0.95) p++; if (p < 1) p = 1;
    printf "%s %s", v[m], v[p]}'
}
# duration_ms: kq's durations on stdin ("850us", "12ms", "1s250ms"), one per line, to ms
# with one decimal.
duration_ms() {
  awk '{ t = 0; s = $0
    while (match(s, /^[0-9]+(us|ms|s|m|h)/)) {
      part = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
      n = part + 0; u = part; sub(/^[0-9]+/, "", u)
      t += n * (u == "us" ? 0.001 : u == "ms" ? 1 : u == "s" ? 1000 : u == "m" ? 60000 : 3600000)
    }
    printf "%.1f\n", t }'
}
bytes_of() { du -sb "$1" | cut -f1; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "n/a"}'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_kqd DATA_DIR: starts kqd on free loopback ports (GRPC_PORT, HTTP_PORT, KQD_PID); fails
# when it is not ready within 30 s (its log is $WORK/kqd.log).
start_kqd() {
  local i
  GRPC_PORT=$(free_port)
  HTTP_PORT=$(free_port)
  "$KQD" --data "$1" --grpc-listen "127.0.0.1:$GRPC_PORT" --http-listen "127.0.0.1:$HTTP_PORT" \
    >"$WORK/kqd.log" 2>&1 &
  KQD_PID=$!
  for (( i = 0; i < 300; ++i )); do
    if curl -fsS "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$KQD_PID" 2>/dev/null || break
    sleep 0.1
  done
  stop_kqd
  return 1
}
# stop_kqd: SIGTERM (kqd drains and flushes) and wait.
stop_kqd() {
  kill "$KQD_PID" 2>/dev/null || true
  wait "$KQD_PID" 2>/dev/null || true
  KQD_PID=""
}

load_average() { cut -d' ' -f1 /proc/loadavg; }
LOAD_START=$(load_average)

rm -rf "$WORK"
mkdir -p "$WORK"
CORPUS="$WORK/audit.jsonl"
RESULTS="$WORK/results.tsv"  # system \t query \t median \t p95 \t rows
: >"$RESULTS"

# ---------------------------------------------------------------------------------------------
# Corpus: ends about now, so "the last day" covers it

RATE=200
if (( EVENTS / RATE > 80000 )); then RATE=$(( EVENTS / 80000 + 1 )); fi
SPAN=$(( EVENTS / RATE + 120 ))
GEN_CMD=("$KQ" gen --events "$EVENTS" --seed "$SEED" --rate "$RATE" --start "now-${SPAN}s" --cluster bench)
log "generating $EVENTS events"
"${GEN_CMD[@]}" --output "$CORPUS"
RAW_BYTES=$(bytes_of "$CORPUS")
LINES=$(wc -l <"$CORPUS")
[[ "$LINES" -eq "$EVENTS" ]] || die "kq gen wrote $LINES lines, expected $EVENTS"
NEEDLE=$(sed -n "$(( EVENTS / 2 ))p" "$CORPUS" | grep -o '"auditID":"[^"]*"' | cut -d'"' -f4)
CUTOFF=$(date -u -d '24 hours ago' +%Y-%m-%dT%H:%M:%S.000000Z)
log "corpus: $(mb "$RAW_BYTES") MiB, needle $NEEDLE"

QUERY_NAMES=(needle deleted by_verb_user errors_5m privileged latest_100)
declare -A QUERY_TITLE=(
  [needle]="needle: one auditID"
  [deleted]="who deleted what in $NS, last day"
  [by_verb_user]="count by verb and user"
  [errors_5m]="errors (code >= 400) per 5 minutes"
  [privileged]="pods created privileged (body search)"
  [latest_100]="latest 100 events of $NS"
)
declare -A KQ_Q=(
  [needle]="events | where auditID == \"$NEEDLE\""
  [deleted]="events | where time > ago(1d) and ns == \"$NS\" and verb == \"delete\" | project time, user, resource, name"
  [by_verb_user]="events | summarize n = count() by verb, user | sort by n desc"
  [errors_5m]="events | where code >= 400 | summarize n = count() by bin(time, 5m) | sort by time asc"
  [privileged]="events | where verb == \"create\" and resource == \"pods\" and requestObject.spec.containers[*].securityContext.privileged == true | project time, user, ns"
  [latest_100]="events | where ns == \"$NS\" | sort by time desc | take 100"
)
declare -A SQLITE_Q=(
  [needle]="SELECT event FROM events WHERE audit_id = '$NEEDLE';"
  [deleted]="SELECT time, username, resource, name FROM events WHERE ns = '$NS' AND verb = 'delete' AND time > '$CUTOFF';"
  [by_verb_user]="SELECT verb, username, count(*) AS n FROM events GROUP BY verb, username ORDER BY n DESC;"
  [errors_5m]="SELECT substr(time, 1, 14) || printf('%02d', CAST(substr(time, 15, 2) AS INTEGER) / 5 * 5) AS bucket, count(*) FROM events WHERE code >= 400 GROUP BY bucket ORDER BY bucket;"
  [privileged]="SELECT time, username, ns FROM events WHERE resource = 'pods' AND verb = 'create' AND EXISTS (SELECT 1 FROM json_each(event, '\$.requestObject.spec.containers') AS c WHERE json_extract(c.value, '\$.securityContext.privileged') = 1);"
  [latest_100]="SELECT event FROM events WHERE ns = '$NS' ORDER BY time DESC LIMIT 100;"
)
declare -A DUCKDB_Q=(
  [needle]="SELECT * FROM events WHERE auditID = '$NEEDLE'"
  [deleted]="SELECT requestReceivedTimestamp AS time, \"user\".username, objectRef.resource, objectRef.name FROM events WHERE objectRef.namespace = '$NS' AND verb = 'delete' AND requestReceivedTimestamp > TIMESTAMP '${CUTOFF%Z}'"
  [by_verb_user]="SELECT verb, \"user\".username AS username, count(*) AS n FROM events GROUP BY ALL ORDER BY n DESC"
  [errors_5m]="SELECT time_bucket(INTERVAL 5 MINUTE, requestReceivedTimestamp) AS bucket, count(*) AS n FROM events WHERE responseStatus.code >= 400 GROUP BY bucket ORDER BY bucket"
  [privileged]="SELECT requestReceivedTimestamp AS time, \"user\".username, objectRef.namespace FROM events WHERE verb = 'create' AND objectRef.resource = 'pods' AND list_contains(CAST(json_extract(requestObject, '\$.spec.containers[*].securityContext.privileged') AS VARCHAR[]), 'true')"
  [latest_100]="SELECT * FROM events WHERE objectRef.namespace = '$NS' ORDER BY requestReceivedTimestamp DESC LIMIT 100"
)
declare -A JQ_Q=(
  [needle]="jq -c --arg id $NEEDLE 'select(.auditID == \$id)' FILE"
  [deleted]="jq -c --arg c $CUTOFF 'select(.objectRef.namespace == \"$NS\" and .verb == \"delete\" and .requestReceivedTimestamp > \$c) | [.requestReceivedTimestamp, .user.username, .objectRef.resource, .objectRef.name]' FILE"
  [by_verb_user]="jq -n -c 'reduce inputs as \$e ({}; .[\$e.verb + \" \" + (\$e.user.username // \"\")] += 1) | to_entries | sort_by(-.value) | .[]' FILE"
  [errors_5m]="jq -n -c 'reduce (inputs | select((.responseStatus.code // 0) >= 400) | .requestReceivedTimestamp | .[0:14] + ((.[14:16] | tonumber) / 5 | floor * 5 | tostring)) as \$b ({}; .[\$b] += 1) | to_entries | sort_by(.key) | .[]' FILE"
  [privileged]="jq -c 'select(.verb == \"create\" and .objectRef.resource == \"pods\" and any(.requestObject.spec.containers[]?; .securityContext.privileged == true)) | [.requestReceivedTimestamp, .user.username, .objectRef.namespace]' FILE"
  [latest_100]="jq -r 'select(.objectRef.namespace == \"$NS\") | \"\\(.requestReceivedTimestamp)\\t\\(tojson)\"' FILE | sort -r | head -n 100 | cut -f2-"
)

# ---------------------------------------------------------------------------------------------
# kq: bulk import, bytes on disk, queries

KQ_DATA="$WORK/kq"
log "kq import"
rss_run "$WORK/kq-import.time" "$KQ" --data "$KQ_DATA" import --env prod "$CORPUS" >"$WORK/kq-import.out" 2>&1 ||
  { cat "$WORK/kq-import.out" >&2; die "kq import failed"; }
KQ_IMPORT_S=$(wall_s "$WORK/kq-import.time")
KQ_IMPORT_RSS=$(peak_rss_mb "$WORK/kq-import.time")
KQ_BYTES=$(bytes_of "$KQ_DATA")
KQ_COUNT=$("$KQ" --data "$KQ_DATA" query --format jsonl 'events | count' | grep -o '[0-9]\+' | head -1)
[[ "$KQ_COUNT" -eq "$EVENTS" ]] || log "warning: kq holds $KQ_COUNT events, expected $EVENTS"

# time_kq_queries SYSTEM CMD...: RUNS timed runs of every query through CMD QUERY; one row of
# RESULTS per query.
time_kq_queries() {
  local system="$1"; shift
  local q i times
  for q in "${QUERY_NAMES[@]}"; do
    log "$system query $q"
    times=()
    for (( i = 0; i < RUNS; ++i )); do
      times+=("$(timed "$WORK/$system-$q.out" "$@" "${KQ_Q[$q]}")")
    done
    printf '%s\t%s\t%s\t%s\n' "$system" "$q" "$(stats "${times[@]}" | tr ' ' '\t')" \
      "$(wc -l <"$WORK/$system-$q.out")" >>"$RESULTS"
  done
}
# time_kq_shell_queries ADDR: per query, one `kq --server ADDR` shell that runs it RUNS times
# over one connection (as DuckDB runs its RUNS in one process); each run's time is the
# shell's `.timing` total: from sending the query to the last row written.
time_kq_shell_queries() {
  local q i
  for q in "${QUERY_NAMES[@]}"; do
    log "kq shell query $q"
    { printf '.format jsonl\n.timing on\n'
      for (( i = 0; i < RUNS; ++i )); do printf '%s\n' "${KQ_Q[$q]}"; done; } >"$WORK/shell-$q.in"
    KQ_HISTORY="$WORK/kq-history" "$KQ" --server "$1" <"$WORK/shell-$q.in" \
      >"$WORK/kq-shell-$q.out" 2>"$WORK/kq-shell-$q.err" ||
      log "warning: kq shell failed on $q -- $(head -c 300 "$WORK/kq-shell-$q.err")"
    local -a ms
    mapfile -t ms < <(grep -o 'total [0-9a-z]*$' "$WORK/kq-shell-$q.err" | cut -d' ' -f2 | duration_ms)
    [[ ${#ms[@]} -eq "$RUNS" ]] || { log "warning: kq shell timed ${#ms[@]} of $RUNS runs of $q"; continue; }
    printf 'kq-shell\t%s\t%s\t%s\n' "$q" "$(stats "${ms[@]}" | tr ' ' '\t')" \
      "$(( ($(wc -l <"$WORK/kq-shell-$q.out") - 2) / RUNS ))" >>"$RESULTS"
  done
}
# Warm: kqd serves the imported store. Each query runs RUNS times in one kq shell (one
# connection), and RUNS times as one `kq --server` process each (CLI start, gRPC connection,
# query, output), the two ways an engineer asks a running kqd.
if [[ -x "$KQD" ]] && start_kqd "$KQ_DATA"; then
  time_kq_shell_queries "127.0.0.1:$GRPC_PORT"
  time_kq_queries kq "$KQ" --server "127.0.0.1:$GRPC_PORT" query --format jsonl
  stop_kqd
else
  log "warning: kqd did not start on the imported store; kq (kqd) query times skipped"
fi
# Cold: each query is one embedded `kq --data` process that opens the store itself.
time_kq_queries kq-cold "$KQ" --data "$KQ_DATA" query --format jsonl

# kq: webhook ingest into kqd, durable acknowledgements
if [[ "$WEBHOOK" -eq 1 ]] && ! command -v node >/dev/null; then WEBHOOK=0; WEBHOOK_NOTE="skipped (node missing)"; fi
if [[ "$WEBHOOK" -eq 1 ]]; then
  log "kqd webhook ingest"
  "${GEN_CMD[@]}" --format eventlist --batch-size 400 --output "$WORK/batches.jsonl"
  if start_kqd "$WORK/kqd"; then
    node "$PEERS/webhook_send.mjs" "http://127.0.0.1:$HTTP_PORT/ingest/prod/bench" \
      "$WORK/batches.jsonl" 15 >"$WORK/webhook.json"
    WEBHOOK_S=$(grep -o '"seconds":[0-9.]*' "$WORK/webhook.json" | cut -d: -f2 | xargs printf "%.2f")
    WEBHOOK_FAILURES=$(grep -o '"failures":[0-9]*' "$WORK/webhook.json" | cut -d: -f2)
    WEBHOOK_RETRIES=$(grep -o '"retries":[0-9]*' "$WORK/webhook.json" | cut -d: -f2)
    WEBHOOK_RSS=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$KQD_PID/status")
    WEBHOOK_COUNT=$("$KQ" --server "127.0.0.1:$GRPC_PORT" query --format jsonl 'events | count' 2>/dev/null |
      grep -o '[0-9]\+' | head -1 || true)
    WEBHOOK_NOTE="${WEBHOOK_COUNT:-?} events stored, $WEBHOOK_RETRIES retries, $WEBHOOK_FAILURES failed batches"
    stop_kqd
    rm -f "$WORK/batches.jsonl"  # as large as the corpus
    WEBHOOK_BYTES=$(bytes_of "$WORK/kqd")
  else
    WEBHOOK=0
    WEBHOOK_NOTE="skipped (kqd did not become ready; see its log)"
    tail -5 "$WORK/kqd.log" >&2 || true
  fi
fi

# ---------------------------------------------------------------------------------------------
# SQLite: the JSON with indexed generated columns, as a careful user would set it up

SQLITE_NOTE=""
if [[ "$HAVE_SQLITE" -eq 1 ]]; then
  log "sqlite load"
  SQLITE_DB="$WORK/audit.sqlite"
  cat >"$WORK/sqlite-load.sql" <<EOF
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
-- The JSON goes straight into the table; the generated columns are added afterwards (a
-- temporary staging table would need the corpus's size again in temporary space).
CREATE TABLE events (event TEXT NOT NULL);
.mode ascii
.separator "\037" "\n"
.import $CORPUS events
ALTER TABLE events ADD COLUMN audit_id TEXT GENERATED ALWAYS AS (json_extract(event, '\$.auditID')) VIRTUAL;
ALTER TABLE events ADD COLUMN time TEXT GENERATED ALWAYS AS (json_extract(event, '\$.requestReceivedTimestamp')) VIRTUAL;
ALTER TABLE events ADD COLUMN verb TEXT GENERATED ALWAYS AS (json_extract(event, '\$.verb')) VIRTUAL;
ALTER TABLE events ADD COLUMN username TEXT GENERATED ALWAYS AS (json_extract(event, '\$.user.username')) VIRTUAL;
ALTER TABLE events ADD COLUMN ns TEXT GENERATED ALWAYS AS (json_extract(event, '\$.objectRef.namespace')) VIRTUAL;
ALTER TABLE events ADD COLUMN resource TEXT GENERATED ALWAYS AS (json_extract(event, '\$.objectRef.resource')) VIRTUAL;
ALTER TABLE events ADD COLUMN name TEXT GENERATED ALWAYS AS (json_extract(event, '\$.objectRef.name')) VIRTUAL;
ALTER TABLE events ADD COLUMN code INTEGER GENERATED ALWAYS AS (json_extract(event, '\$.responseStatus.code')) VIRTUAL;
CREATE INDEX events_audit_id ON events (audit_id);
CREATE INDEX events_ns_time ON events (ns, time);
CREATE INDEX events_verb_user ON events (verb, username);
CREATE INDEX events_code_time ON events (code, time);
CREATE INDEX events_resource_verb ON events (resource, verb);
ANALYZE;
EOF
  rss_run "$WORK/sqlite-load.time" sqlite3 "$SQLITE_DB" <"$WORK/sqlite-load.sql" >/dev/null
  SQLITE_LOAD_S=$(wall_s "$WORK/sqlite-load.time")
  SQLITE_RSS=$(peak_rss_mb "$WORK/sqlite-load.time")
  SQLITE_BYTES=$(bytes_of "$SQLITE_DB")
  run_sqlite_query() { sqlite3 -readonly "$SQLITE_DB" "$1"; }
  for q in "${QUERY_NAMES[@]}"; do
    log "sqlite query $q"
    times=()
    for (( i = 0; i < RUNS; ++i )); do
      times+=("$(timed "$WORK/sqlite-$q.out" run_sqlite_query "${SQLITE_Q[$q]}")")
    done
    printf 'sqlite\t%s\t%s\t%s\n' "$q" "$(stats "${times[@]}" | tr ' ' '\t')" "$(wc -l <"$WORK/sqlite-$q.out")" >>"$RESULTS"
  done
else
  SQLITE_NOTE="skipped ($([[ "$SQLITE" -eq 0 ]] && echo --no-sqlite || echo 'sqlite3 not installable'))"
fi

# ---------------------------------------------------------------------------------------------
# DuckDB: the JSON loaded into a native table

DUCKDB_NOTE=""
if [[ "$HAVE_DUCKDB" -eq 1 ]]; then
  log "duckdb load"
  DUCK_DB="$WORK/audit.duckdb"
  rss_run "$WORK/duckdb-load.time" node "$PEERS/duckdb_bench.mjs" load "$DUCK_DB" "$CORPUS" >"$WORK/duckdb-load.json"
  DUCKDB_LOAD_S=$(wall_s "$WORK/duckdb-load.time")
  DUCKDB_RSS=$(peak_rss_mb "$WORK/duckdb-load.time")
  DUCKDB_BYTES=$(bytes_of "$DUCK_DB")
  {
    printf '['
    sep=""
    for q in "${QUERY_NAMES[@]}"; do
      printf '%s{"name":"%s","sql":%s}' "$sep" "$q" "$(printf '%s' "${DUCKDB_Q[$q]}" | jq -Rs . 2>/dev/null ||
        printf '%s' "${DUCKDB_Q[$q]}" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')"
      sep=","
    done
    printf ']\n'
  } >"$WORK/duckdb-queries.json"
  log "duckdb queries"
  node "$PEERS/duckdb_bench.mjs" query "$DUCK_DB" "$RUNS" "$WORK/duckdb-queries.json" >"$WORK/duckdb-queries.out"
  while IFS= read -r line; do
    q=$(printf '%s' "$line" | grep -o '"name":"[^"]*"' | cut -d'"' -f4)
    rows=$(printf '%s' "$line" | grep -o '"rows":[0-9]*' | cut -d: -f2)
    mapfile -t ms < <(printf '%s' "$line" | grep -o '"ms":\[[^]]*\]' | sed 's/"ms":\[//; s/\]//' | tr ',' '\n' |
      awk '{printf "%.1f\n", $1}')
    printf 'duckdb\t%s\t%s\t%s\n' "$q" "$(stats "${ms[@]}" | tr ' ' '\t')" "$rows" >>"$RESULTS"
  done <"$WORK/duckdb-queries.out"
else
  DUCKDB_NOTE="skipped (@duckdb/node-api not installable)"
fi

# ---------------------------------------------------------------------------------------------
# jq: scans of the file

if [[ "$HAVE_JQ" -eq 1 && "$JQ_RUNS" -gt 0 ]]; then
  for q in "${QUERY_NAMES[@]}"; do
    log "jq $q"
    cmd="${JQ_Q[$q]//FILE/\"\$CORPUS\"}"
    times=()
    for (( i = 0; i < JQ_RUNS; ++i )); do
      times+=("$(timed "$WORK/jq-$q.out" bash -c "CORPUS='$CORPUS'; $cmd")")
    done
    printf 'jq\t%s\t%s\t%s\n' "$q" "$(stats "${times[@]}" | tr ' ' '\t')" "$(wc -l <"$WORK/jq-$q.out")" >>"$RESULTS"
  done
fi

# ---------------------------------------------------------------------------------------------
# Compression references

if [[ "$COMPRESS" -eq 1 ]]; then
  log "gzip -6"
  rss_run "$WORK/gzip.time" gzip -6 -c "$CORPUS" >"$WORK/audit.jsonl.gz"
  GZIP_S=$(wall_s "$WORK/gzip.time")
  GZIP_BYTES=$(bytes_of "$WORK/audit.jsonl.gz")
  rm -f "$WORK/audit.jsonl.gz"
  if [[ "$HAVE_ZSTD" -eq 1 ]]; then
    log "zstd -19"
    # zstd -19 runs at about 1 MB/s per core: above ZSTD_SAMPLE_LINES lines it compresses that
    # many first lines and scales size and time to the whole file (the report says so).
    ZSTD_INPUT="$CORPUS"
    ZSTD_HOW="\`zstd -19 -T0 -c FILE\` (reference; not queryable)"
    if (( EVENTS > ZSTD_SAMPLE_LINES )); then
      ZSTD_INPUT="$WORK/zstd-sample.jsonl"
      head -n "$ZSTD_SAMPLE_LINES" "$CORPUS" >"$ZSTD_INPUT"
      ZSTD_HOW="\`zstd -19 -T0\` of the first $ZSTD_SAMPLE_LINES lines, size and time scaled to the whole file (reference; not queryable)"
    fi
    rss_run "$WORK/zstd.time" zstd -q -19 -T0 -c "$ZSTD_INPUT" >"$WORK/audit.jsonl.zst"
    ZSTD_SCALE=$(awk -v a="$RAW_BYTES" -v b="$(bytes_of "$ZSTD_INPUT")" 'BEGIN {printf "%.6f", a / b}')
    ZSTD_S=$(awk -v t="$(wall_s "$WORK/zstd.time")" -v k="$ZSTD_SCALE" 'BEGIN {printf "%.2f", t * k}')
    ZSTD_BYTES=$(awk -v n="$(bytes_of "$WORK/audit.jsonl.zst")" -v k="$ZSTD_SCALE" 'BEGIN {printf "%.0f", n * k}')
    [[ "$ZSTD_INPUT" == "$CORPUS" ]] || rm -f "$ZSTD_INPUT"
    rm -f "$WORK/audit.jsonl.zst"
  fi
fi

# ---------------------------------------------------------------------------------------------
# Report

result() {  # result SYSTEM QUERY FIELD(3=median,4=p95,5=rows)
  awk -F'\t' -v s="$1" -v q="$2" -v f="$3" '$1 == s && $2 == q {print $f}' "$RESULTS"
}
rows() { local r; r=$(result "$1" "$2" 5); echo "${r:--}"; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN {if (s > 0) printf "%.0f", n / s; else printf "n/a"}'; }
mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN {if (s > 0) printf "%.1f", b / 1048576 / s; else printf "n/a"}'; }
cell() {  # median / p95 ms, or "-"
  local m p
  m=$(result "$1" "$2" 3)
  p=$(result "$1" "$2" 4)
  if [[ -n "$m" ]]; then echo "$m / $p"; else echo "-"; fi
}
qratio() {  # qratio PEER QUERY [KQ_SYSTEM]: kq median / peer median
  local k p
  k=$(result "${3:-kq}" "$2" 3)
  p=$(result "$1" "$2" 3)
  if [[ -n "$k" && -n "$p" ]]; then awk -v a="$k" -v b="$p" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "n/a"}'; else echo "-"; fi
}

CPU=$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
CORES=$(nproc)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
OS=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
KQ_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
SQLITE_V=$( [[ "$HAVE_SQLITE" -eq 1 ]] && sqlite3 --version | cut -d' ' -f1 || echo -)
DUCKDB_V=$( [[ "$HAVE_DUCKDB" -eq 1 ]] && node "$PEERS/duckdb_bench.mjs" version || echo -)
JQ_V=$( [[ "$HAVE_JQ" -eq 1 ]] && jq --version || echo -)
ZSTD_V=$( [[ "$HAVE_ZSTD" -eq 1 ]] && zstd --version | grep -o 'v[0-9.]*' | head -1 || echo -)
GZIP_V=$(gzip --version | head -1 | awk '{print $2}')
NODE_V=$(command -v node >/dev/null && node --version || echo -)

SECTION="$WORK/section.md"
{
  echo "<!-- side-by-side:begin (written by tools/bench/run.sh; do not edit by hand) -->"
  echo "## Side by side"
  echo
  echo "Run on $(date -u +%Y-%m-%d) with \`tools/bench/run.sh --events $EVENTS --runs $RUNS\`."
  echo
  echo "- Machine: $CPU, $CORES cores, $MEM RAM, $OS; 1-minute load average $LOAD_START at the start, $(load_average) at the end (anything above the core count means other work shared the machine and the times are inflated)."
  echo "- Versions: kq $KQ_REV (Release build), SQLite $SQLITE_V, DuckDB $DUCKDB_V (@duckdb/node-api, Node $NODE_V), $JQ_V, gzip $GZIP_V, zstd $ZSTD_V."
  echo "- Corpus: \`kq gen --events $EVENTS --seed $SEED --rate $RATE --start now-${SPAN}s --cluster bench\`: $EVENTS events, $(mb "$RAW_BYTES") MiB of JSON lines ($(( RAW_BYTES / EVENTS )) bytes per event)."
  echo
  echo "### Ingest and storage"
  echo
  echo "| system | how | time (s) | events/s | MB/s | on disk (MiB) | raw / on disk | peak RSS (MiB) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  echo "| kq | \`kq --data DIR import --env prod FILE\` | $KQ_IMPORT_S | $(per_s "$EVENTS" "$KQ_IMPORT_S") | $(mb_per_s "$RAW_BYTES" "$KQ_IMPORT_S") | $(mb "$KQ_BYTES") | $(ratio "$RAW_BYTES" "$KQ_BYTES") | $KQ_IMPORT_RSS |"
  if [[ "$WEBHOOK" -eq 1 ]]; then
    echo "| kq (kqd webhook) | 15 senders, 400-event EventLists, 200 only when durable | $WEBHOOK_S | $(per_s "$EVENTS" "$WEBHOOK_S") | $(mb_per_s "$RAW_BYTES" "$WEBHOOK_S") | $(mb "$WEBHOOK_BYTES") | $(ratio "$RAW_BYTES" "$WEBHOOK_BYTES") | $WEBHOOK_RSS |"
  fi
  if [[ "$HAVE_SQLITE" -eq 1 ]]; then
    echo "| SQLite | \`.import\`, JSON column + 8 generated columns, 5 indexes | $SQLITE_LOAD_S | $(per_s "$EVENTS" "$SQLITE_LOAD_S") | $(mb_per_s "$RAW_BYTES" "$SQLITE_LOAD_S") | $(mb "$SQLITE_BYTES") | $(ratio "$RAW_BYTES" "$SQLITE_BYTES") | $SQLITE_RSS |"
  fi
  if [[ "$HAVE_DUCKDB" -eq 1 ]]; then
    echo "| DuckDB | \`read_json\` into a typed table (structs; bodies as JSON) | $DUCKDB_LOAD_S | $(per_s "$EVENTS" "$DUCKDB_LOAD_S") | $(mb_per_s "$RAW_BYTES" "$DUCKDB_LOAD_S") | $(mb "$DUCKDB_BYTES") | $(ratio "$RAW_BYTES" "$DUCKDB_BYTES") | $DUCKDB_RSS |"
  fi
  if [[ "$COMPRESS" -eq 1 ]]; then
    echo "| gzip -6 | \`gzip -6 -c FILE\` (reference; not queryable) | $GZIP_S | $(per_s "$EVENTS" "$GZIP_S") | $(mb_per_s "$RAW_BYTES" "$GZIP_S") | $(mb "$GZIP_BYTES") | $(ratio "$RAW_BYTES" "$GZIP_BYTES") | - |"
    if [[ "$HAVE_ZSTD" -eq 1 ]]; then
      echo "| zstd -19 | $ZSTD_HOW | $ZSTD_S | $(per_s "$EVENTS" "$ZSTD_S") | $(mb_per_s "$RAW_BYTES" "$ZSTD_S") | $(mb "$ZSTD_BYTES") | $(ratio "$RAW_BYTES" "$ZSTD_BYTES") | - |"
    fi
  fi
  echo
  echo "Storage ratios: kq / SQLite $(ratio "$KQ_BYTES" "${SQLITE_BYTES:-0}"), kq / DuckDB $(ratio "$KQ_BYTES" "${DUCKDB_BYTES:-0}"), kq / zstd -19 $(ratio "$KQ_BYTES" "${ZSTD_BYTES:-0}") (bytes on disk; below 1 means kq is smaller)."
  [[ "$WEBHOOK" -eq 1 ]] || echo "Webhook ingest: $WEBHOOK_NOTE."
  [[ "$WEBHOOK" -eq 0 ]] || echo "Webhook ingest: $WEBHOOK_NOTE."
  [[ -z "$SQLITE_NOTE" ]] || echo "SQLite: $SQLITE_NOTE."
  [[ -z "$DUCKDB_NOTE" ]] || echo "DuckDB: $DUCKDB_NOTE."
  echo
  echo "### Query latency (ms, median / p95 of $RUNS runs; jq: $JQ_RUNS run)"
  echo
  echo "| query | kq shell (kqd) | kq CLI (kqd) | kq cold (--data) | SQLite | DuckDB | jq | kq / SQLite | kq / DuckDB | kq / jq | rows kq / SQLite / DuckDB / jq |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for q in "${QUERY_NAMES[@]}"; do
    echo "| ${QUERY_TITLE[$q]} | $(cell kq-shell "$q") | $(cell kq "$q") | $(cell kq-cold "$q") | $(cell sqlite "$q") | $(cell duckdb "$q") | $(cell jq "$q") | $(qratio sqlite "$q") | $(qratio duckdb "$q" kq-shell) | $(qratio jq "$q") | $(rows kq "$q") / $(rows sqlite "$q") / $(rows duckdb "$q") / $(rows jq "$q") |"
  done
  echo
  echo "How each is measured, against a kqd serving the imported store: \"kq shell\" runs each query $RUNS times in one \`kq --server ADDR\` shell (one process, one gRPC connection; the time is the shell's \`.timing\` total, from sending the query to the last row written to a file), the way DuckDB runs each query $RUNS times inside one Node process on its loaded database file (warm after the first run). \"kq CLI\" is one \`kq --server ADDR query --format jsonl\` process per query (process start, about 10 ms on this machine for loading and initializing its shared libraries, gRPC connection, query, output to a file). \"kq cold\" and SQLite run one CLI process per query on the files (\`kq --data DIR query --format jsonl\`, \`sqlite3 -readonly\`), so each time also includes opening the store. Ratios pair like with like: kq / DuckDB uses the shell column (one warm process each), kq / SQLite and kq / jq the CLI column (a process per query each). jq scans the whole file each time. Ratios below 1 mean kq is faster or smaller. Row counts should agree; jq counts lines of its own output format."
  echo
  echo "<details><summary>The queries</summary>"
  echo
  for q in "${QUERY_NAMES[@]}"; do
    echo "**${QUERY_TITLE[$q]}**"
    echo
    echo '```'
    echo "kq:     ${KQ_Q[$q]}"
    echo "SQLite: ${SQLITE_Q[$q]}"
    echo "DuckDB: ${DUCKDB_Q[$q]}"
    echo "jq:     ${JQ_Q[$q]}"
    echo '```'
    echo
  done
  echo "</details>"
  echo "<!-- side-by-side:end -->"
} >"$SECTION"

mkdir -p "$(dirname "$REPORT")"
if [[ -f "$REPORT" ]] && grep -q '<!-- side-by-side:begin' "$REPORT"; then
  awk -v section="$SECTION" '
    /<!-- side-by-side:begin/ {while ((getline line < section) > 0) print line; skip = 1; next}
    /<!-- side-by-side:end -->/ {skip = 0; next}
    !skip {print}' "$REPORT" >"$WORK/report.md"
  cp "$WORK/report.md" "$REPORT"
else
  if [[ ! -f "$REPORT" ]]; then printf '# Benchmarks\n\n' >"$REPORT"; else echo >>"$REPORT"; fi
  cat "$SECTION" >>"$REPORT"
fi
log "wrote $REPORT"
cat "$SECTION"
