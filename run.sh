#!/usr/bin/env bash
# Builds kq (Release) and starts kqd in the foreground on embedded defaults:
#   data in ./kq-data (environments prod and dev), gRPC on 127.0.0.1:9910, HTTP (webhook,
#   /metrics, /healthz, /readyz) on 127.0.0.1:9911.
# On a fresh data directory it first loads a generated demo data set into both environments.
# Extra arguments are passed to kqd (see build/bin/kqd --help).
set -euo pipefail
cd "$(dirname "$0")"

./cmake/install-deps.sh

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target kq kqd

data=./kq-data
if [ ! -d "$data" ]; then
  echo "kq: loading a demo data set (one day of generated cluster traffic) into $data" >&2
  start=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)
  demo=$(mktemp -d)
  trap 'rm -rf "$demo"' EXIT
  build/bin/kq gen --seed 1 --events 60000 --rate 0.7 --start "$start" --cluster prod-east \
    --output "$demo/prod.jsonl"
  build/bin/kq gen --seed 2 --events 30000 --rate 0.35 --start "$start" --cluster dev-1 \
    --output "$demo/dev.jsonl"
  build/bin/kq --data "$data" import --env prod --cluster prod-east "$demo/prod.jsonl"
  build/bin/kq --data "$data" import --env dev --cluster dev-1 "$demo/dev.jsonl"
fi

cat >&2 <<'TRY'

kqd is starting. In another terminal, try:
  build/bin/kq --server 127.0.0.1:9910 query 'events | where verb == "delete" | summarize n = count() by user, ns | sort by n desc | take 10'
  build/bin/kq --server 127.0.0.1:9910 query 'events | where code >= 400 | summarize n = count() by bin(time, 1h)'
  build/bin/kq --server 127.0.0.1:9910 query --env dev 'events | where user == "system:anonymous" | take 5'
Or open the shell: build/bin/kq --server 127.0.0.1:9910

TRY
exec build/bin/kqd --data "$data" --grpc-listen 127.0.0.1:9910 --http-listen 127.0.0.1:9911 "$@"
