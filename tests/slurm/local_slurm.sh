#!/usr/bin/env bash
# Runs jobs/slurm/terrain.sbatch under a real, throwaway one-node Slurm on this machine and checks it.
#
#   bash tests/slurm/local_slurm.sh            # from anywhere; TESSERA=path/to/tessera to pick a build
#   LOCAL_SLURM_TIMEOUT=1 bash tests/slurm/local_slurm.sh   # also the time-limit case (~90 s more)
# Other knobs: LOCAL_SLURM_KEEP=1 keeps the temp dir; LOCAL_SLURM_SBATCH=FILE submits FILE instead
# of jobs/slurm/terrain.sbatch; LOCAL_SLURM_JOB_TIMEOUT=S (300) bounds the wait for each job.
#
# Not part of ctest: it needs root (or Slurm and munge already installed) and starts daemons.
# What it does:
#   - installs slurmctld slurmd slurm-client munge with apt-get when missing (as root);
#   - starts munged, slurmctld and slurmd in the foreground-as-background (-F/-D &), everything
#     (key, socket, conf, state, spool, logs, job outputs) in one mktemp dir, on free ports, with
#     SLURM_CONF pointing at that dir: the machine's /etc/slurm and /etc/munge are not used;
#   - case cpt1: sbatch --ntasks=2 --cpus-per-task=1 jobs/slurm/terrain.sbatch JOB.toml
#     case cpt2: sbatch --ntasks=2 --cpus-per-task=2 ...
#     each must end COMPLETED with ExitCode 0:0, and its three GeoTIFFs must equal pixel for pixel
#     (and in size, type, geotransform, projection, nodata) the same job run with `mpirun -n 2`;
#   - case warning: a larger generated DEM, submitted with --time=1 so that the script's own
#     `#SBATCH --signal=B:USR1@60` fires (slurmctld sends it at its first time-limit check, within
#     about 30 s; the ranks are paused meanwhile so that it finds them mid-run): the log must show
#     the trap forwarding it and tessera stopping (status 75), the script must requeue the job, and
#     the requeued job (SLURM_RESTART_COUNT set: --resume) must end COMPLETED with outputs
#     byte-identical to an uninterrupted run (warned and requeued again if the warning finds it
#     running too); no finished-looking file meanwhile;
#   - case term: same input, the ranks paused (SIGSTOP) once they journal their first tiles, then
#     `scancel`: Slurm sends SIGCONT+SIGTERM to every process of the job, exactly what it does when
#     a time limit is hit; must end CANCELLED with no file at the outputs;
#   - case timeout (only with LOCAL_SLURM_TIMEOUT=1, about 90 s more): --time=1, the ranks paused
#     mid-run so the limit is hit: must end TIMEOUT with no file at the outputs; then requeued
#     (scontrol requeue), it resumes and ends COMPLETED with byte-identical outputs.
#   - prints every batch log; on exit cancels its own jobs, stops only the daemons it started (by
#     PID) and removes its temp dir. Safe to run again, or twice at once.
# Exit status 0 when every case passed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tessera=${TESSERA:-$repo/build/src/tessera}
tessera=$(realpath -m "$tessera")
job_timeout=${LOCAL_SLURM_JOB_TIMEOUT:-300}   # seconds per job, overall
sbatch_script=$(realpath -m "${LOCAL_SLURM_SBATCH:-$repo/jobs/slurm/terrain.sbatch}")  # another to compare
python=/usr/bin/python3

say() { printf '[local_slurm] %s\n' "$*"; }
die() { say "ERROR: $*"; exit 2; }

# ---------------------------------------------------------------- packages and build
need_pkgs=()
command -v sbatch >/dev/null || need_pkgs+=(slurm-client)
[[ -x /usr/sbin/slurmctld ]] || need_pkgs+=(slurmctld)
[[ -x /usr/sbin/slurmd ]] || need_pkgs+=(slurmd)
[[ -x /usr/sbin/munged ]] || need_pkgs+=(munge)
if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    die "missing packages; run: apt-get install -y --no-install-recommends ${need_pkgs[*]}"
  fi
  say "installing ${need_pkgs[*]}"
  t0=$(date +%s.%N)
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y \
           --no-install-recommends "${need_pkgs[@]}" >/dev/null; } || die "apt-get install failed"
  say "installed in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s"
fi
for tool in mpirun gdalinfo bc; do command -v "$tool" >/dev/null || die "$tool not found"; done
$python -c 'from osgeo import gdal; import numpy' 2>/dev/null || die "$python needs python3-gdal and python3-numpy"
if [[ ! -x $tessera ]]; then
  say "$tessera not found: building a Release build in $repo/build"
  cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null \
    && cmake --build "$repo/build" -j"$(nproc)" --target tessera >/dev/null || die "build failed"
  tessera=$repo/build/src/tessera
fi
[[ -f $sbatch_script ]] || die "$sbatch_script not found"
say "tessera: $tessera; batch script: $sbatch_script"

# ---------------------------------------------------------------- temp dir and cleanup
tmp=$(mktemp -d /tmp/tessera-slurm.XXXXXX) || die "mktemp failed"
chmod 700 "$tmp"
pids=()        # daemons this run started, stopped in reverse order
jobs_ids=()    # jobs this run submitted
cleanup() {
  local rc=$? id pid i
  trap - EXIT INT TERM
  for id in "${jobs_ids[@]}"; do scancel "$id" 2>/dev/null; done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { say "pid $pid still alive after 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
    wait "$pid" 2>/dev/null
  done
  [[ ${LOCAL_SLURM_KEEP:-0} == 1 ]] && say "kept $tmp" || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- munge
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munge_socket=$tmp/munge/munge.socket
munge_args=(-F --key-file="$tmp/munge/munge.key" --socket="$munge_socket"
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/munged.seed")
# munged refuses root unless forced; --force also accepts the temp dir's path (e.g. /tmp is world-writable, sticky).
[[ $(id -u) -eq 0 ]] && munge_args+=(--force)
/usr/sbin/munged "${munge_args[@]}" >>"$tmp/log/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -S $munge_socket ]] && break; sleep 0.1; done
[[ -S $munge_socket ]] || { cat "$tmp/log/munged.log"; die "munged did not start"; }
munge -S "$munge_socket" -n | unmunge -S "$munge_socket" >/dev/null || die "munge round trip failed"

# ---------------------------------------------------------------- slurm.conf
node=$(hostname -s)
ports=$($python -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
read -r ctld_port slurmd_port <<<"$ports"
ncpu=$(nproc)
cpus=$ncpu
overrides=
# Case cpt2 needs 2 tasks x 2 CPUs: on a smaller machine declare 4 CPUs (oversubscribed) and
# tell slurmd to trust slurm.conf over the hardware.
if ((cpus < 4)); then cpus=4; overrides="SlurmdParameters=config_overrides"; fi
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cat >"$tmp/slurm.conf" <<EOF
ClusterName=tessera-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
DefMemPerCPU=$((mem_mb / cpus))
$overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
say "temp dir $tmp; node $node: $cpus CPUs declared ($ncpu real), ${mem_mb} MB; ports $ctld_port/$slurmd_port"

# ---------------------------------------------------------------- slurmctld and slurmd
t0=$(date +%s.%N)
/usr/sbin/slurmctld -D -c -f "$SLURM_CONF" >>"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
/usr/sbin/slurmd -D -f "$SLURM_CONF" >>"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 300); do
  state=$(sinfo -h -n "$node" -o %t 2>/dev/null)
  [[ $state == idle ]] && break
  sleep 0.1
done
if [[ $state != idle ]]; then
  tail -n 20 "$tmp"/log/slurmctld.* "$tmp"/log/slurmd.*
  die "node not idle after 30 s (state '$state')"
fi
say "node idle $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s after starting the daemons"

# ---------------------------------------------------------------- helpers
failures=0
check() {  # check MESSAGE COMMAND...: runs COMMAND (its output shown), counts a failure if it fails
  local msg=$1; shift
  if "$@"; then say "  ok:   $msg"; else say "  FAIL: $msg"; failures=$((failures + 1)); fi
}

make_job() {  # make_job DIR INPUT: DIR/job.toml = jobs/terrain.toml reading INPUT, outputs in DIR/out
  mkdir -p "$1"
  sed "s|^path = \"\.\./tests/data/chiprofiler_dem.tif\"|path = \"$2\"|" "$repo/jobs/terrain.toml" >"$1/job.toml"
  grep -q "path = \"$2\"" "$1/job.toml" || die "could not point $1/job.toml at $2"
}

# submit DIR [sbatch options]: prints the job id; the batch log is DIR/slurm-ID.out
submit() {
  local dir=$1; shift
  (cd "$repo" && TESSERA=$tessera sbatch --parsable --output="$dir/slurm-%j.out" "$@" \
     "$sbatch_script" "$dir/job.toml")
}

# wait_state ID STATE... : poll `scontrol show job` once a second until JobState is one of STATE
job_state= job_exit= job_waited=
wait_state() {
  local id=$1; shift
  local start=$SECONDS line s
  while :; do
    line=$(scontrol -o show job "$id" 2>/dev/null)
    job_state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
    job_exit=$(sed -n 's/.*ExitCode=\([0-9:]*\).*/\1/p' <<<"$line")
    job_waited=$((SECONDS - start))
    for s in "$@"; do [[ $job_state == "$s" ]] && return 0; done
    ((SECONDS - start > job_timeout)) && { say "  job $id still $job_state after ${job_timeout} s"; return 1; }
    sleep 1
  done
}
finished=(COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY PREEMPTED BOOT_FAIL DEADLINE)

show_log() {
  say "  batch log $1:"
  sed 's/^/      | /' "$1" 2>/dev/null || say "      (no log)"
}

outputs=(hillshade slope aspect)
no_outputs() {  # no_outputs DIR: none of the output paths exists
  local o rc=0
  for o in "${outputs[@]}"; do [[ -e $1/out/$o.tif ]] && { say "  $1/out/$o.tif exists"; rc=1; }; done
  say "  left in $1/out: $(ls -A "$1/out" 2>/dev/null | tr '\n' ' ')"
  return $rc
}

same_bytes() {  # same_bytes DIR_A DIR_B: every output the same bytes, no journal or temporary left
  local o rc=0
  for o in "${outputs[@]}"; do cmp -s "$1/out/$o.tif" "$2/out/$o.tif" || { say "  $o.tif differs"; rc=1; }; done
  [[ -z $(ls -A "$1/out" | grep '^\.') ]] || { say "  left: $(ls -A "$1/out" | tr '\n' ' ')"; rc=1; }
  return $rc
}

# requeued ID DIR REFERENCE: the job, requeued, is started at once whenever it waits (else about
# 120 s each time: a requeued job's BeginTime); it must resume, as often as it is stopped and
# requeued again, and end COMPLETED with REFERENCE's bytes.
requeued() {
  local id=$1 dir=$2 reference=$3 start=$SECONDS line
  while :; do
    line=$(scontrol -o show job "$id" 2>/dev/null)
    job_state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
    job_exit=$(sed -n 's/.*ExitCode=\([0-9:]*\).*/\1/p' <<<"$line")
    case $job_state in
      PENDING) scontrol update JobId="$id" StartTime=now 2>/dev/null ;;
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL) break ;;
    esac
    ((SECONDS - start > job_timeout)) && { say "  job $id still $job_state after ${job_timeout} s"; break; }
    sleep 1
  done
  say "  requeued job $id: JobState=$job_state ExitCode=$job_exit, $(grep -c 'tessera: resuming' \
    "$dir/slurm-$id.out") resume(s)"
  show_log "$dir/slurm-$id.out"
  check "the requeued job resumed" grep -q 'tessera: resuming' "$dir/slurm-$id.out"
  check "the requeued job ended COMPLETED" test "$job_state" = COMPLETED
  check "its outputs are the uninterrupted run's bytes" same_bytes "$dir" "$reference"
}

same_outputs() {  # same_outputs DIR_A DIR_B: every output equal in pixels and georeferencing
  $python - "$1/out" "$2/out" "${outputs[@]}" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
a_dir, b_dir, names = sys.argv[1], sys.argv[2], sys.argv[3:]
bad = 0
for n in names:
    a = gdal.Open(f"{a_dir}/{n}.tif"); b = gdal.Open(f"{b_dir}/{n}.tif")
    ba, bb = a.GetRasterBand(1), b.GetRasterBand(1)
    xa, xb = ba.ReadAsArray(), bb.ReadAsArray()
    same = (xa.shape == xb.shape and xa.dtype == xb.dtype
            and a.GetGeoTransform() == b.GetGeoTransform()
            and a.GetProjection() == b.GetProjection()
            and ba.GetNoDataValue() == bb.GetNoDataValue()
            and np.array_equal(xa, xb, equal_nan=True))
    print(f"      {n}: {xa.shape[1]}x{xa.shape[0]} {xa.dtype}, checksum {ba.Checksum()} vs {bb.Checksum()}: "
          + ("equal" if same else "DIFFERENT"))
    bad += not same
sys.exit(1 if bad else 0)
EOF
}

job_ranks() {  # job_ranks ID: the PIDs of the job's tessera ranks, one a line, once there are 2
  local pid found
  for _ in $(seq 50); do
    found=()
    for pid in $(scontrol listpids "$1" 2>/dev/null | awk 'NR > 1 {print $1}'); do
      [[ $(cat "/proc/$pid/comm" 2>/dev/null) == tessera ]] && found+=("$pid")
    done
    ((${#found[@]} >= 2)) && break
    sleep 0.2
  done
  ((${#found[@]})) && printf '%s\n' "${found[@]}"
}

# ---------------------------------------------------------------- reference: the job without Slurm
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dem=$repo/tests/data/chiprofiler_dem.tif
make_job "$tmp/direct" "$dem"
mkdir -p "$tmp/direct/out"   # the sbatch cases leave it to terrain.sbatch to make out/
say "reference: mpirun -n 2 --bind-to none tessera run $tmp/direct/job.toml (OMP_NUM_THREADS=1)"
OMP_NUM_THREADS=1 mpirun -n 2 --bind-to none "$tessera" run -q "$tmp/direct/job.toml" \
  || die "the reference run failed"

# ---------------------------------------------------------------- cases cpt1, cpt2: complete runs
for cpt in 1 2; do
  dir=$tmp/cpt$cpt
  make_job "$dir" "$dem"
  say "case cpt$cpt: sbatch --ntasks=2 --cpus-per-task=$cpt ${sbatch_script#"$repo"/} $dir/job.toml"
  id=$(submit "$dir" --ntasks=2 --cpus-per-task="$cpt") || die "sbatch failed"
  jobs_ids+=("$id")
  wait_state "$id" "${finished[@]}"
  say "  job $id: JobState=$job_state ExitCode=$job_exit after ${job_waited} s of polling"
  show_log "$dir/slurm-$id.out"
  check "JobState=COMPLETED ExitCode=0:0" test "$job_state ExitCode=$job_exit" = "COMPLETED ExitCode=0:0"
  check "log says 2 rank(s) x $cpt thread(s)" grep -q "2 rank(s) x $cpt thread(s)" "$dir/slurm-$id.out"
  check "outputs equal the mpirun -n 2 run" same_outputs "$dir" "$tmp/direct"
done

# ---------------------------------------------------------------- the large DEM: interrupted runs
# A DEM big enough that the job runs for several seconds (6000 x 6000 float32, 144 MB).
big=$tmp/big_dem.tif
$python - "$big" "$dem" <<'EOF'
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
src = gdal.Open(sys.argv[2])
n = 6000
y, x = np.mgrid[0:n, 0:n].astype(np.float32)
z = (500 + 200 * np.sin(x / 300) * np.cos(y / 450) + 0.01 * ((x * 7 + y * 13) % 97)).astype(np.float32)
d = gdal.GetDriverByName("GTiff").Create(sys.argv[1], n, n, 1, gdal.GDT_Float32,
                                         ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
gt = src.GetGeoTransform()
d.SetGeoTransform((gt[0], 30, 0, gt[3], 0, -30))
d.SetProjection(src.GetProjection())
d.GetRasterBand(1).WriteArray(z)
d = None
EOF
[[ -f $big ]] || die "could not write $big"
make_job "$tmp/big_direct" "$big"
mkdir -p "$tmp/big_direct/out"
OMP_NUM_THREADS=1 mpirun -n 2 --bind-to none "$tessera" run -q "$tmp/big_direct/job.toml" \
  || die "the uninterrupted run on the large DEM failed"

interrupt_case() {  # interrupt_case NAME EXPECTED-STATE COMMAND... (COMMAND gets the job id appended)
  local name=$1 want=$2; shift 2
  local dir=$tmp/$name id t
  make_job "$dir" "$big"
  say "case $name: sbatch --ntasks=2 --cpus-per-task=1 on a 6000x6000 DEM, then: $* JOBID"
  id=$(submit "$dir" --ntasks=2 --cpus-per-task=1) || die "sbatch failed"
  jobs_ids+=("$id")
  wait_state "$id" RUNNING "${finished[@]}"
  # Let the ranks journal their first tiles, then pause them (SIGSTOP), so that the signal finds
  # them mid-run however fast the run is (Slurm sends SIGCONT with its SIGTERM; the ranks are
  # let go again after the command in case it did not).
  for _ in $(seq 300); do [[ -e $dir/out/.hillshade.tif.journal-0 ]] && break; sleep 0.1; done
  local ranks
  mapfile -t ranks < <(job_ranks "$id")
  ((${#ranks[@]})) && kill -STOP "${ranks[@]}"
  t=$SECONDS
  "$@" "$id"
  sleep 1
  ((${#ranks[@]})) && kill -CONT "${ranks[@]}" 2>/dev/null
  wait_state "$id" PENDING "${finished[@]}"
  say "  job $id: JobState=$job_state ExitCode=$job_exit, ended $((SECONDS - t)) s after the signal"
  show_log "$dir/slurm-$id.out"
  check "JobState=$want" test "$job_state" = "$want"
  check "no file at the output paths" no_outputs "$dir"
}

# ---------------------------------------------------------------- case warning: --signal=B:USR1@60
# With --time=1 the script's #SBATCH --signal=B:USR1@60 is due at once: slurmctld sends it at its
# next time-limit check (every 30 s). So that it finds tessera mid-run, the ranks are paused
# (SIGSTOP) once they journal their first tiles, and let go once the log shows the warning.
dir=$tmp/warning
make_job "$dir" "$big"
say "case warning: sbatch --ntasks=2 --time=1 (the script's --signal=B:USR1@60) on the 6000x6000 DEM"
id=$(submit "$dir" --ntasks=2 --cpus-per-task=1 --time=1) || die "sbatch failed"
jobs_ids+=("$id")
wait_state "$id" RUNNING "${finished[@]}"
warned() { grep -q 'time limit near' "$dir/slurm-$id.out" 2>/dev/null; }
for _ in $(seq 300); do
  [[ -e $dir/out/.hillshade.tif.journal-0 ]] && break
  warned && break
  sleep 0.1
done
mapfile -t ranks < <(job_ranks "$id")
if ! warned; then
  say "  pausing ranks ${ranks[*]} until the warning"
  ((${#ranks[@]})) && kill -STOP "${ranks[@]}"
  t=$SECONDS
  for _ in $(seq 90); do warned && break; sleep 1; done
  say "  the warning came $((SECONDS - t)) s later"
  ((${#ranks[@]})) && kill -CONT "${ranks[@]}"
fi
wait_state "$id" PENDING "${finished[@]}"
say "  job $id: JobState=$job_state ExitCode=$job_exit"
show_log "$dir/slurm-$id.out"
check "Slurm's warning reached the batch shell and the trap forwarded USR1 to mpirun" \
  grep -q 'time limit near: forwarding USR1' "$dir/slurm-$id.out"
check "tessera stopped (75) and the script requeued the job" \
  grep -q 'requeueing job' "$dir/slurm-$id.out"
check "no file at the output paths" no_outputs "$dir"
requeued "$id" "$dir" "$tmp/big_direct"

interrupt_case term CANCELLED scancel
check "the script ended 75 (mpirun's 1 read as the ranks' stop by their journal)" \
  grep -q 'status 75' "$tmp"/term/slurm-*.out

# ---------------------------------------------------------------- case srun: ranks started by Slurm
# srun_job DIR [sbatch options] -- [tessera words]: the job's ranks started by srun over PMIx, not
# by mpirun; prints the job id.
srun_job() {
  local dir=$1; shift
  local options=()
  while [[ $1 != -- ]]; do options+=("$1"); shift; done
  shift
  (cd "$repo" && sbatch --parsable --output="$dir/slurm-%j.out" --ntasks=2 --cpus-per-task=1 \
     --export=ALL,OMP_NUM_THREADS=1 "${options[@]}" \
     --wrap "srun --mpi=pmix $tessera run $dir/job.toml $*; echo \"srun ended \$?\"")
}
dir=$tmp/srun
make_job "$dir" "$dem"
mkdir -p "$dir/out"
say "case srun: sbatch --ntasks=2 --wrap 'srun --mpi=pmix tessera run JOB'"
id=$(srun_job "$dir" --) || die "sbatch failed"
jobs_ids+=("$id")
wait_state "$id" "${finished[@]}"
say "  job $id: JobState=$job_state ExitCode=$job_exit"
show_log "$dir/slurm-$id.out"
check "srun ended 0" grep -q 'srun ended 0' "$dir/slurm-$id.out"
check "2 ranks, started by srun" grep -q ' 2 ranks x 1 threads' "$dir/slurm-$id.out"
check "the outputs are the mpirun -n 2 run's bytes" same_bytes "$dir" "$tmp/direct"

dir=$tmp/srun_usr1
make_job "$dir" "$big"
mkdir -p "$dir/out"
say "case srun_usr1: srun's ranks on the 6000x6000 DEM, then scancel --signal=USR1 (to srun's step)"
id=$(srun_job "$dir" --) || die "sbatch failed"
jobs_ids+=("$id")
wait_state "$id" RUNNING "${finished[@]}"
for _ in $(seq 50); do [[ -e $dir/out/.hillshade.tif.journal-0 ]] && break; sleep 0.2; done
sleep 2
scancel --signal=USR1 "$id"
wait_state "$id" "${finished[@]}"
say "  job $id: JobState=$job_state ExitCode=$job_exit"
show_log "$dir/slurm-$id.out"
check "srun ended 75, the ranks' status" grep -q 'srun ended 75' "$dir/slurm-$id.out"
check "no file at the output paths" no_outputs "$dir"
check "the stopped run left its journal" test -e "$dir/out/.hillshade.tif.journal-0"
id=$(srun_job "$dir" -- --resume) || die "sbatch failed"
jobs_ids+=("$id")
wait_state "$id" "${finished[@]}"
show_log "$dir/slurm-$id.out"
check "srun with --resume ended 0" grep -q 'srun ended 0' "$dir/slurm-$id.out"
check "its outputs are the uninterrupted run's bytes" same_bytes "$dir" "$tmp/big_direct"

# ---------------------------------------------------------------- case timeout (opt-in, slow)
if [[ ${LOCAL_SLURM_TIMEOUT:-0} == 1 ]]; then
  # The 1-minute limit must be hit while tessera is mid-run: once the ranks have started, this
  # script pauses them with SIGSTOP (by the PIDs `scontrol listpids` gives for this job), and
  # Slurm's SIGCONT + SIGTERM at the limit resumes and ends them. The #SBATCH --signal=B:USR1@60
  # would fire at once with a 1-minute limit, so this case moves the warning to SIGURG, which the
  # batch shell ignores, to see the limit itself.
  dir=$tmp/timeout
  make_job "$dir" "$big"
  say "case timeout: sbatch --ntasks=2 --time=1 --signal=B:URG@1 on the 6000x6000 DEM, ranks paused"
  id=$(submit "$dir" --ntasks=2 --cpus-per-task=1 --time=1 --signal=B:URG@1) || die "sbatch failed"
  jobs_ids+=("$id")
  wait_state "$id" RUNNING "${finished[@]}"
  mapfile -t ranks < <(job_ranks "$id")
  sleep 1
  say "  pausing ranks ${ranks[*]}"
  ((${#ranks[@]})) && kill -STOP "${ranks[@]}"
  wait_state "$id" "${finished[@]}"
  say "  job $id: JobState=$job_state ExitCode=$job_exit after ${job_waited} s"
  show_log "$dir/slurm-$id.out"
  check "found the 2 tessera ranks of the job" test "${#ranks[@]}" -ge 2
  check "JobState=TIMEOUT" test "$job_state" = TIMEOUT
  check "no file at the output paths" no_outputs "$dir"
  check "the stopped run left its journal" test -e "$dir/out/.hillshade.tif.journal-0"
  scontrol requeue "$id" || say "  scontrol requeue $id failed"
  requeued "$id" "$dir" "$tmp/big_direct"
fi

if ((failures)); then
  say "$failures check(s) FAILED"; tail -n 30 "$tmp/log/slurmctld.log" "$tmp/log/slurmd.log"; exit 1
fi
say "all checks passed"
