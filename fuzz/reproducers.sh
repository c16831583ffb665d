#!/usr/bin/env bash
# The reproducers of issue #17 against a built neurotwin: each must end with a clear error (or a
# correct result) within 10 s and 2 GB. Prints one line per case: wall time, peak memory (from
# /usr/bin/time -v), exit code and the first line of standard error (or output).
#   fuzz/reproducers.sh [PATH/TO/neurotwin]     (run from the project root; ../shared beside it)
set -u
BIN=${1:-target/release/neurotwin}
BIN=$(realpath "$BIN")
ROOT=$(pwd)
SHARED=$ROOT/../shared
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SYN=$ROOT/morphologies/l5pc-synthetic.swc
DATA=$ROOT/tests/data/surrogate
printf '1 1 0 0 0 5 -1\n2 3 %s 0 0 1 1\n' 1e7 > "$T/c1e7.swc"
printf '1 1 0 0 0 5 -1\n2 3 %s 0 0 1 1\n' 1e9 > "$T/c1e9.swc"
printf '1 1 0 0 0 5 -1\n2 3 %s 0 0 1 1\n' 1e308 > "$T/c1e308.swc"
ln -s /dev/zero "$T/zero.swc"
# a model whose weights were damaged: the fixture's ONNX with bytes overwritten in its middle
cp "$DATA"/fixture.* "$T/"
python3 - "$T/fixture.onnx" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); n = len(b)
for i in range(n // 2, n // 2 + 256): b[i] ^= 0x5A
open(p, 'wb').write(bytes(b))
PY
mkdir -p "$T/escape"
cp "$DATA"/fixture.* "$T/escape/"
python3 - "$T/escape/fixture.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d['model_file'] = '../../etc/passwd'; json.dump(d, open(p, 'w'))
PY
# a golden case whose reference trace is too short and holds a NaN-like string
python3 - "$DATA/fixture_case.json" "$T/badref.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['results'] = {'spike_times_ms': [1.0], 'soma_v': [-70.0, -69.0], 'sites_v': [], 'n_soma_samples': 2}
json.dump(d, open(sys.argv[2], 'w'))
PY

run() {
    local name=$1; shift
    local log=$T/time.txt out=$T/out.txt
    timeout 20 /usr/bin/time -v "$@" >"$out" 2>"$T/err.txt"
    local rc=$?
    grep -v -e '^\s' -e 'Command being timed' "$T/err.txt" | grep -v '^$' | head -1 > "$T/first.txt"
    [ -s "$T/first.txt" ] || head -1 "$out" > "$T/first.txt"
    local wall rss
    wall=$(grep 'Elapsed (wall clock)' "$T/err.txt" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$T/err.txt" | awk '{print $NF}')
    printf '| %s | %s | %s MB | %s | %s |\n' "$name" "$wall" "$((rss / 1024))" "$rc" "$(cut -c1-150 "$T/first.txt")"
}

echo "| reproducer | wall | peak RSS | exit | first line |"
echo "|---|---|---|---|---|"
run "coordinate 1e7 µm" "$BIN" morph info "$T/c1e7.swc"
run "coordinate 1e9 µm" "$BIN" morph info "$T/c1e9.swc"
run "coordinate 1e308 µm" "$BIN" morph info "$T/c1e308.swc"
run "/dev/zero as morphology" "$BIN" morph info "$T/zero.swc"
run "simulate --tstop-ms 1e9" "$BIN" simulate --morphology "$SYN" --tstop-ms 1e9 --out "$T/sim"
run "simulate --dt-ms 1e-9" "$BIN" simulate --morphology "$SYN" --tstop-ms 10 --dt-ms 1e-9 --out "$T/sim"
run "dataset --count 2^64-1" "$BIN" dataset --morphology "$SYN" --count 18446744073709551615 --out "$T/ds"
run "dataset --threads 100000 (2 sims of 20 ms)" "$BIN" dataset --morphology "$SYN" --count 2 --duration-ms 20 --threads 100000 --out "$T/ds2"
run "corrupted ONNX weights" "$BIN" predict --model "$T/fixture.onnx" --case "$DATA/fixture_case.json" --morphology "$DATA/tiny10.swc"
run "model_file ../../etc/passwd" "$BIN" predict --model "$T/escape/fixture.onnx" --case "$DATA/fixture_case.json" --morphology "$DATA/tiny10.swc"
run "bad reference traces (replay)" "$BIN" replay "$T/badref.json" --morphology "$DATA/tiny10.swc"
run "morph synth | head -1" bash -c "'$BIN' morph synth --seed 4 | head -1"
if [ -f "$SHARED/morphologies/cell1.asc" ]; then
    run "cell1.asc morph info (control)" "$BIN" morph info "$SHARED/morphologies/cell1.asc"
fi
