#!/usr/bin/env bash
# Instruction counts of the pipeline under callgrind (wall-clock timings are noisy on a shared machine): builds the
# release benchmark, makes a small capture (20 replicas of the Gurux sessions, 6,080 APDUs) and runs one mode under
# valgrind --tool=callgrind, then prints the inclusive profile's top entries.
#   scripts/profile.sh [decode|jsonl|text] [copies]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-decode}
copies=${2:-20}
swift build -c release --static-swift-stdlib --product dlmsbench >&2  # built as demo.sh builds dlmsdump
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/dlmsbench
work=${PROFILE_DIR:-$(mktemp -d)}
"$bin" make --copies "$copies" "$work/small.pcap" \
  Captures/gurux/wrapper-none.pcap Captures/gurux/wrapper-lls.pcap Captures/gurux/hdlc-none.pcap >&2
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.$mode" "$bin" run --mode "$mode" "$work/small.pcap" \
  2>&1 | grep -E 'mode=|Collected'
callgrind_annotate --inclusive=yes "$work/callgrind.$mode" 2>/dev/null | sed -n '20,60p' | cut -c1-200
echo "profile: $work/callgrind.$mode (callgrind_annotate --tree=calling --inclusive=yes for callers/callees)"
