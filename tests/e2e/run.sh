#!/usr/bin/env bash
# Browser end-to-end tests and the type checks of the web client and of the tests.
#
#   tests/e2e/run.sh            # needs the release binary: cargo build --release
#
# Uses Debian's Chromium (/usr/bin/chromium, or CHROMIUM_BIN); installs it with apt-get when it is
# missing and we are root. The binary under test is NARVARO_BIN, else
# ${CARGO_TARGET_DIR:-target}/release/narvaro. Logs, screenshots and SDP go to tests/e2e/artifacts/.
# The network-lab tests need root, iproute2 and nftables (tests/run.sh installs them as root).
set -euo pipefail
cd "$(dirname "$0")"

chromium_bin="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium not found at $chromium_bin: apt-get install chromium, or set CHROMIUM_BIN" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund --loglevel=error
npx --no-install tsc -p tsconfig.json
echo "tsc --checkJs: web/static type-checks"
npx --no-install tsc -p tsconfig.node.json
echo "tsc --checkJs: the browser tests type-check"
node --test --test-concurrency=1 privacy-scan.test.mjs meeting.test.mjs bankid.test.mjs oidc.test.mjs impair-proxy.test.mjs \
  booth-kiosk.test.mjs follow-up.test.mjs
# The network lab (README.md): root only, else each test says why it skips.
node --test --test-concurrency=1 netlab.test.mjs netlab-handover.test.mjs network-loss.test.mjs \
  network-cap.test.mjs network-udp-blocked.test.mjs \
  network-resume.test.mjs network-path-change.test.mjs
# network-downlink.test.mjs is not run yet: on this 2-core machine under load the officer's
# Chromium sometimes keeps its 720p layer off (its own send-side estimate, "bandwidth-limited"),
# so the booth cannot be given it (docs/media.md, "Not yet").
