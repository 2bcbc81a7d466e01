#!/usr/bin/env bash
# Installs the system packages dlmsdump builds against (libpcap, OpenSSL libcrypto) when they are missing.
# Runs as root or through sudo; never asks questions.
set -euo pipefail
need=()
pkg-config --exists libpcap 2>/dev/null || need+=(libpcap-dev)
pkg-config --exists libcrypto 2>/dev/null || need+=(libssl-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The tests render the HTML audit report in a real headless browser.
if [[ ${1:-} == --tests ]]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}" >&2
  SUDO=
  if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "setup: swift (6.0 or later) is not on PATH" >&2; exit 1; }
