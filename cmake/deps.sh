# Sourced by tests/run.sh and jobs/demo.sh: installs the Debian packages tessera needs and builds it.

TESSERA_DEB_PACKAGES=(
  build-essential cmake g++ pkg-config
  libopenmpi-dev openmpi-bin
  libgdal-dev gdal-bin libtiff-dev libhdf5-openmpi-dev libdeflate-dev zlib1g-dev
  libzstd-dev
  libgtest-dev libcli11-dev libtomlplusplus-dev libfmt-dev libmuparser-dev libbenchmark-dev
  python3-gdal python3-numpy time
  # the benchmark suite's Python peers and its chart (tests/bench/suite.py)
  python3-rasterio python3-dask python3-matplotlib
  # focal statistics against scipy.ndimage and GRASS r.neighbors (tests/system/focal_*.py)
  python3-scipy grass-core
  # the Slurm tier: a throwaway one-node Slurm (tests/slurm/local_slurm.sh)
  slurmctld slurmd slurm-client munge bc
  # two hosts on one machine: network namespaces (tests/mpi/two_hosts.sh)
  iproute2 util-linux
)

# Open MPI refuses to start as root without these; oversubscribe lets tests start 3-4 ranks on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

# tessera_missing_packages: prints the packages of TESSERA_DEB_PACKAGES not installed, one a line.
tessera_missing_packages() {
  local p
  for p in "${TESSERA_DEB_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
      echo "$p"
    fi
  done
}

# tessera_install_deps: installs what is missing when root; otherwise says how and returns 1.
tessera_install_deps() {
  local missing
  mapfile -t missing < <(tessera_missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# tessera_build ROOT BUILD_DIR: configures and builds Release with all cores.
tessera_build() {
  local root=$1 build=$2
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$build" -j"$(nproc)"
}
