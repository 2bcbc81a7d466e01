#!/usr/bin/env bash
# Builds dlmsdump (installing what is missing) and runs it on a sample capture with its sample keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --product dlmsdump >&2
exec .build/release/dlmsdump "$@"
