#!/usr/bin/env bash
# Checks that the committed ui/dist is what `npm run build` makes of ui/src today (the binary
# embeds ui/dist, so a stale one ships an old page). Type-checks, builds into a temporary
# directory and compares. Exit 0 fresh, 1 stale or broken, 77 (skipped, for CTest) when
# Node.js >= 20.19 / npm are missing or `npm ci` cannot install the packages.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found (scripts/setup installs nodejs and npm)"
    exit 77
  fi
done
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "SKIP: node $(node --version) is older than vite needs (20.19 or later)"
  exit 77
fi
if [ ! -d node_modules/vite ]; then
  echo "# installing the front end's packages (npm ci in $here)"
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    echo "SKIP: npm ci failed in $here (is the npm registry reachable?)"
    exit 77
  fi
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx --no-install tsc --noEmit
npx --no-install vite build --logLevel warn --outDir "$out/dist" --emptyOutDir
if ! diff -r "$out/dist" dist; then
  echo "FAIL: ui/dist is stale: run 'npm run build' in ui/ and commit ui/dist"
  exit 1
fi
echo "ui/dist is fresh"
