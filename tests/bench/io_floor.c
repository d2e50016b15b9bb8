/* The I/O floor of a task for any program at N ranks (tests/bench/suite.py builds it with mpicc
 * and runs it under the same `mpirun -n 2 --bind-to none` as tessera):
 *
 *     io_floor OUTPUT OUT_BYTES SWEEPS INPUT...
 *
 * Each rank starts MPI, reads its share of every INPUT's bytes SWEEPS times (the file mapped, every
 * byte loaded once a sweep, 64 MiB windows dropped behind so that a rank holds what a 300 MB
 * budget allows) and writes its share of OUT_BYTES into the one file OUTPUT (created and sized by
 * rank 0 before a barrier, 1 MiB `pwrite`s from a reused buffer), the last sweep streamed with
 * the writes as a tile pipeline does, and stops MPI. No GeoTIFF, no arithmetic on the cells:
 * what is left of a task when everything but starting, reading the input and writing the output
 * costs nothing. Built with -DIO_FLOOR_GDAL (and GDAL's flags), each rank also loads GDAL (linked,
 * so loaded before main as any GDAL program's libraries are), registers its drivers and opens
 * every input through it once, the least a tool that reads through GDAL does. A tool that must do
 * at least this is never faster than this program's wall time on the same host, so a peer's time
 * over it bounds the speed-up any such tool can reach there. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef IO_FLOOR_GDAL
#include <cpl_error.h>
#include <gdal.h>
#endif

enum { kChunk = 1 << 20, kWindow = 64 << 20 };

volatile uint64_t sink; /* keeps the loads */

static void fail(const char* what, const char* path) {
  fprintf(stderr, "io_floor: %s %s: %s\n", what, path, strerror(errno));
  MPI_Abort(MPI_COMM_WORLD, 1);
}

/* Loads every byte of [begin, end) eight bytes at a time into a sum the caller keeps (so that the
 * loads cannot be left out); the compiler vectorises the loop. */
static uint64_t load_all(const unsigned char* begin, const unsigned char* end) {
  uint64_t sum = 0;
  const uint64_t* p = (const uint64_t*)begin;
  const uint64_t* stop = (const uint64_t*)end;
  while (p < stop) sum += *p++;
  return sum;
}

/* One rank's share of one input: its byte range in the mapped file. */
typedef struct {
  unsigned char* map;
  size_t size;
  off_t begin, end, next;
} Share;

static Share open_share(const char* path, int rank, int ranks) {
  const int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) fail("cannot open", path);
  const long page = sysconf(_SC_PAGESIZE);
  Share share = {NULL, (size_t)st.st_size, 0, 0, 0};
  share.begin = share.next = (st.st_size * rank / ranks) / page * page;
  share.end = rank + 1 == ranks ? st.st_size / 8 * 8 : (st.st_size * (rank + 1) / ranks) / page * page;
  if (share.size > 0) {
    share.map = mmap(NULL, share.size, PROT_READ, MAP_SHARED, fd, 0);
    if (share.map == MAP_FAILED) fail("cannot map", path);
  }
  close(fd);
  return share;
}

/* Loads the share's bytes up to `fraction` of it (a sweep's progress, 0 to 1), dropping each
 * 64 MiB window once loaded; returns their sum. */
static uint64_t read_up_to(Share* share, double fraction) {
  off_t goal = share->begin + (off_t)((double)(share->end - share->begin) * fraction) / 8 * 8;
  if (fraction >= 1.0) goal = share->end;
  uint64_t sum = 0;
  while (share->next < goal) {
    const off_t window = share->begin + (share->next - share->begin) / kWindow * kWindow;
    const off_t window_end = window + kWindow < share->end ? window + kWindow : share->end;
    const off_t stop = goal < window_end ? goal : window_end;
    sum += load_all(share->map + share->next, share->map + stop);
    share->next = stop;
    if (stop == window_end) madvise(share->map + window, (size_t)(window_end - window), MADV_DONTNEED);
  }
  return sum;
}

int main(int argc, char** argv) {
  /* tessera's own start-up settings on one node (src/par/environment.cpp), unless already set. */
  setenv("OMPI_MCA_pml", "ob1", 0);
  setenv("OMPI_MCA_btl", "self,vader", 0);
  setenv("HWLOC_COMPONENTS", "-pci,-linuxio,-gl,-opencl", 0);
  int provided = 0, rank = 0, ranks = 1;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (argc < 4) {
    if (rank == 0) fprintf(stderr, "usage: io_floor OUTPUT OUT_BYTES SWEEPS INPUT...\n");
    MPI_Finalize();
    return 2;
  }
  const char* output = argv[1];
  const long long out_bytes = atoll(argv[2]);
  const int sweeps = atoi(argv[3]);
  const int inputs = argc - 4;
  Share* shares = calloc((size_t)(inputs > 0 ? inputs : 1), sizeof(Share));
  if (!shares) fail("cannot allocate for", output);
#ifdef IO_FLOOR_GDAL
  GDALAllRegister();
  CPLPushErrorHandler(CPLQuietErrorHandler);
  for (int i = 0; i < inputs; ++i) {
    /* An input GDAL cannot open (a raw file) is only read below. */
    GDALDatasetH dataset = GDALOpenEx(argv[4 + i], GDAL_OF_RASTER | GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                      NULL, NULL, NULL);
    if (dataset) GDALClose(dataset);
  }
  CPLPopErrorHandler();
#endif
  for (int i = 0; i < inputs; ++i) shares[i] = open_share(argv[4 + i], rank, ranks);
  uint64_t sum = 0;
  /* Every sweep but the last reads the whole share; the last one is streamed: each 1 MiB of
   * output is written once the matching fraction of every input has been read, as a tile
   * pipeline does (two ranks' writes into one file then rarely collide). */
  for (int sweep = 0; sweep + 1 < sweeps; ++sweep)
    for (int i = 0; i < inputs; ++i) {
      sum += read_up_to(&shares[i], 1.0);
      shares[i].next = shares[i].begin;
    }
  int fd = -1;
  unsigned char* buffer = NULL;
  if (out_bytes > 0) {
    if (rank == 0) {
      fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ftruncate(fd, out_bytes) != 0) fail("cannot create", output);
      close(fd);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    fd = open(output, O_WRONLY);
    buffer = malloc(kChunk);
    if (fd < 0 || !buffer) fail("cannot open", output);
    for (int i = 0; i < kChunk; ++i) buffer[i] = (unsigned char)(i * 7 + 1);
  }
  const long long begin = out_bytes * rank / ranks, end = out_bytes * (rank + 1) / ranks;
  for (long long at = begin; at < end; at += kChunk) {
    const double done = (double)(at + kChunk - begin) / (double)(end - begin);
    if (sweeps > 0)
      for (int i = 0; i < inputs; ++i) sum += read_up_to(&shares[i], done);
    const size_t n = (size_t)(end - at < kChunk ? end - at : kChunk);
    buffer[0] = (unsigned char)sum;
    if (pwrite(fd, buffer, n, at) != (ssize_t)n) fail("cannot write", output);
  }
  if (sweeps > 0)
    for (int i = 0; i < inputs; ++i) sum += read_up_to(&shares[i], 1.0);
  if (fd >= 0) close(fd);
  free(buffer);
  for (int i = 0; i < inputs; ++i)
    if (shares[i].map) munmap(shares[i].map, shares[i].size);
  free(shares);
  sink = sum;
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize();
  return 0;
}
