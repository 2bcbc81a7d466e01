#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs `swift test`, then checks dlmsdump's JSON Lines against
# the Gurux truth captures with the team's check-truth tool when ../shared/tools is present beside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --tests
swift build --build-tests
swift test --skip-build
checker=../shared/tools/check-truth
if [[ -x $checker ]]; then
  echo "== check-truth (Gurux truth captures) =="
  "$checker" --bin "$(swift build --show-bin-path)/dlmsdump"
fi
