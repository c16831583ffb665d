#!/usr/bin/env bash
# Stamina: the app on the Hay cell under the paper's input with its twins, for MINUTES of wall
# time under Xvfb (software GL), then the figures: resident memory growth after the first 2
# minutes (< 10 %), the longest frame (< 1 s), simulated time against wall time (within 10 %).
#
#   tests/soak/run.sh [MINUTES] [BIN]      (default 30 minutes, target/release/neurotwin)
#
# Needs morphologies/cell1.asc (neurotwin fetch hay) and xvfb-run. Prints every figure and exits
# non-zero when one is out of bounds. The README's "Stamina" gives the last run's figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES="${1:-30}"
BIN="${2:-target/release/neurotwin}"
[ -f morphologies/cell1.asc ] || { echo "soak: morphologies/cell1.asc is missing (neurotwin fetch hay)" >&2; exit 2; }
command -v xvfb-run >/dev/null || { echo "soak: xvfb-run is missing (apt-get install xvfb)" >&2; exit 2; }
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
SECONDS_WALL=$((MINUTES * 60))
# the window is closed by SIGTERM after the run; its --print-fps lines come every 2 s
timeout -s TERM "$((SECONDS_WALL + 5))" xvfb-run -a -s "-screen 0 1600x1100x24" "$BIN" --print-fps >"$LOG" 2>&1 || true
python3 - "$LOG" "$SECONDS_WALL" <<'PY'
import re, sys
log, total = sys.argv[1], float(sys.argv[2])
rows = []
for line in open(log, errors="replace"):
    m = re.match(r"fps ([\d.]+) ui_ms ([\d.]+) t_ms ([\d.]+) wall_s ([\d.]+) max_frame_ms ([\d.]+) rss_mb ([\d.]+)(.*)", line)
    if m:
        rows.append(tuple(float(x) for x in m.groups()[:6]) + (m.group(7).strip(),))
if len(rows) < 10:
    sys.exit(f"soak: only {len(rows)} status lines; the app did not run (log: {open(log, errors='replace').read()[-2000:]})")
after2 = [r for r in rows if r[3] >= 120.0]
base = after2[0] if after2 else rows[0]
last = rows[-1]
rss_growth = (last[5] - base[5]) / base[5]
max_frame = max(r[4] for r in rows[1:])
# simulated time per wall second from the first line after 2 minutes to the last
rate = (last[2] - base[2]) / 1000.0 / max(1e-9, last[3] - base[3])
fps = sorted(r[0] for r in rows)
print(f"soak: {last[3]:.0f} s wall, {last[2] / 1000:.1f} s simulated; {len(rows)} status lines")
print(f"  resident memory {base[5]:.0f} MB at {base[3]:.0f} s -> {last[5]:.0f} MB at the end: {100 * rss_growth:+.1f} % (limit +10 %)")
print(f"  longest frame {max_frame:.0f} ms (limit 1000 ms); frame rate median {fps[len(fps) // 2]:.1f} fps, lowest {fps[0]:.1f}")
print(f"  simulated / wall time after 2 min: {rate:.3f} (limit 0.9-1.1)")
print(f"  threads at the end: {last[6]}")
bad = [n for n, ok in (("memory", rss_growth < 0.10), ("frame", max_frame < 1000.0), ("speed", 0.9 <= rate <= 1.1)) if not ok]
if bad:
    sys.exit("soak: out of bounds: " + ", ".join(bad))
print("soak: all within bounds")
PY
