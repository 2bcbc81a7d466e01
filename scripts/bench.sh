#!/usr/bin/env bash
# Measures throughput and peak memory of dlmsdump's pipeline (release build, one core) on a large capture made of
# the Gurux sessions replicated on new TCP connections, and on one ten times larger (memory must not grow).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --static-swift-stdlib --product dlmsbench >&2  # built as demo.sh builds dlmsdump
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/dlmsbench
work=${BENCH_DIR:-$(mktemp -d)}
copies=${COPIES:-400}
inputs=(Captures/gurux/wrapper-none.pcap Captures/gurux/wrapper-lls.pcap Captures/gurux/hdlc-none.pcap)
"$bin" make --copies "$copies" "$work/large.pcap" "${inputs[@]}"
"$bin" make --copies $((copies * 10)) "$work/larger.pcap" "${inputs[@]}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share the machine when > 0)"
# Each mode RUNS times (default 3): seconds/apdus_per_s are wall clock, cpu_seconds/apdus_per_cpu_s the process's
# user + system time (the same on an idle core; lower than wall clock when other processes share the core).
for mode in decode jsonl text; do
  for ((i = 0; i < ${RUNS:-3}; i++)); do taskset -c 0 "$bin" run --mode "$mode" "$work/large.pcap"; done
done
echo "ten times larger:"
taskset -c 0 "$bin" run --mode decode "$work/larger.pcap"
[[ -n ${BENCH_DIR:-} ]] || rm -rf "$work"
