#!/usr/bin/env bash
# Every test: types, unit, kernel (real BPF on loop devices the tests make), server, browser.
# Installs what is missing first. Kernel tests need root; under CI=true they never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --test
npx tsc --noEmit -p tsconfig.json
echo "bpfheat test: types check"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results/vitest.json" || status=1
PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" npx playwright test -c e2e/playwright.config.ts --reporter=list,json || status=1

node scripts/test-summary.mjs "$results/vitest.json" "$results/playwright.json"
exit $status
