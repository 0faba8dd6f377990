/* timing.h: the timing loop of lucid_bench.lua and torch_bench.py, for the C
 * programs of `make bench` (gemv_chain.c, memcopy.c, game_loop.c's clock).
 * One thread, so CPU time of the process (CLOCK_PROCESS_CPUTIME_ID, as os.clock
 * and time.process_time on the other sides): warm-up that finds n, the
 * iterations a 0.1 s batch holds, then 3 to 7 batches; the median batch / n. */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <time.h>

static inline double bench_cpu_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double bench_thread_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double bench_wall_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double bench_batch(void (*step)(void), long n) {
  double t0 = bench_cpu_clock();
  for (long i = 0; i < n; i++) step();
  double t = bench_cpu_clock() - t0;
  return t > 1e-9 ? t : 1e-9;
}

/* Seconds per call of step (median of the batches); *iterations gets n. */
static inline double bench_measure(void (*step)(void), long *iterations) {
  const double batch = 0.1, budget = 0.8;
  step(); /* first call: page faults, caches */
  long n = 1;
  double t = bench_batch(step, n);
  while (t < batch / 2) {
    n *= 2;
    t = bench_batch(step, n);
  }
  double per_iter = t / (double)n;
  n = (long)(batch / per_iter + 0.5);
  if (n < 1) n = 1;
  int samples = (int)(budget / ((double)n * per_iter));
  if (samples < 3) samples = 3;
  if (samples > 7) samples = 7;
  double per[7] = {0};
  for (int i = 0; i < samples; i++) per[i] = bench_batch(step, n) / (double)n;
  for (int i = 1; i < samples; i++) /* insertion sort: 7 at most */
    for (int j = i; j > 0 && per[j] < per[j - 1]; j--) {
      double s = per[j];
      per[j] = per[j - 1];
      per[j - 1] = s;
    }
  *iterations = n;
  return samples % 2 ? per[samples / 2] : (per[samples / 2 - 1] + per[samples / 2]) / 2;
}

#endif
