/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer, so that the checked-in corpora and crash reproducers replay in
 * `make test` with the project's own compiler.
 *
 *   replay_<target> PATH...
 *
 * Each PATH is a file or a directory (every regular file in it, in name
 * order; names starting with '.' or "README" are skipped). A reproducer of a
 * bug that is still there crashes, aborts or trips a sanitizer; a clean run
 * prints how many inputs ran and exits 0. A PATH that does not exist is an
 * error (exit 2). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input being run, named when it crashes (the signal then goes on to
 * its default action, so the exit status says how it died). */
static const char *current;

static void on_signal(int sig) {
  static const char msg[] = "\nreplay: this input failed: ";
  if (current) {
    ssize_t r = write(2, msg, sizeof msg - 1);
    r = write(2, current, strlen(current));
    r = write(2, "\n", 1);
    (void)r;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static long run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = (uint8_t *)malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) buf = (uint8_t *)realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "replay: out of memory reading %s\n", path);
    exit(2);
  }
  /* an exact-size copy, so that a sanitizer build sees reads past the end */
  uint8_t *exact = (uint8_t *)malloc(n ? n : 1);
  if (!exact) exit(2);
  if (n) memcpy(exact, buf, n);
  free(buf);
  if (getenv("REPLAY_VERBOSE")) fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
  current = path;
  LLVMFuzzerTestOneInput(exact, n);
  current = NULL;
  free(exact);
  return 1;
}

static int skipped(const char *name) {
  return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static long run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    exit(2);
  }
  if (!S_ISDIR(st.st_mode)) return run_file(path);
  struct dirent **names;
  int n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    perror(path);
    exit(2);
  }
  long count = 0;
  for (int i = 0; i < n; i++) {
    if (!skipped(names[i]->d_name)) {
      size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
      char *full = (char *)malloc(len);
      if (!full) exit(2);
      snprintf(full, len, "%s/%s", path, names[i]->d_name);
      struct stat fs;
      if (stat(full, &fs) == 0 && S_ISREG(fs.st_mode)) count += run_file(full);
      free(full);
    }
    free(names[i]);
  }
  free(names);
  return count;
}

int main(int argc, char **argv) {
  int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], on_signal);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long count = 0;
  for (int i = 1; i < argc; i++) count += run_path(argv[i]);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  const char *name = strrchr(argv[0], '/');
  printf("%s: %ld inputs replayed in %.2f s, no failure\n", name ? name + 1 : argv[0], count, secs);
  return 0;
}
