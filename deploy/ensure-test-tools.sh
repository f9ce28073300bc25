#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine; a no-op (~1 s) when all is there.
#
#   - Java (>= 17, for the Kafka 4 broker) and Maven (fetches the broker's jars): Debian packages
#   - the Kafka jars, into the cache (NEWS_CACHE_DIR, default ~/.cache/news-streams) via
#     `python -m streams.broker fetch` (Maven Central; ~/.m2 is Maven's own cache)
#   - the Debian `prometheus` package: the tests run /usr/bin/prometheus and promtool themselves,
#     so the package's system service must not start (it would hold :9090); it is kept stopped.
#
# Needs root only when something must be apt-installed. Called by `make test` (and so CI).
set -euo pipefail

cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"

say() { printf '==> ensure-test-tools: %s\n' "$*"; }
die() { printf 'ensure-test-tools: ERROR: %s\n' "$*" >&2; exit 1; }

java_major() {
    # "17.0.15" -> 17, "1.8.0_382" -> 8; empty when java is missing or unparsable.
    command -v java >/dev/null 2>&1 || return 0
    java -version 2>&1 | sed -n 's/.*version "\([0-9.]*\).*/\1/p' | head -1 \
        | awk -F. '{ print ($1 == 1 ? $2 : $1) }'
}

# ---------------------------------------------------------------------- Debian packages
packages=()
major="$(java_major)"
if [[ -z "$major" || "$major" -lt 17 ]]; then
    say "Java ${major:-missing} (need >= 17 for the Kafka 4 broker)"
    packages+=(default-jre-headless)
fi
command -v mvn >/dev/null 2>&1 || { say "Maven (mvn) missing"; packages+=(maven); }
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    say "prometheus/promtool missing"
    packages+=(prometheus)
fi

if ((${#packages[@]})); then
    [[ "$(id -u)" == 0 ]] || die "need root to run: apt-get install -y ${packages[*]} (or install them yourself)"
    command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ${packages[*]} by hand"
    export DEBIAN_FRONTEND=noninteractive
    say "apt-get update"
    apt-get update -q || { sleep 5; apt-get update -q; } || die "apt-get update failed"
    # A Debian package's maintainer scripts start its service unless policy-rc.d says no (101).
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    say "apt-get install ${packages[*]}"
    apt-get install -y -q --no-install-recommends "${packages[@]}" \
        || die "apt-get install ${packages[*]} failed"
    [[ -z "$(java_major)" || "$(java_major)" -lt 17 ]] \
        && die "java is still older than 17 ($(command -v java)); install openjdk-17-jre-headless or newer"
    command -v mvn >/dev/null 2>&1 || die "mvn still missing after installing maven"
    command -v promtool >/dev/null 2>&1 || die "promtool still missing after installing prometheus"
fi

# The tests start prometheus themselves; a system service from the package would collide.
for svc in prometheus prometheus-node-exporter; do
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        if systemctl is-active --quiet "$svc" 2>/dev/null || systemctl is-enabled --quiet "$svc" 2>/dev/null; then
            say "stopping and disabling the $svc system service (tests run their own)"
            systemctl disable --now "$svc" >/dev/null 2>&1 || true
        fi
    elif [[ -x "/etc/init.d/$svc" ]] && "/etc/init.d/$svc" status >/dev/null 2>&1; then
        say "stopping the $svc service (tests run their own)"
        "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
        command -v update-rc.d >/dev/null 2>&1 && update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
done
if command -v ss >/dev/null 2>&1 && ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE '[:.]9090$'; then
    say "note: something still listens on :9090 (not the system service); tests use their own ports"
fi

# ------------------------------------------------------------------------- Kafka jars
[[ -x "$PY" ]] || die "$PY not found: create the venv first (make venv)"
say "Kafka broker jars (first run fetches ~40 MB from Maven Central)"
"$PY" -m streams.broker fetch >/dev/null || die "fetching the Kafka jars failed (see above)"

say "ok: java $(java_major), $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g'), $(prometheus --version 2>&1 | head -1)"
