#!/usr/bin/env bash
# Installs the Debian 12 packages kq builds and tests with; quiet when all are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  librocksdb-dev libsimdjson-dev libzstd-dev zstd tao-pegtl-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev libcpp-httplib-dev libssl-dev openssl zlib1g-dev libre2-dev libcli11-dev
  libedit-dev
  jq sqlite3 gzip time procps curl python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js runs the DuckDB peer of the benchmarks; a machine may already have its own build.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kq: installing missing packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
