#!/usr/bin/env bash
# Renders every capture in Captures/ in every output format, with and without its keyring, into DIR, so that two
# builds can be compared byte for byte (`diff -r before after`): the check for changes that must not alter output.
#   scripts/snapshot-outputs.sh BIN DIR
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$1 out=$2
mkdir -p "$out"
for cap in Captures/gurux/*.pcap Captures/gurux/*.raw Captures/peers/*.pcap; do
  base=$(basename "$cap"); stem=${base%.*}
  keyrings=()
  for k in "Captures/gurux/$stem.keyring.json" "Keyring/$stem.json"; do [[ -f $k ]] && keyrings+=(--keyring "$k"); done
  for fmt in jsonl text xml; do
    "$bin" --format "$fmt" --color never "$cap" >"$out/$base.$fmt" 2>"$out/$base.$fmt.err"; echo "rc=$?" >>"$out/$base.$fmt.err"
    if ((${#keyrings[@]})); then
      "$bin" --format "$fmt" --color never "${keyrings[@]}" --report "$out/$base.$fmt.report.json" "$cap" \
        >"$out/$base.$fmt.keyed" 2>"$out/$base.$fmt.keyed.err"; echo "rc=$?" >>"$out/$base.$fmt.keyed.err"
    fi
  done
  "$bin" --format jsonl --only-anomalies "${keyrings[@]}" "$cap" >"$out/$base.anomalies" 2>&1; echo "rc=$?" >>"$out/$base.anomalies"
done
