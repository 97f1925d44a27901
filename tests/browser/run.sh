#!/usr/bin/env bash
# Runs the dashboard's browser test (dashboard.test.mjs) in Debian's headless Chromium.
# Installs playwright-core with `npm ci` when node_modules is missing (no browser download).
# Exit 77 (skipped, for CTest) when chromium, node or npm is not available or the install fails.
# All arguments go to dashboard.test.mjs (see its header: --demo-server, --url, --command, ...).
# VIGIL_CHROMIUM overrides /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
browser="${VIGIL_CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$browser" ]; then
  echo "SKIP: no Chromium at $browser (scripts/setup installs Debian's chromium)"
  exit 77
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found (scripts/setup installs nodejs and npm)"
    exit 77
  fi
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "SKIP: node $(node --version) is older than playwright-core needs (20 or later)"
  exit 77
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "# installing playwright-core (npm ci in $here)"
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "SKIP: npm ci failed in $here (is the npm registry reachable?)"
    exit 77
  fi
fi
exec node "$here/dashboard.test.mjs" --chromium "$browser" "$@"
