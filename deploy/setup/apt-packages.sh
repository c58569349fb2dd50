#!/usr/bin/env bash
# Installs the Debian packages the deploy tests (tests/deploy) need, only when they are missing:
#   docker-compose  -> `docker-compose config` validates docker-compose.yml without a container engine
#   prometheus      -> `promtool` checks deploy/prometheus/prometheus.yml and unit-tests the alerting rules,
#                      and the `prometheus` server scrapes real service instances in tests/deploy/test_prometheus_live.py
#   chromium        -> the headless browser the console's browser tests (tests/console) drive with Playwright
# Idempotent: does nothing (and needs no network) when every command is already there.
# Runs `apt-get update` at most once. Needs root (or sudo) when something has to be installed.
set -euo pipefail

declare -A COMMANDS_OF=([docker-compose]="docker-compose" [prometheus]="promtool prometheus" [chromium]="chromium")
has_commands() {
    local cmd
    for cmd in ${COMMANDS_OF[$1]}; do
        command -v "$cmd" > /dev/null 2>&1 || return 1
    done
}
missing=()
for pkg in docker-compose prometheus chromium; do
    if ! has_commands "$pkg"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "apt-packages: docker-compose, promtool, prometheus and chromium present"
    exit 0
fi

if ! command -v apt-get > /dev/null 2>&1; then
    echo "apt-packages: missing ${missing[*]} and no apt-get to install them" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "apt-packages: missing ${missing[*]}; run as root (or with sudo) to install them" >&2
        exit 1
    fi
fi

# The prometheus package ships a server daemon; the tests run the binary themselves on loopback, so the
# package's own service must not start. Where no policy-rc.d exists,
# install a temporary one so that no service is started by the package scripts.
POLICY=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" > /dev/null
    "${SUDO[@]}" chmod 0755 "$POLICY"
    added_policy=1
fi
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT

echo "apt-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null

for pkg in "${missing[@]}"; do
    if ! has_commands "$pkg"; then
        echo "apt-packages: ${pkg} installed but ${COMMANDS_OF[$pkg]} is still not on PATH" >&2
        exit 1
    fi
done
echo "apt-packages: installed ${missing[*]}"
