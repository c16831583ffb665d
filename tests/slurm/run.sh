#!/usr/bin/env bash
# The Slurm job array of docs/datasets.md on a real single-node Slurm (feature `slurm`,
# tests/slurm.rs runs this script):
#   1. start munged, slurmctld and slurmd on localhost from a temporary folder (Debian's slurm-wlm
#      and munge packages; nothing is read from or written to /etc, /run or /var);
#   2. take the documented job script from docs/datasets.md, shrink its sizes (4 tasks, 12 shards of
#      2 simulations of 1 s on the Hay cell) and submit it with sbatch;
#   3. cancel task 1 with scancel once it has finished its first shard, check that the documented
#      merge refuses while task 1 is unfinished, resubmit only task 1 (it must keep its shard);
#   4. merge the parts with the documented command;
#   5. run the same dataset on one machine with plain `neurotwin dataset` and require the two
#      folders to be byte identical (manifest.json and every shard file).
# Everything is stopped and removed on exit (set NEUROTWIN_SLURM_KEEP=1 to keep the folder).
#
# Usage: tests/slurm/run.sh NEUROTWIN_BINARY REPO_ROOT
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 NEUROTWIN_BINARY REPO_ROOT" >&2
  exit 2
fi
bin=$(realpath "$1")
repo=$(realpath "$2")
docs="$repo/docs/datasets.md"
cell="$repo/../shared/morphologies/cell1.asc"
t0=$SECONDS

say() { echo "[slurm test $((SECONDS - t0)) s] $*"; }
fail() {
  echo "[slurm test] FAILED: $*" >&2
  exit 1
}

for tool in munged munge slurmctld slurmd sbatch squeue scancel scontrol sinfo; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool not found: this test needs Slurm and MUNGE (Debian/Ubuntu: apt-get install slurm-wlm munge)"
done
[ -x "$bin" ] || fail "$bin is not an executable"
[ -f "$docs" ] || fail "$docs not found"
[ -f "$cell" ] || fail "$cell not found (the reference data folder ../shared beside the repository)"

work=$(mktemp -d "${TMPDIR:-/tmp}/neurotwin-slurm.XXXXXX")
chmod 0755 "$work"
export SLURM_CONF="$work/slurm/slurm.conf"
ctld_started=0
munge_started=0

show_logs() {
  for f in "$work"/slurm/log/*.log "$work"/munge/munged.log "$work"/logs/*.out; do
    [ -f "$f" ] || continue
    echo "----- ${f#"$work"/} (last 40 lines)"
    tail -n 40 "$f"
  done
}

# Stop what this script started: slurmctld and slurmd (scontrol shutdown, then their PIDs),
# munged (munged --stop, then its PID); then remove the folder.
stop_pid_file() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  sleep 1
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ]; then
    show_logs >&2
  fi
  if [ "$ctld_started" -eq 1 ]; then
    scancel --quiet --user "$(id -un)" >/dev/null 2>&1
    scontrol shutdown >/dev/null 2>&1
    stop_pid_file "$work/slurm/slurmd.pid"
    stop_pid_file "$work/slurm/slurmctld.pid"
  fi
  if [ "$munge_started" -eq 1 ]; then
    munged --stop --socket="$work/munge/munge.socket" >/dev/null 2>&1
    stop_pid_file "$work/munge/munged.pid"
  fi
  if [ "${NEUROTWIN_SLURM_KEEP:-0}" = 1 ]; then
    echo "[slurm test] kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port on localhost that nothing listens on, from a per-process start.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || fail "timed out after $limit s waiting for $what"
    sleep 0.2
  done
}

# ---- 1. MUNGE and Slurm on localhost ---------------------------------------------------------
mkdir -p "$work/munge" "$work/slurm/state" "$work/slurm/spool" "$work/slurm/log" "$work/logs" "$work/bin" "$work/run/morphologies"
chmod 0755 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed" </dev/null >>"$work/munge/munged.out" 2>&1 ||
  fail "munged did not start"
munge_started=1
wait_until 20 "munged" test -S "$work/munge/munge.socket"
munge --socket="$work/munge/munge.socket" --no-input | unmunge --socket="$work/munge/munge.socket" >/dev/null ||
  fail "munge cannot encode and decode a credential"

node=$(uname -n)
node=${node%%.*}
cpus=$(nproc)
user=$(id -un)
base=$((20000 + ($$ * 7) % 20000))
ctld_port=$(free_port "$base")
slurmd_port=$(free_port $((ctld_port + 1)))
cat >"$SLURM_CONF" <<EOF
# A single-node Slurm on localhost for neurotwin's tests (tests/slurm/run.sh).
ClusterName=neurotwintest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/log/slurmctld.log
SlurmdLogFile=$work/slurm/log/slurmd.log
PlugStackConfig=$work/slurm/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
: >"$work/slurm/plugstack.conf"
ctld_started=1
slurmctld -f "$SLURM_CONF" -i </dev/null >>"$work/slurm/log/slurmctld.out" 2>&1 || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N "$node" </dev/null >>"$work/slurm/log/slurmd.out" 2>&1 || fail "slurmd did not start"
node_idle() { [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ]; }
wait_until 60 "node $node to be idle in sinfo" node_idle
say "Slurm is up: node $node, $cpus CPUs, slurmctld port $ctld_port, $(sbatch --version)"

# ---- 2. the documented job script, small --------------------------------------------------------
# The first two bash blocks under "On a cluster (Slurm job array)": the job script, the merge.
block() {
  awk -v want="$1" '
    /^## On a cluster \(Slurm job array\)/ { in_section = 1; next }
    in_section && /^## / { exit }
    in_section && /^```bash$/ { n++; if (n == want) { printing = 1; next } }
    printing && /^```$/ { exit }
    printing { print }
  ' "$docs"
}
# replace FROM TO FILE: FROM (a fixed string) must occur exactly once.
replace() {
  local from=$1 to=$2 file=$3 n
  n=$(grep -F -c -- "$from" "$file" || true)
  [ "$n" = 1 ] || fail "docs/datasets.md's Slurm script: expected '$from' once, found it $n times (update tests/slurm/run.sh with the docs)"
  FROM=$from TO=$to perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$file"
}
job="$work/job.sh"
block 1 >"$job"
out="$work/run/cluster"
replace '#SBATCH --array=0-15' '#SBATCH --array=0-3' "$job"
replace '#SBATCH --cpus-per-task=8' '#SBATCH --cpus-per-task=1' "$job"
replace '#SBATCH --time=04:00:00' '#SBATCH --time=00:10:00' "$job"
replace '--count 8192' '--count 24 --sims-per-shard 2' "$job"
replace '--duration-ms 6000' '--duration-ms 1000' "$job"
replace '--out /scratch/$USER/hay-nmda' "--out $out" "$job"
replace '"$SLURM_ARRAY_TASK_ID/16"' '"$SLURM_ARRAY_TASK_ID/4"' "$job"
grep -q '^neurotwin dataset ' "$job" || fail "docs/datasets.md's Slurm script does not run 'neurotwin dataset'"
merge="$work/merge.sh"
block 2 >"$merge"
replace '--out /scratch/$USER/hay-nmda' "--out $out" "$merge"
grep -q '^neurotwin dataset --merge-parts ' "$merge" || fail "docs/datasets.md's merge command is not 'neurotwin dataset --merge-parts'"

# `neurotwin` on PATH for the jobs (sbatch passes the environment on), the Hay cell where the
# documented script expects it (morphologies/cell1.asc, relative to the job's folder)
ln -s "$bin" "$work/bin/neurotwin"
export PATH="$work/bin:$PATH"
cp "$cell" "$work/run/morphologies/cell1.asc"
submit() { sbatch --parsable --chdir="$work/run" --output="$work/logs/$1-%a.out" "${@:2}" "$job"; }

# ---- 3. submit; cancel task 1 after its first shard; resubmit it ------------------------------------
job_id=$(submit array)
job_id=${job_id%%;*}
say "submitted job array $job_id (tasks 0-3)"
part1="$out/manifest.part-1-of-4.json"
done_in() {
  local n
  n=$(grep -c '"status": "done"' "$1" 2>/dev/null) || true
  echo "${n:-0}"
}
first_shard_done() { [ "$(done_in "$part1")" -ge 1 ]; }
wait_until 300 "task 1's first shard" first_shard_done
scancel "${job_id}_1"
say "task 1 finished a shard: scancel ${job_id}_1"
array_gone() { [ -z "$(squeue -h -j "$job_id" -o %i 2>/dev/null)" ]; }
wait_until 600 "the job array to end" array_gone
# the array's end states (slurmctld keeps finished jobs for MinJobAge)
states=$(scontrol -o show job "$job_id" | grep -o 'ArrayTaskId=[0-9]* .*JobState=[A-Z_]*' | sed -E 's/ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+)/\1 \2/' | sort -n)
say "task states: $(echo "$states" | tr '\n' ' ')"
for task in 0 2 3; do
  echo "$states" | grep -qx "$task COMPLETED" || fail "task $task did not complete (states: $states); its log: $(cat "$work/logs/array-$task.out" 2>/dev/null)"
done
echo "$states" | grep -qx "1 CANCELLED" || fail "task 1 was not cancelled (states: $states)"
done1=$(done_in "$part1")
[ "$done1" -ge 1 ] && [ "$done1" -lt 3 ] ||
  fail "task 1 was to be cancelled mid-way, but its part lists $done1 of 3 shards done"
say "task 1 was cancelled with $done1 of its 3 shards done"

if (cd "$work/run" && bash "$merge") >"$work/logs/merge-refused.out" 2>&1; then
  fail "the merge ran while task 1 was unfinished"
fi
grep -q -- '--shard 1/4' "$work/logs/merge-refused.out" ||
  fail "the refused merge does not name the task to rerun: $(cat "$work/logs/merge-refused.out")"
[ ! -e "$out/manifest.json" ] || fail "the refused merge wrote manifest.json"
say "the merge refuses while task 1 is unfinished: $(tail -n 1 "$work/logs/merge-refused.out")"

rerun_id=$(submit rerun --array=1)
rerun_id=${rerun_id%%;*}
say "resubmitted task 1 alone: job $rerun_id"
rerun_gone() { [ -z "$(squeue -h -j "$rerun_id" -o %i 2>/dev/null)" ]; }
wait_until 600 "the resubmitted task" rerun_gone
scontrol -o show job "$rerun_id" | grep -q 'JobState=COMPLETED' ||
  fail "the resubmitted task did not complete: $(cat "$work/logs/rerun-1.out" 2>/dev/null)"
summary=$(grep 'simulations run' "$work/logs/rerun-1.out" || true)
kept=$(echo "$summary" | sed -nE 's/.* ([0-9]+) kept\).*/\1/p')
[ "${kept:-0}" = "$done1" ] || fail "the resubmitted task should have kept task 1's $done1 finished shard(s): $summary"
say "resumed: $summary"

# ---- 4. the documented merge -------------------------------------------------------------------
(cd "$work/run" && bash "$merge") >"$work/logs/merge.out" 2>&1 || fail "the merge failed: $(cat "$work/logs/merge.out")"
say "merged: $(tail -n 1 "$work/logs/merge.out")"

# ---- 5. one machine, same seed: byte identical ---------------------------------------------------
one="$work/run/one-machine"
(cd "$work/run" && neurotwin dataset --morphology morphologies/cell1.asc --count 24 --sims-per-shard 2 \
  --duration-ms 1000 --seed 1 --variant nmda --out "$one" --threads "$cpus" --quiet) >"$work/logs/one-machine.out" 2>&1 ||
  fail "the one-machine run failed: $(cat "$work/logs/one-machine.out")"
say "one machine: $(tail -n 1 "$work/logs/one-machine.out")"
cmp "$one/manifest.json" "$out/manifest.json" || fail "manifest.json differs from the one-machine run's"
diff -r --exclude=parts "$one" "$out" || fail "the folders differ (above)"
n_files=$(cd "$out" && find . -path ./parts -prune -o -type f -print | wc -l)
[ "$n_files" -eq $((1 + 12 * 7)) ] || fail "expected manifest.json and 12 shards of 7 files, found $n_files files"
[ "$(ls "$out/parts" | wc -l)" -eq 4 ] || fail "expected the 4 parts in parts/: $(ls "$out/parts")"
say "PASS: the Slurm job array (one task cancelled and resubmitted), merged, is byte identical to one machine ($n_files files)"
