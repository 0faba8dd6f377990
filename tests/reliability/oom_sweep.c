/* oom_sweep.c: runs a Lua script (oom_script.lua) in a host whose allocator
 * refuses allocation N, for every N from 1 to the script's total count, and
 * checks that every run ends well:
 *
 *   - the script either succeeds, returning the same string as a run without
 *     failures, or stops with a catchable error whose message contains
 *     "not enough memory" (never a crash, a Lua panic, an abort, a hang, or
 *     another error in its place);
 *   - afterwards, with allocations allowed again, the same lua_State runs the
 *     whole script once more and gets the reference result (the state stays
 *     usable: nothing half-built is left behind, no module is left
 *     half-loaded, grad mode is restored);
 *   - lua_close returns every byte and every block to the allocator.
 *
 * Two ways to refuse, each swept over every N:
 *   once   allocation N alone fails (Lua's emergency collection then often
 *          retries it successfully; the library's own tensor allocations are
 *          not retried, so they raise);
 *   after  allocation N and every later one fail until the script's pcall
 *          returns (the state is then as full as it gets).
 * "Allocation" means every request for new memory: fresh blocks and growing
 * reallocations (shrinking ones never fail, as Lua assumes).
 *
 * Each N runs in a child process forked at the moment of allocation N, from a
 * parent that runs the script without failures: the child inherits exactly
 * the state the refused allocation sees, so the sweep costs the tail of the
 * script per N, not the whole of it. The library's Lua files come from
 * inside liblucid.a (lucid_preload), so no file is read but the script.
 *
 * Usage: oom_sweep [options] SCRIPT
 *   --mode once|after|both   (both)
 *   --jobs N                 children at a time (2)
 *   --only N                 refuse allocation N only, in this process, and
 *                            say what happened (with a traceback): to debug
 *   --every K                sweep N = 1, 1 + K, 1 + 2K, ... (1: every N)
 *   --warm                   load the library before counting starts, so
 *                            that only what the script does after is swept
 * Exit status 0 when every run ended well. OPENBLAS_NUM_THREADS=1 should be
 * set (OpenBLAS's thread pool does not survive fork). */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lucid.h"

enum { MODE_ONCE = 1, MODE_AFTER = 2 };
enum { EXIT_FAILED_OOM = 10, EXIT_SUCCEEDED = 11, EXIT_PROBLEM = 12 };
#define CHILD_TIMEOUT 120  /* seconds; a child still running then has hung */

/* ---- the allocator ---------------------------------------------------------- */

typedef struct sweep {
  size_t live;        /* bytes handed out and not returned */
  long blocks;        /* blocks handed out and not returned */
  long count;         /* allocation requests so far (fresh or growing) */
  int counting;       /* count only while the script runs */
  long fork_from;     /* parent: fork a child at each count >= fork_from (0: never) */
  long fork_every;
  int modes;          /* parent: which children to fork */
  long fail_at;       /* refuse request number fail_at ... */
  int fail_mode;      /* ... once, or from then on (MODE_AFTER); 0: refuse nothing */
  long refused;
} sweep;

static sweep g;
static int g_is_child;
static long g_child_n;
static int g_child_mode;
static int g_jobs = 2, g_running;
static long g_forked, g_ok_error, g_ok_success, g_problems;
static char g_tmpdir[256];

static void reap(int block);
static void child_begin(long n, int mode);
static void snapshot_files(long k);
static void child_files(long k);
static void kid_add(pid_t pid, long k);

/* --only N: where allocation N is asked for, Lua and C. Allocates nothing
 * from Lua (lua_getinfo with "Sl" does not) and prints with plain stdio. */
static lua_State *g_where;

static void where(void) {
  lua_Debug ar;
  fprintf(stderr, "oom_sweep: allocation %ld is asked for at:\n", g.count);
  for (int level = 0; lua_getstack(g_where, level, &ar); level++) {
    if (!lua_getinfo(g_where, "Sl", &ar)) break;
    fprintf(stderr, "  %s:%d\n", ar.short_src, ar.currentline);
  }
  void *frames[32];
  int n = backtrace(frames, 32);
  backtrace_symbols_fd(frames, n, 2);
}

static int should_refuse(void) {
  if (!g.fail_mode) return 0;
  if (g.count == g.fail_at) return 1;
  return g.fail_mode == MODE_AFTER && g.count > g.fail_at;
}

static void *sweep_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  size_t old = ptr ? osize : 0;  /* osize is a type tag when ptr is NULL */
  if (nsize == 0) {
    if (ptr) {
      g.live -= old;
      g.blocks--;
      free(ptr);
    }
    return NULL;
  }
  if (g.counting && nsize > old) {
    g.count++;
    if (!g_is_child && g.fork_from > 0 && g.count >= g.fork_from &&
        (g.count - g.fork_from) % g.fork_every == 0) {
      for (int mode = MODE_ONCE; mode <= MODE_AFTER; mode++) {
        if (!(g.modes & mode)) continue;
        while (g_running >= g_jobs) reap(1);
        fflush(NULL);
        long k = g_forked + 1;
        snapshot_files(k);
        pid_t pid = fork();
        if (pid == 0) {
          child_begin(g.count, mode);
          child_files(k);
          break;
        }
        if (pid < 0) {
          fprintf(stderr, "oom_sweep: fork: %s\n", strerror(errno));
          exit(2);
        }
        kid_add(pid, k);
        g_running++;
        g_forked++;
      }
    }
    if (should_refuse()) {
      if (g_where && g.refused == 0) where();
      g.refused++;
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  g.live = g.live - old + nsize;
  if (!ptr) g.blocks++;
  return p;
}

/* ---- what the script sees ------------------------------------------------------- */

/* Files. The script writes and reads a checkpoint, and a child forked in the
 * middle must not touch the parent's: the parent works in a directory of
 * its own (g_tmpdir/p) and the script names files relative to it
 * (oom_tmpfile() returns "checkpoint.safetensors"). Before each fork the
 * parent copies that directory into g_tmpdir/<k> and notes the offset of
 * every descriptor it has open on a file there; the child moves into its
 * copy and points those descriptors at its own files, at the same offsets.
 * So the parent's open file (a save half-written, a load half-read) becomes
 * the child's own, and nothing is shared, offsets included. */
#define CHECKPOINT "checkpoint.safetensors"
#define REPORT "report.txt"  /* a child's problems, in its directory */
#define MAX_FDS 16

static int l_tmpfile(lua_State *L) {
  lua_pushliteral(L, CHECKPOINT);
  return 1;
}

static char g_parent_dir[300];
static struct {
  int n;
  int fd[MAX_FDS];
  off_t at[MAX_FDS];
  char name[MAX_FDS][256];
} g_snap;

static void child_dir(long k, char *buf, size_t n) { snprintf(buf, n, "%s/%ld", g_tmpdir, k); }

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (!in) return;
  FILE *out = fopen(to, "wb");
  if (out) {
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, k, out);
    fclose(out);
  }
  fclose(in);
}

/* In the parent, before fork k: the directory and the descriptors. */
static void snapshot_files(long k) {
  char dir[300], from[600], to[600];
  child_dir(k, dir, sizeof dir);
  if (mkdir(dir, 0700) != 0) {
    fprintf(stderr, "oom_sweep: mkdir %s: %s\n", dir, strerror(errno));
    exit(2);
  }
  snprintf(from, sizeof from, "%s/" CHECKPOINT, g_parent_dir);
  snprintf(to, sizeof to, "%s/" CHECKPOINT, dir);
  copy_file(from, to);  /* when the parent has one now */
  g_snap.n = 0;
  size_t plen = strlen(g_parent_dir);
  for (int fd = 3; fd < 256 && g_snap.n < MAX_FDS; fd++) {
    char link[64], target[600];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = 0;
    if (strncmp(target, g_parent_dir, plen) != 0 || target[plen] != '/') continue;
    g_snap.fd[g_snap.n] = fd;
    g_snap.at[g_snap.n] = lseek(fd, 0, SEEK_CUR);
    snprintf(g_snap.name[g_snap.n], sizeof g_snap.name[0], "%s", target + plen + 1);
    g_snap.n++;
  }
}

/* In child k, just forked. */
static void child_files(long k) {
  char dir[300], path[600];
  child_dir(k, dir, sizeof dir);
  for (int i = 0; i < g_snap.n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, g_snap.name[i]);
    int mine = open(path, O_RDWR | O_CREAT, 0600);
    if (mine < 0 || lseek(mine, g_snap.at[i], SEEK_SET) < 0 || dup2(mine, g_snap.fd[i]) < 0) {
      fprintf(stderr, "oom_sweep: cannot give the child its own %s: %s\n", path, strerror(errno));
      _exit(2);
    }
    close(mine);
  }
  if (chdir(dir) != 0) _exit(2);
}

static void remove_child_files(long k) {
  char dir[300], path[600];
  child_dir(k, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/" CHECKPOINT, dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/" REPORT, dir);
  unlink(path);
  rmdir(dir);
}

/* The children's reports, grouped by their first line with the allocation
 * number taken out: each kind is printed once, in full, with its count and
 * the first allocation numbers that showed it. */
#define MAX_KINDS 64
static struct {
  char *key, *first;
  long count, ns[6];
} g_kinds[MAX_KINDS];
static int g_nkinds;
static long g_other_kinds;

static void gather_report(long k) {
  char path[600];
  snprintf(path, sizeof path, "%s/%ld/" REPORT, g_tmpdir, k);
  FILE *f = fopen(path, "r");
  if (!f) return;
  static char buf[16384];  /* as g_report */
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* the key: the first line, "allocation <N> " removed */
  char key[600];
  long alloc_n = 0;
  const char *p = strstr(buf, "allocation ");
  size_t line = strcspn(buf, "\n");
  if (p && (size_t)(p - buf) < line) {
    size_t head = (size_t)(p - buf) + strlen("allocation ");
    alloc_n = strtol(buf + head, NULL, 10);
    const char *after = buf + head + strspn(buf + head, "0123456789");
    snprintf(key, sizeof key, "%.*s%.*s", (int)(p - buf), buf, (int)(buf + line - after), after);
  } else {
    snprintf(key, sizeof key, "%.*s", (int)line, buf);
  }
  for (int i = 0; i < g_nkinds; i++) {
    if (strcmp(g_kinds[i].key, key) == 0) {
      if (g_kinds[i].count < 6) g_kinds[i].ns[g_kinds[i].count] = alloc_n;
      g_kinds[i].count++;
      return;
    }
  }
  if (g_nkinds == MAX_KINDS) {
    g_other_kinds++;
    return;
  }
  g_kinds[g_nkinds].key = strdup(key);
  g_kinds[g_nkinds].first = strdup(buf);
  g_kinds[g_nkinds].ns[0] = alloc_n;
  g_kinds[g_nkinds].count = 1;
  g_nkinds++;
}

static void print_kinds(void) {
  for (int i = 0; i < g_nkinds; i++) {
    fprintf(stderr, "oom_sweep: PROBLEM (%ld runs, e.g. allocations", g_kinds[i].count);
    for (long j = 0; j < g_kinds[i].count && j < 6; j++) fprintf(stderr, " %ld", g_kinds[i].ns[j]);
    fprintf(stderr, "%s):\n%s", g_kinds[i].count > 6 ? " ..." : "", g_kinds[i].first);
    free(g_kinds[i].key);
    free(g_kinds[i].first);
  }
  if (g_other_kinds)
    fprintf(stderr, "oom_sweep: and %ld runs with other problems\n", g_other_kinds);
  if (g_nkinds)
    fprintf(stderr, "oom_sweep: to see one run, with where the refused allocation was asked for: "
            "oom_sweep --only N --mode once|after SCRIPT\n");
}

/* Running children: pid -> k, for the clean-up. */
static struct { pid_t pid; long k; } g_kids[64];

static void kid_add(pid_t pid, long k) {
  for (int i = 0; i < 64; i++)
    if (!g_kids[i].pid) {
      g_kids[i].pid = pid;
      g_kids[i].k = k;
      return;
    }
}

static long kid_take(pid_t pid) {
  for (int i = 0; i < 64; i++)
    if (g_kids[i].pid == pid) {
      g_kids[i].pid = 0;
      return g_kids[i].k;
    }
  return 0;
}

/* The traceback of the last error, kept outside Lua's memory (plain malloc)
 * and made with refusals suspended, so that it never changes the run. */
static char *g_traceback;

static int msgh(lua_State *L) {
  int saved = g.fail_mode;
  g.fail_mode = 0;
  free(g_traceback);
  g_traceback = NULL;
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  const char *tb = lua_tostring(L, -1);
  if (tb) g_traceback = strdup(tb);
  lua_pop(L, 1);
  g.fail_mode = saved;
  return 1;  /* the error object, unchanged */
}

static int g_warm;  /* --warm: the library is loaded before counting starts */

static lua_State *new_state(void) {
  lua_State *L = lua_newstate(sweep_alloc, NULL);
  if (!L) {
    fprintf(stderr, "oom_sweep: no state\n");
    exit(2);
  }
  luaL_openlibs(L);
  lucid_preload(L);
  /* lauxlib makes the metatable of its buffer boxes ("_UBOX*") on first use
   * and fills it in a second step; an allocation refused between the two
   * leaves it without __close, and every later large string.format or
   * table.concat fails with "variable '(C temporary)' got a non-closable
   * value". That is Lua's own (5.4.4 to 5.4.6), not the library's, so the
   * box's metatable is made here, before counting starts. */
  if (luaL_dostring(L, "local _ = string.rep('x', 4 * 8192)") != LUA_OK) exit(2);
  lua_pushcfunction(L, l_tmpfile);
  lua_setglobal(L, "oom_tmpfile");
  if (g_warm && luaL_dostring(L, "local l = require('lucid'); local _ = l.nn.Linear, "
                               "l.nn.Tanh, l.nn.Sequential, l.optim.SGD; "
                               "require('lucid.serialize')") != LUA_OK) {
    fprintf(stderr, "oom_sweep: %s\n", lua_tostring(L, -1));
    exit(2);
  }
  return L;
}

static const char *g_script_path;
static char *g_script;
static size_t g_script_len;

/* Runs the script in L: loads it (not counted) and calls it, counting. Leaves
 * the status; *result gets a malloc'd copy of the returned string or of the
 * error message (or NULL). */
static int run_script(lua_State *L, char **result) {
  *result = NULL;
  lua_settop(L, 0);
  lua_pushcfunction(L, msgh);
  if (luaL_loadbufferx(L, g_script, g_script_len, g_script_path, "t") != LUA_OK) {
    fprintf(stderr, "oom_sweep: %s\n", lua_tostring(L, -1));
    exit(2);
  }
  g.counting = 1;
  int st = lua_pcall(L, 0, 1, 1);
  g.counting = 0;
  if (lua_type(L, -1) == LUA_TSTRING) *result = strdup(lua_tostring(L, -1));
  lua_settop(L, 0);
  return st;
}

/* ---- the reference run and the checks of one refused run -------------------------- */

static char *g_reference;  /* what the script returns when nothing fails */
static long g_total;

static const char *status_name(int st) {
  switch (st) {
    case LUA_OK: return "success";
    case LUA_ERRRUN: return "a runtime error";
    case LUA_ERRMEM: return "a memory error";
    case LUA_ERRERR: return "an error in the message handler";
    default: return "an unexpected status";
  }
}

/* What went wrong in this child, written out in one piece at the end so that
 * children running at the same time do not interleave their lines. */
static char g_report[16384];
static size_t g_report_len;

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (g_report_len < sizeof g_report) {
    int n = vsnprintf(g_report + g_report_len, sizeof g_report - g_report_len, fmt, ap);
    if (n > 0) g_report_len += (size_t)n;
    if (g_report_len > sizeof g_report - 1) g_report_len = sizeof g_report - 1;
  }
  va_end(ap);
}

static int problem(const char *what, const char *detail) {
  report("oom_sweep: allocation %ld refused (%s): %s%s\n", g_child_n,
         g_child_mode == MODE_ONCE ? "once" : "and every later one", what, detail ? detail : "");
  return 1;
}

/* Checks the state after the refused run: status st, result/message res.
 * Returns the exit code for the child. */
static int check_run(lua_State *L, int st, char *res, int verbose) {
  int bad = 0, outcome = EXIT_FAILED_OOM;
  char what[256];
  g.fail_mode = 0;  /* allocations are allowed again from here */
  if (st == LUA_OK) {
    outcome = EXIT_SUCCEEDED;
    if (!res || strcmp(res, g_reference) != 0) {
      bad |= problem("the script succeeded with a different result: ", res);
      report("  (the reference: %s)\n", g_reference);
    }
  } else if (st == LUA_ERRRUN || st == LUA_ERRMEM) {
    if (!res || !strstr(res, "not enough memory")) {
      bad |= problem("the error is not \"not enough memory\": ", res);
      if (g_traceback) report("%s\n", g_traceback);
    }
  } else {
    snprintf(what, sizeof what, "the script ended with %s: ", status_name(st));
    bad |= problem(what, res);
  }
  if (verbose)
    printf("oom_sweep: allocation %ld refused (%s): %s: %s\n", g_child_n,
           g_child_mode == MODE_ONCE ? "once" : "and after", status_name(st), res ? res : "");
  free(res);

  /* the same state runs the whole script again, with nothing refused */
  lua_gc(L, LUA_GCCOLLECT);
  free(g_traceback);
  g_traceback = NULL;
  int st2 = run_script(L, &res);
  if (st2 != LUA_OK || !res || strcmp(res, g_reference) != 0) {
    snprintf(what, sizeof what, "the state is broken: the script run again gives %s: ",
             status_name(st2));
    bad |= problem(what, res);
    if (st2 != LUA_OK && g_traceback) report("%s\n", g_traceback);
  } else if (verbose) {
    printf("oom_sweep: the same state then runs the script again with the reference result\n");
  }
  free(res);

  lua_close(L);
  if (g.live != 0 || g.blocks != 0) {
    snprintf(what, sizeof what, "after lua_close, %zu bytes in %ld blocks are still allocated",
             g.live, g.blocks);
    bad |= problem(what, NULL);
  }
  if (g_report_len) {
    if (g_is_child) {  /* the parent gathers the reports (see reap) */
      FILE *f = fopen(REPORT, "w");
      if (f) {
        fputs(g_report, f);
        fclose(f);
      }
    } else {
      fputs(g_report, stderr);
    }
  }
  return bad ? EXIT_PROBLEM : outcome;
}

/* In a child just forked at allocation n: refuse it (and, in MODE_AFTER, the
 * rest); main() notices g_is_child when the script's pcall returns. */
static void child_begin(long n, int mode) {
  g_is_child = 1;
  g_child_n = n;
  g_child_mode = mode;
  g.fail_at = n;
  g.fail_mode = mode;
  alarm(CHILD_TIMEOUT);
}

static void reap(int block) {
  int status;
  pid_t pid = waitpid(-1, &status, block ? 0 : WNOHANG);
  if (pid <= 0) return;
  g_running--;
  long k = kid_take(pid);
  gather_report(k);
  remove_child_files(k);
  if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FAILED_OOM) g_ok_error++;
  else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SUCCEEDED) g_ok_success++;
  else {
    g_problems++;
    if (WIFSIGNALED(status))
      fprintf(stderr, "oom_sweep: a child (pid %d) died of signal %d (%s)%s; rerun the "
              "allocation it names above, or find it with --only\n", (int)pid, WTERMSIG(status),
              strsignal(WTERMSIG(status)), WTERMSIG(status) == SIGALRM ? ": it hung" : "");
    else if (WEXITSTATUS(status) != EXIT_PROBLEM)
      fprintf(stderr, "oom_sweep: a child (pid %d) exited with status %d (a sanitizer "
              "report above?)\n", (int)pid, WEXITSTATUS(status));
  }
}

static void cleanup_dirs(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/" CHECKPOINT, g_parent_dir);
  unlink(path);
  rmdir(g_parent_dir);
  rmdir(g_tmpdir);
}

static void read_script(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "oom_sweep: cannot open %s: %s\n", path, strerror(errno));
    exit(2);
  }
  size_t cap = 1 << 16;
  g_script = malloc(cap);
  size_t n;
  while ((n = fread(g_script + g_script_len, 1, cap - g_script_len, f)) > 0) {
    g_script_len += n;
    if (g_script_len == cap) g_script = realloc(g_script, cap *= 2);
  }
  fclose(f);
  g_script_path = path;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  /* Without address randomization the heap is laid out the same on every
   * run, so tables keyed by objects iterate in the same order, and
   * allocation N of --only is allocation N of the sweep. */
  int pers = personality(0xffffffff);
  if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE) && personality(pers | ADDR_NO_RANDOMIZE) != -1)
    execv("/proc/self/exe", argv);  /* on failure, go on as we are */
  int modes = MODE_ONCE | MODE_AFTER;
  long only = 0, every = 1;
  const char *script = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
      const char *m = argv[++i];
      modes = strcmp(m, "once") == 0 ? MODE_ONCE : strcmp(m, "after") == 0 ? MODE_AFTER
                                                   : MODE_ONCE | MODE_AFTER;
    } else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
      g_jobs = atoi(argv[++i]);
      if (g_jobs < 1) g_jobs = 1;
      if (g_jobs > 64) g_jobs = 64;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = atol(argv[++i]);
    } else if (strcmp(argv[i], "--warm") == 0) {
      g_warm = 1;
    } else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
      every = atol(argv[++i]);
      if (every < 1) every = 1;
    } else if (argv[i][0] != '-' && !script) {
      script = argv[i];
    } else {
      fprintf(stderr, "usage: oom_sweep [--mode once|after|both] [--jobs N] [--only N] "
              "[--every K] [--warm] SCRIPT\n");
      return 2;
    }
  }
  if (!script) {
    fprintf(stderr, "usage: oom_sweep [options] SCRIPT\n");
    return 2;
  }
  read_script(script);
  const char *tmp = getenv("TMPDIR");
  snprintf(g_tmpdir, sizeof g_tmpdir, "%s/lucid-oom-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(g_tmpdir)) {
    fprintf(stderr, "oom_sweep: mkdtemp: %s\n", strerror(errno));
    return 2;
  }
  snprintf(g_parent_dir, sizeof g_parent_dir, "%s/p", g_tmpdir);
  if (mkdir(g_parent_dir, 0700) != 0 || chdir(g_parent_dir) != 0) {
    fprintf(stderr, "oom_sweep: %s: %s\n", g_parent_dir, strerror(errno));
    return 2;
  }
  double t0 = now();

  /* the reference: nothing refused */
  lua_State *L = new_state();
  char *res;
  long start = g.count;
  int st = run_script(L, &res);
  if (st != LUA_OK || !res) {
    fprintf(stderr, "oom_sweep: %s fails with nothing refused: %s\n%s\n", script,
            res ? res : "(no message)", g_traceback ? g_traceback : "");
    return 1;
  }
  g_reference = res;
  g_total = g.count - start;
  lua_close(L);
  if (g.live || g.blocks) {
    fprintf(stderr, "oom_sweep: with nothing refused, %zu bytes in %ld blocks are still "
            "allocated after lua_close\n", g.live, g.blocks);
    return 1;
  }

  if (only > 0) {  /* one N, in this process, with a traceback */
    L = new_state();
    g.count = 0;
    g_child_n = only;
    g_child_mode = modes == MODE_AFTER ? MODE_AFTER : MODE_ONCE;
    g.fail_at = only;
    g.fail_mode = g_child_mode;
    g_where = L;
    st = run_script(L, &res);
    g_where = NULL;
    if (st != LUA_OK && g_traceback) printf("%s\n", g_traceback);
    int code = check_run(L, st, res, 1);
    cleanup_dirs();
    return code == EXIT_PROBLEM;
  }

  /* the sweep: the parent runs the script again without refusals, forking a
   * child at every allocation */
  L = new_state();
  g.count = 0;
  g.fork_from = 1;
  g.fork_every = every;
  g.modes = modes;
  st = run_script(L, &res);
  if (g_is_child) _exit(check_run(L, st, res, 0));  /* skip atexit (LeakSanitizer) in children */
  g.fork_from = 0;
  while (g_running > 0) reap(1);
  long swept_total = g.count;
  int same = st == LUA_OK && res && strcmp(res, g_reference) == 0;
  free(res);
  lua_close(L);
  cleanup_dirs();
  print_kinds();
  if (!same) {
    fprintf(stderr, "oom_sweep: the sweep's own run differs from the reference\n");
    g_problems++;
  }
  printf("oom_sweep: %s: %ld allocations (reference run %ld); %ld refused runs (%s%s%s), "
         "%ld ended with \"not enough memory\", %ld succeeded with the reference result, "
         "%ld problems; %.1f s\n",
         script, swept_total, g_total, g_forked, modes & MODE_ONCE ? "once" : "",
         modes == (MODE_ONCE | MODE_AFTER) ? " and " : "", modes & MODE_AFTER ? "after" : "",
         g_ok_error, g_ok_success, g_problems, now() - t0);
  free(g_reference);
  free(g_script);
  free(g_traceback);
  return g_problems ? 1 : 0;
}
