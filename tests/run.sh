#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine or a developer's:
#   1. installs what is missing: Debian's Chromium, nftables and iproute2 for the network lab, and
#      janus for the SFU benchmark's smoke test (root only; else say how, or skip those parts),
#      the e2e npm packages (also used by the Rust tests: the booking OpenID tests run their
#      provider, oidc-provider, from them);
#   2. uses PostgreSQL when one is reachable at 127.0.0.1:5432 (starting a local cluster if one is
#      installed but down), so the booking store is tested on SQLite and PostgreSQL;
#   3. runs every Rust test in the workspace (unit, handler, store, WebRTC interop with webrtc-rs
#      peers through the SFU, the SFU benchmark's smoke against the `narvaro` binary built below
#      and Janus);
#   4. builds the `narvaro` binary and runs the browser end-to-end tests in headless Chromium,
#      then the type check of the web client's JavaScript.
# Set CARGO_TARGET_DIR to reuse a build cache; nothing depends on one.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL: optional, used when reachable.
if [ -z "${NARVARO_TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1 \
      && [ -d /etc/postgresql ] && [ "$(id -u)" = 0 ]; then
    echo "starting the local PostgreSQL cluster" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    export NARVARO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
  fi
fi
if [ -n "${NARVARO_TEST_DATABASE_URL:-}" ]; then
  echo "booking store tests run on SQLite and on PostgreSQL" >&2
else
  echo "no PostgreSQL reachable: booking store tests run on SQLite only" >&2
fi

# The browser tests' network lab (tests/e2e/netlab.mjs) needs ip and tc (iproute2) and nft
# (nftables), and root; without root its tests skip and say so.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  lab_packages=()
  command -v nft >/dev/null 2>&1 || lab_packages+=(nftables)
  { command -v ip && command -v tc; } >/dev/null 2>&1 || lab_packages+=(iproute2)
  if [ ${#lab_packages[@]} -gt 0 ]; then
    echo "installing ${lab_packages[*]} for the network lab" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${lab_packages[@]}" >/dev/null
  fi
fi

# The SFU benchmark's smoke test (bench/tests/smoke.rs) measures Janus VideoRoom beside Närvaro
# when Debian's `janus` is installed; without it that half skips and says so.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v janus >/dev/null 2>&1; then
  echo "installing janus for the SFU benchmark's smoke test" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq janus >/dev/null
fi
# The booking outbox test sends invitations to a real SMTP server: Python's aiosmtpd. Without
# python3 that test skips and says so; with python3 but no aiosmtpd it fails, so install it here.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "installing aiosmtpd for the booking outbox test" >&2
  python3 -m pip install -q aiosmtpd || python3 -m pip install -q --break-system-packages aiosmtpd
fi

# The booking OpenID tests (booking/tests/oidc.rs) start a real OpenID provider from the e2e npm
# packages (oidc-provider), so those are installed before the Rust tests, not only before the
# browser tests.
if command -v npm >/dev/null 2>&1; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "npm not found: the booking OpenID tests skip (and the browser tests will fail)" >&2
fi

target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --locked --bin narvaro
cargo test --locked --workspace --no-fail-fast

NARVARO_BIN="$(cd "$target_dir" && pwd)/debug/narvaro" tests/e2e/run.sh
