#!/usr/bin/env bash
# Regenerates docs/screenshot.png and docs/screenshot-devices.png: the dashboard on real traced data. Makes a loop device on a
# temporary file, puts a mixed fio load on it (random 4 KiB reads and writes, plus bursts of
# large synchronous writes for a tail of slow I/Os), runs bpfheat tracing this machine, and
# photographs the page with Debian's Chromium. Everything it made is removed on exit.
# Needs root (BPF and losetup), fio, chromium; run `npm run setup -- --test` first on a new machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $EUID -ne 0 ]]; then
  echo "screenshot: needs root to trace with BPF and to make a loop device; run: sudo bash scripts/screenshot.sh" >&2
  exit 1
fi
for tool in fio losetup /usr/bin/chromium; do
  command -v "$tool" >/dev/null || { echo "screenshot: $tool is missing; run: bash scripts/setup.sh --test" >&2; exit 1; }
done

LOAD_SECONDS=${LOAD_SECONDS:-90}
work=$(mktemp -d)
loop=""
server_pid=""
load_pids=()
cleanup() {
  for pid in "${load_pids[@]}" "$server_pid"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  [[ -n "$loop" ]] && losetup -d "$loop" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

[[ -f dist/index.html ]] || npx vite build --logLevel error
truncate -s 512M "$work/disk.img"
loop=$(losetup -f --show --direct-io=on "$work/disk.img")
device=$(basename "$loop")
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")

node bin/bpfheat.js --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done

fio --name=random --filename="$loop" --direct=1 --ioengine=libaio --rw=randrw --rwmixread=70 --bs=4k \
  --iodepth=8 --size=256M --time_based --runtime="$LOAD_SECONDS" --rate_iops=3000 --output=/dev/null &
load_pids+=($!)
# Every ~10 s, 2 s of large synchronous writes: the slow outliers a heat map is for.
(
  end=$((SECONDS + LOAD_SECONDS))
  while ((SECONDS < end)); do
    sleep 8
    timeout 2 dd if=/dev/zero of="$loop" bs=4M count=64 seek=64 oflag=direct,sync status=none || true
  done
) &
load_pids+=($!)

# Let a minute of columns build up, then photograph the last minute of the loop device alone.
sleep $((LOAD_SECONDS - 20))
node --import tsx scripts/screenshot.ts "http://127.0.0.1:$port/?span=60&dev=$device" docs/screenshot.png
echo "screenshot: wrote docs/screenshot.png ($device under fio + dd)"
# And every device over 5 minutes: the time before the server started is hatched (no data), and
# the loop device and the disk under it are noted as stacked.
node --import tsx scripts/screenshot.ts "http://127.0.0.1:$port/?span=300" docs/screenshot-devices.png
echo "screenshot: wrote docs/screenshot-devices.png (every device, 5 minutes)"
