#!/usr/bin/env bash
# Fuzz each target in turn, one AFL++ process at a time (one core), MINUTES each (default 10),
# then print a table from each run's fuzzer_stats. Build first (README.md beside this file).
#   fuzz/run.sh [MINUTES] [TARGET...]
set -u
cd "$(dirname "$0")"
MIN=${1:-10}
shift || true
TARGETS=${*:-"swc asc neuron_json golden_case model_metadata npy scenario manifest"}
BIN=${CARGO_TARGET_DIR:-target}/release
OUT=${FUZZ_OUT:-out}
mkdir -p "$OUT"
declare -A DICT=([manifest]=json [swc]=swc [asc]=asc [neuron_json]=json [golden_case]=json [model_metadata]=json [npy]=npy [scenario]=json)
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
for t in $TARGETS; do
    echo "== $t: $MIN min"
    # -m 2048: a run over 2 GB counts as a crash; -t 2000: one input over 2 s counts as a hang
    nice -n "${FUZZ_NICE:-19}" cargo afl fuzz -i "seeds/$t" -o "$OUT/$t" -x "dict/${DICT[$t]}.dict" -m 2048 -t 2000 \
        -V $((MIN * 60)) "$BIN/$t" > "$OUT/$t.log" 2>&1
    echo "   exit $?"
done
echo "| target | minutes | executions | execs/s | corpus | edges | stability | crashes | hangs |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in $TARGETS; do
    s="$OUT/$t/default/fuzzer_stats"
    [ -f "$s" ] || { echo "| $t | - | no stats | | | | | | |"; continue; }
    v() { grep "^$1 " "$s" | sed 's/.*: //'; }
    echo "| $t | $(( $(v run_time) / 60 )) | $(v execs_done) | $(v execs_per_sec) | $(v corpus_count) | $(v edges_found) | $(v stability) | $(v saved_crashes) | $(v saved_hangs) |"
done
