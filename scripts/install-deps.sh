#!/usr/bin/env bash
# Installs the Debian packages Sluice needs to build and test. Idempotent: when
# everything is present it only runs dpkg-query (well under a second).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang
  libpq-dev libpg-query-dev liblua5.4-dev libyaml-cpp-dev nlohmann-json3-dev
  libcurl4-openssl-dev libboost-dev libsqlite3-dev libspdlog-dev libfmt-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  postgresql-15 postgresql-client-15 procps
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
