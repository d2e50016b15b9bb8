"""What the MPI-tier scripts share: their command line and how they launch tessera on N ranks."""
import argparse
import os
import subprocess
import sys


def parse_args(with_data=True):
    """--tessera, --work, --ranks, --mpiexec (and --data): the arguments CMake passes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tessera", required=True)
    if with_data:
        parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--ranks", type=int, required=True)
    parser.add_argument("--mpiexec", default="mpirun")
    return parser.parse_args()


def launch(args, ranks, threads, tessera_args, timeout=240):
    """Runs `tessera tessera_args...` on `ranks` ranks x `threads` threads; returns the result."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [args.mpiexec, "--oversubscribe", "--bind-to", "none", "-n", str(ranks),
           args.tessera] + list(tessera_args)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def launch_or_exit(args, ranks, threads, tessera_args, timeout=240):
    """As launch(), ending the test with the command and its output when tessera fails."""
    done = launch(args, ranks, threads, tessera_args, timeout)
    if done.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(done.args), done.stdout, done.stderr))
    return done
