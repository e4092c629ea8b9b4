#!/usr/bin/env bash
# Installs what bpfheat needs and is missing, then builds it. Safe to run again: each step
# is skipped when its result is already there and up to date.
#   scripts/setup.sh          what `npm start` needs: clang + libbpf, npm packages, BPF object, client bundle
#   scripts/setup.sh --test   also what the tests need: Chromium, fio, Prometheus (started by the tests, never as a service)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang libbpf-dev libbpf1 linux-libc-dev make)
# Prometheus only as a binary the tests start themselves: none of the exporters it recommends
lean=()
if [[ "${1:-}" == "--test" ]]; then packages+=(chromium fio util-linux); lean+=(prometheus); fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for package in "${packages[@]}"; do installed "$package" || missing+=("$package"); done
missing_lean=()
for package in "${lean[@]}"; do installed "$package" || missing_lean+=("$package"); done
if ((${#missing[@]} + ${#missing_lean[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bpfheat setup: missing Debian packages: ${missing[*]} ${missing_lean[*]}; run as root (sudo npm start) or install them with apt-get" >&2
    exit 1
  fi
  echo "bpfheat setup: installing ${missing[*]} ${missing_lean[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ((${#missing[@]} > 0)); then apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null; fi
  if ((${#missing_lean[@]} > 0)); then apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing_lean[@]}" >/dev/null; fi
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "bpfheat setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

make -s -C bpf

newest_client=$(find client shared vite.config.ts -type f -newer dist/index.html 2>/dev/null | head -n 1 || true)
if [[ ! -f dist/index.html || -n "$newest_client" ]]; then
  echo "bpfheat setup: building the client" >&2
  npx vite build --logLevel error
fi
