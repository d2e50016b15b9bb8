#!/usr/bin/env bash
# Two hosts on one machine: two network namespaces joined by a veth pair, each with its own host
# name (a UTS namespace), and Open MPI started across them through a launcher agent that enters
# the namespace. Runs the identity and HDF5 suites with ranks on both hosts, so that the paths
# only multi-node runs take are exercised: tiles sent to the writer instead of written in place,
# HDF5 over MPI-IO from two hosts, the tile counter's one-sided calls over TCP.
#
#   bash tests/mpi/two_hosts.sh TESSERA DATA_DIR [RANKS]     (as root; iproute2 and util-linux)
#
# Everything it makes (namespaces tsrNNNNa/b, veth pair, a temp dir) is named after its pid and
# removed on exit; traffic stays on the veth pair between the two namespaces (10.213.0.0/24).
set -uo pipefail

tessera=$(realpath "$1")
data=$(realpath "$2")
ranks=${3:-2}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf '[two_hosts] %s\n' "$*"; }

[[ $(id -u) -eq 0 ]] || { say "needs root (network namespaces)"; exit 2; }
ns_a=tsr$$a ns_b=tsr$$b veth_a=tsv$$a veth_b=tsv$$b
tmp=$(mktemp -d /tmp/tessera-two-hosts.XXXXXX)
cleanup() {
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null  # the veth pair goes with its namespaces
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns_a" && ip netns add "$ns_b" &&
  ip link add "$veth_a" type veth peer name "$veth_b" &&
  ip link set "$veth_a" netns "$ns_a" && ip link set "$veth_b" netns "$ns_b" &&
  ip -n "$ns_a" addr add 10.213.0.1/24 dev "$veth_a" &&
  ip -n "$ns_b" addr add 10.213.0.2/24 dev "$veth_b" &&
  for n in "$ns_a" "$ns_b"; do ip -n "$n" link set lo up; done &&
  ip -n "$ns_a" link set "$veth_a" up && ip -n "$ns_b" link set "$veth_b" up ||
  { say "cannot make the namespaces"; exit 2; }

# The launcher agent Open MPI calls as `agent HOST COMMAND...` to start its daemon on HOST.
cat >"$tmp/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case \$host in
  nodea) ns=$ns_a ;;
  nodeb) ns=$ns_b ;;
  *) echo "two_hosts agent: no host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts /bin/sh -c "hostname \$host; exec \$*"
AGENT
# mpirun for the suites (they call it as MPIEXEC --oversubscribe --bind-to none -n N ...): started
# on nodea, ranks placed on nodea and nodeb in turn (rank 0 on nodea, rank 1 on nodeb...).
# The tile counter's window needs osc pt2pt over TCP (osc rdma has no TCP transport).
cat >"$tmp/mpiexec" <<MPIEXEC
#!/bin/sh
exec timeout 300 ip netns exec $ns_a unshare --uts /bin/sh -c 'hostname nodea; exec mpirun \\
  --host nodea:8,nodeb:8 --map-by node --mca plm_rsh_agent $tmp/agent --mca pml ob1 \\
  --mca osc pt2pt --mca btl tcp,self,vader --mca btl_tcp_if_include 10.213.0.0/24 \\
  --mca oob_tcp_if_include 10.213.0.0/24 "\$@"' mpirun "\$@"
MPIEXEC
chmod +x "$tmp/agent" "$tmp/mpiexec"

hosts=$("$tmp/mpiexec" -n 2 hostname | sort | tr '\n' ' ')
say "namespaces $ns_a, $ns_b; 2 ranks run on: $hosts"
[[ $hosts == "nodea nodeb " ]] || { say "ranks did not land on both hosts"; exit 1; }

failed=0
for suite in identity hdf5; do
  work=$tmp/$suite
  mkdir -p "$work"
  t0=$SECONDS
  if /usr/bin/python3 "$here/$suite.py" --tessera "$tessera" --work "$work" --data "$data" \
       --ranks "$ranks" --mpiexec "$tmp/mpiexec"; then
    say "$suite at $ranks ranks on two hosts: passed in $((SECONDS - t0)) s"
  else
    say "$suite at $ranks ranks on two hosts: FAILED"; failed=1
  fi
done
# The paths the suites are there for, from the run report: across the hosts rank 1 sends its tiles
# of an uncompressed GeoTIFF to rank 0 and writes none itself, and writes its own chunks of an
# uncompressed HDF5 file over MPI-IO; on one host it writes its GeoTIFF tiles in place.
paths=$tmp/paths
mkdir -p "$paths"
if /usr/bin/python3 - "$tessera" "$tmp/mpiexec" "$data/srtm.tif" "$paths" <<'PATHS'
import json, os, subprocess, sys
tessera, across, dem, work = sys.argv[1:]
env = dict(os.environ, OMP_NUM_THREADS="1")
def rank1(mpiexec, output):
    report = os.path.join(work, "report.json")
    out = os.path.join(work, output)
    cmd = [mpiexec, "--oversubscribe", "--bind-to", "none", "-n", "2", tessera, "dem", "slope", dem,
           out, "-q", "--report", report, "-co", "BLOCKXSIZE=32", "-co", "BLOCKYSIZE=32"]
    subprocess.run(cmd, check=True, env=env)
    os.remove(out)
    with open(report) as f:
        return json.load(f)["per_rank"][1]
bad = 0
for name, mpiexec, output, sends in (("across the hosts", across, "s.tif", True),
                                     ("across the hosts", across, "s.h5", False),
                                     ("on one host", "mpirun", "s.tif", False)):
    r = rank1(mpiexec, output)
    ok = r["tiles"] > 0 and (r["bytes_sent"] > 0) == sends and (r["bytes_written"] > 0) != sends
    print(f"[two_hosts] {output} {name}: rank 1 computed {r['tiles']} tiles, sent "
          f"{r['bytes_sent']} bytes, wrote {r['bytes_written']}: {'as expected' if ok else 'NOT as expected'}")
    bad += not ok
sys.exit(1 if bad else 0)
PATHS
then
  say "the sent-to-writer and MPI-IO paths were taken across the hosts"
else
  say "the paths taken: FAILED"; failed=1
fi
exit $failed
