/* test_repl.c: drives the `lucid` command (lua/lucid_repl.c) the way a
 * person does, through a pseudo-terminal, and checks what it prints.
 *
 *   build/tests/test_repl build/bin/lucid
 *
 * The interactive session runs under forkpty with HOME set to a fresh
 * temporary directory, TERM=dumb and INPUTRC=/dev/null (no user or system
 * readline settings). What the program writes goes through a tiny terminal
 * model (carriage return, backspace, erase-line, ANSI sequences skipped), so
 * the checks read the lines as they would appear on screen, whatever
 * readline does to redraw them. Every wait has a deadline: a hang is a
 * failure, never a blocked `make`. The non-interactive modes (-e, a script
 * with arguments, stdin, -v) run on pipes. Exit status 1 on any failure,
 * with what was expected and what the program printed. */
#define _DEFAULT_SOURCE  /* forkpty, mkdtemp, kill */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 10000  /* per expectation; generous for a loaded machine */
#define LINE_MAX_LEN 4096

static const char *lucid;  /* the program under test */
static char tmpdir[256];
static int checks, failures;

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "test_repl: FAIL: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failures++;
}

/* s with newlines and tabs written as \n and \t, for messages. */
static const char *escaped(const char *s) {
  static char buf[1024];
  size_t n = 0;
  for (; *s && n < sizeof buf - 3; s++) {
    if (*s == '\n' || *s == '\t') {
      buf[n++] = '\\';
      buf[n++] = *s == '\n' ? 'n' : 't';
    } else {
      buf[n++] = *s;
    }
  }
  buf[n] = '\0';
  return buf;
}

/* ---- a terminal, reduced to what readline on TERM=dumb can do ------------------------ */

typedef struct screen {
  char **lines;  /* finished lines (a newline was written), trailing blanks trimmed */
  int nlines, cap;
  char cur[LINE_MAX_LEN];  /* the line the cursor is on */
  int curlen, col;
  int state;  /* 0 text, 1 after ESC, 2 in CSI, 3 in OSC */
  int param;  /* CSI numeric parameter */
} screen;

static void screen_commit(screen *s) {
  int n = s->curlen;
  while (n > 0 && (s->cur[n - 1] == ' ' || s->cur[n - 1] == '\t')) n--;
  if (s->nlines == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 64;
    s->lines = realloc(s->lines, (size_t)s->cap * sizeof *s->lines);
    if (!s->lines) abort();
  }
  char *l = malloc((size_t)n + 1);
  if (!l) abort();
  memcpy(l, s->cur, (size_t)n);
  l[n] = '\0';
  s->lines[s->nlines++] = l;
  s->curlen = s->col = 0;
}

static void screen_put(screen *s, char c) {
  if (s->col >= LINE_MAX_LEN - 1) return;
  while (s->curlen < s->col) s->cur[s->curlen++] = ' ';
  s->cur[s->col++] = c;
  if (s->col > s->curlen) s->curlen = s->col;
}

static void screen_feed(screen *s, const char *buf, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)buf[i];
    switch (s->state) {
      case 1:  /* after ESC */
        s->state = c == '[' ? 2 : c == ']' ? 3 : 0;
        s->param = 0;
        continue;
      case 2:  /* CSI: parameters, then a final byte */
        if (c >= '0' && c <= '9') { s->param = s->param * 10 + (c - '0'); continue; }
        if (c < 0x40 || c > 0x7e) continue;
        s->state = 0;
        if (c == 'K') s->curlen = s->col < s->curlen ? s->col : s->curlen;   /* erase to end */
        if (c == 'C') s->col += s->param ? s->param : 1;                     /* cursor right */
        if (c == 'D') s->col -= s->param ? s->param : 1;                     /* cursor left */
        if (s->col < 0) s->col = 0;
        continue;
      case 3:  /* OSC: up to BEL or ESC */
        if (c == 7) s->state = 0;
        if (c == 27) s->state = 1;
        continue;
    }
    if (c == 27) s->state = 1;
    else if (c == '\r') s->col = 0;
    else if (c == '\n') screen_commit(s);
    else if (c == '\b') { if (s->col > 0) s->col--; }
    else if (c >= 0x20 || c == '\t') screen_put(s, (char)c);
  }
}

static void screen_free(screen *s) {
  for (int i = 0; i < s->nlines; i++) free(s->lines[i]);
  free(s->lines);
  memset(s, 0, sizeof *s);
}

/* The current line without trailing blanks. */
static void screen_current(const screen *s, char *out) {
  int n = s->curlen;
  while (n > 0 && s->cur[n - 1] == ' ') n--;
  memcpy(out, s->cur, (size_t)n);
  out[n] = '\0';
}

/* ---- the interactive session ------------------------------------------------------------ */

typedef struct session {
  pid_t pid;
  int fd;        /* the pty's master side */
  screen scr;
  int mark;      /* lines before this one were matched already */
  int exited, status;
} session;

/* Reads what is there, waiting at most ms. Returns 0 at end of output. */
static int pump(session *s, long ms) {
  struct pollfd p = {s->fd, POLLIN, 0};
  int r = poll(&p, 1, (int)ms);
  if (r <= 0) return 1;
  char buf[4096];
  ssize_t n = read(s->fd, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR;  /* EIO: the child closed the terminal */
  screen_feed(&s->scr, buf, (size_t)n);
  return 1;
}

static void send_keys(session *s, const char *keys) {
  size_t n = strlen(keys), off = 0;
  while (off < n) {
    ssize_t w = write(s->fd, keys + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* What the session printed since the last match, for failure messages. */
static void dump(const session *s) {
  fprintf(stderr, "  the program printed (since the last match):\n");
  for (int i = s->mark; i < s->scr.nlines; i++) fprintf(stderr, "    | %s\n", s->scr.lines[i]);
  char cur[LINE_MAX_LEN];
  screen_current(&s->scr, cur);
  fprintf(stderr, "    | %s   <- cursor line\n", cur);
}

enum { EXACT, CONTAINS };

/* Waits for a finished line (at or after the mark) equal to / containing
 * want; moves the mark past it. */
static int expect_line(session *s, const char *want, int how, const char *what) {
  long deadline = now_ms() + TIMEOUT_MS;
  int seen = s->mark;
  checks++;
  for (;;) {
    for (; seen < s->scr.nlines; seen++) {
      const char *l = s->scr.lines[seen];
      if (how == EXACT ? strcmp(l, want) == 0 : strstr(l, want) != NULL) {
        s->mark = seen + 1;
        return 1;
      }
    }
    long left = deadline - now_ms();
    if (left <= 0 || !pump(s, left > 100 ? 100 : left)) break;
  }
  fail("%s: expected a line %s \"%s\"", what, how == EXACT ? "equal to" : "containing",
       escaped(want));
  dump(s);
  return 0;
}

/* Waits until the cursor line reads `want` (a prompt, or typed text). */
static int expect_cursor_line(session *s, const char *want, const char *what) {
  long deadline = now_ms() + TIMEOUT_MS;
  char cur[LINE_MAX_LEN], w[LINE_MAX_LEN];
  snprintf(w, sizeof w, "%s", want);
  size_t n = strlen(w);
  while (n > 0 && w[n - 1] == ' ') w[--n] = '\0';
  checks++;
  for (;;) {
    screen_current(&s->scr, cur);
    if (strcmp(cur, w) == 0) return 1;
    long left = deadline - now_ms();
    if (left <= 0 || !pump(s, left > 100 ? 100 : left)) break;
  }
  fail("%s: expected the cursor line \"%s\"", what, want);
  dump(s);
  return 0;
}

/* No finished line since the mark contains `bad`. */
static int refute_since(session *s, int from, const char *bad, const char *what) {
  checks++;
  for (int i = from; i < s->scr.nlines; i++) {
    if (strstr(s->scr.lines[i], bad)) {
      fail("%s: a line contains \"%s\": \"%s\"", what, bad, s->scr.lines[i]);
      return 0;
    }
  }
  return 1;
}

/* Waits for the child to exit (reading its last output); 0 on timeout. */
static int wait_exit(session *s, long ms) {
  long deadline = now_ms() + ms;
  while (now_ms() < deadline) {
    pid_t r = waitpid(s->pid, &s->status, WNOHANG);
    if (r == s->pid) {
      s->exited = 1;
      while (pump(s, 0) && now_ms() < deadline) {}
      return 1;
    }
    pump(s, 50);
  }
  return 0;
}

static int start(session *s, const char *home) {
  memset(s, 0, sizeof *s);
  struct winsize ws = {24, 200, 0, 0};  /* wide: readline never scrolls our lines */
  s->pid = forkpty(&s->fd, NULL, NULL, &ws);
  if (s->pid < 0) {
    fail("forkpty: %s", strerror(errno));
    return 0;
  }
  if (s->pid == 0) {
    setenv("HOME", home, 1);
    setenv("TERM", "dumb", 1);
    setenv("INPUTRC", "/dev/null", 1);
    unsetenv("LUA_INIT");
    unsetenv("LUA_INIT_5_4");
    execl(lucid, lucid, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", lucid, strerror(errno));
    _exit(127);
  }
  return 1;
}

static void stop(session *s) {
  if (!s->exited && s->pid > 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &s->status, 0);
  }
  close(s->fd);
  screen_free(&s->scr);
}

/* Types a line at the prompt "> " and waits for the line `want` it prints. */
static int eval(session *s, const char *input, const char *want, int how) {
  char keys[1024];
  if (!expect_cursor_line(s, "> ", input)) return 0;
  snprintf(keys, sizeof keys, "%s\n", input);
  send_keys(s, keys);
  return expect_line(s, want, how, input);
}

static int file_contains(const char *path, const char *text) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, text) != NULL;
}

/* The main session: every feature once, in one process (state carries over). */
static void interactive(void) {
  session s;
  if (!start(&s, tmpdir)) return;
  int ok = expect_cursor_line(&s, "> ", "the first prompt");
  ok = ok && eval(&s, "1 + 1", "2", EXACT);
  ok = ok && eval(&s, "lucid.tensor({{1, 2}})", "Tensor([[1., 2.]])", EXACT);
  ok = ok && eval(&s, "nn.Linear(2, 3)", "Linear(in_features=2, out_features=3, bias=true)", EXACT);
  ok = ok && eval(&s, "2, 'two', {1, 2, 3}", "2\ttwo\t{1, 2, 3}", EXACT);

  /* an error: the message, no traceback of C frames */
  int from = s.mark;
  ok = ok && eval(&s, "lucid.zeros(2, 3) + lucid.zeros(4)", "do not broadcast", CONTAINS);
  ok = ok && expect_cursor_line(&s, "> ", "the prompt after an error");
  if (ok) {
    refute_since(&s, from, "stack traceback", "the error's report");
    refute_since(&s, from, "[C]", "the error's report");
  }

  /* Tab completes: lucid.ze -> lucid.zero (zero_grad, zeros, zeros_like), a
   * second Tab lists them, then "s(2)" makes it lucid.zeros(2) */
  if (ok && (ok = expect_cursor_line(&s, "> ", "completion"))) {
    send_keys(&s, "lucid.ze\t");
    ok = expect_cursor_line(&s, "> lucid.zero", "Tab after lucid.ze");
    send_keys(&s, "\t");
    ok = ok && expect_line(&s, "lucid.zeros_like", CONTAINS, "a second Tab lists the choices");
    ok = ok && expect_cursor_line(&s, "> lucid.zero", "the line after the list");
    send_keys(&s, "s(2)\n");
    ok = ok && expect_line(&s, "Tensor([0., 0.])", EXACT, "lucid.zeros(2) after completion");
  }
  /* methods after ':' and fields after '.' of a tensor */
  ok = ok && eval(&s, "x = lucid.ones(2, 3)", "> x = lucid.ones(2, 3)", EXACT);
  if (ok && (ok = expect_cursor_line(&s, "> ", "method completion"))) {
    send_keys(&s, "x:resh\t");
    ok = expect_cursor_line(&s, "> x:reshape", "Tab after x:resh");
    send_keys(&s, "(3, 2).sha\t");
    ok = ok && expect_cursor_line(&s, "> x:reshape(3, 2).sha", "no completion after a call");
    send_keys(&s, "\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\bx.sha\t");
    ok = ok && expect_cursor_line(&s, "> x.shape", "Tab after x.sha");
    send_keys(&s, "\n");
    ok = ok && expect_line(&s, "{2, 3}", EXACT, "x.shape");
  }
  ok = ok && eval(&s, "help(lucid.tanh)", "hyperbolic tangent", CONTAINS);

  /* a statement over three lines */
  if (ok && (ok = expect_cursor_line(&s, "> ", "for loop"))) {
    send_keys(&s, "for i = 1, 2 do\n");
    ok = expect_cursor_line(&s, ">> ", "the continuation prompt");
    send_keys(&s, "print(i)\n");
    ok = ok && expect_cursor_line(&s, ">> ", "the second continuation prompt");
    send_keys(&s, "end\n");
    ok = ok && expect_line(&s, "1", EXACT, "the loop's first line");
    ok = ok && expect_line(&s, "2", EXACT, "the loop's second line");
  }

  /* Ctrl-C stops a running loop; the state survives */
  ok = ok && eval(&s, "x = 7 n = 0 print('spinning') while true do n = n + 1 end", "spinning", EXACT);
  if (ok) {
    sleep_ms(200);
    send_keys(&s, "\x03");
    ok = expect_line(&s, "interrupted!", CONTAINS, "Ctrl-C during a loop");
  }
  ok = ok && eval(&s, "x * 6", "42", EXACT);
  ok = ok && eval(&s, "n > 0", "true", EXACT);

  /* Ctrl-C at the prompt drops the line typed so far */
  if (ok && (ok = expect_cursor_line(&s, "> ", "Ctrl-C at the prompt"))) {
    send_keys(&s, "abc");
    ok = expect_cursor_line(&s, "> abc", "typing abc");
    send_keys(&s, "\x03");
    ok = ok && expect_line(&s, "> abc", EXACT, "the abandoned line");
    ok = ok && eval(&s, "2 + 2", "4", EXACT);
  }

  /* Ctrl-D at an empty prompt exits with status 0 */
  if (ok && (ok = expect_cursor_line(&s, "> ", "Ctrl-D"))) {
    send_keys(&s, "\x04");
    checks++;
    if (!wait_exit(&s, TIMEOUT_MS)) {
      fail("Ctrl-D: the program did not exit");
      dump(&s);
    } else if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) {
      fail("Ctrl-D: exit status %d, expected 0", WIFEXITED(s.status) ? WEXITSTATUS(s.status) : -1);
    }
  }
  stop(&s);

  char hist[512];
  snprintf(hist, sizeof hist, "%s/.lucid_history", tmpdir);
  checks++;
  if (ok && !file_contains(hist, "lucid.tensor({{1, 2}})"))
    fail("history: %s does not hold the lines typed", hist);
}

/* HOME where nothing can be written: the REPL works all the same. */
static void unwritable_home(void) {
  session s;
  char home[512];
  snprintf(home, sizeof home, "%s/missing/dir", tmpdir);
  if (!start(&s, home)) return;
  int ok = eval(&s, "1 + 1", "2", EXACT);
  if (ok && expect_cursor_line(&s, "> ", "Ctrl-D (unwritable HOME)")) {
    send_keys(&s, "\x04");
    checks++;
    if (!wait_exit(&s, TIMEOUT_MS) || !WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0)
      fail("unwritable HOME: the session did not end cleanly with Ctrl-D");
  }
  stop(&s);
}

/* ---- the other modes, on pipes -------------------------------------------------------- */

/* Runs lucid with args (NULL-terminated) and `input` on stdin; collects
 * stdout and stderr together. Returns the exit status, -1 on timeout. */
static int run(char *const args[], const char *input, char *out, size_t outsize) {
  int in[2], res[2];
  if (pipe(in) != 0 || pipe(res) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(res[1], 1);
    dup2(res[1], 2);
    close(in[1]);
    close(res[0]);
    setenv("HOME", tmpdir, 1);
    unsetenv("LUA_INIT");
    unsetenv("LUA_INIT_5_4");
    char *argv[16] = {(char *)lucid};
    for (int i = 0; args[i] && i < 14; i++) argv[i + 1] = args[i];
    execv(lucid, argv);
    _exit(127);
  }
  close(in[0]);
  close(res[1]);
  if (input) {
    ssize_t w = write(in[1], input, strlen(input));
    (void)w;
  }
  close(in[1]);
  size_t len = 0;
  long deadline = now_ms() + TIMEOUT_MS;
  int timed_out = 0;
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) { timed_out = 1; break; }
    struct pollfd p = {res[0], POLLIN, 0};
    if (poll(&p, 1, (int)left) <= 0) continue;
    char buf[4096];
    ssize_t n = read(res[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t take = (size_t)n < outsize - 1 - len ? (size_t)n : outsize - 1 - len;
    memcpy(out + len, buf, take);
    len += take;
  }
  out[len] = '\0';
  close(res[0]);
  int status;
  if (timed_out) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  if (timed_out) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_run(const char *what, char *const args[], const char *input, int want_status,
                      const char *want, const char *bad) {
  char out[65536];
  int status = run(args, input, out, sizeof out);
  checks++;
  if (status != want_status || !strstr(out, want) || (bad && strstr(out, bad))) {
    fail("%s: expected exit status %d and output containing \"%s\"%s%s%s", what, want_status,
         escaped(want), bad ? " and not \"" : "", bad ? bad : "", bad ? "\"" : "");
    fprintf(stderr, "  got exit status %d and output:\n", status);
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) fprintf(stderr, "    | %s\n", l);
  }
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) fail("cannot write %s", path);
}

static void batch_modes(void) {
  char script[512], bad[512];
  snprintf(script, sizeof script, "%s/script.lua", tmpdir);
  snprintf(bad, sizeof bad, "%s/bad.lua", tmpdir);
  write_file(script, "print(#arg, arg[1], arg[2], arg[0]:match('script%.lua$'))\n"
                     "print(lucid.ones(2) * 3)\n"
                     "print(nn.Tanh())\n");
  write_file(bad, "local a = lucid.zeros(2, 3)\n"
                  "local b = a + lucid.zeros(4)\n");

  char *e[] = {"-e", "print(lucid.ones(2))", NULL};
  check_run("lucid -e", e, NULL, 0, "Tensor([1., 1.])\n", NULL);
  char *sc[] = {script, "a", "b", NULL};
  check_run("lucid script.lua a b", sc, NULL, 0, "2\ta\tb\tscript.lua\nTensor([3., 3.])\nTanh()\n",
            NULL);
  char *bd[] = {bad, NULL};
  check_run("a failing script", bd, NULL, 1, "do not broadcast", "[C]");
  char *bd2[] = {bad, NULL};
  check_run("a failing script's traceback", bd2, NULL, 1, "bad.lua:2: in main chunk", NULL);
  char *in[] = {"-", NULL};
  check_run("lucid - (stdin)", in, "print(1 + 1, lucid.zeros(1))\n", 0, "2\tTensor([0.])\n", NULL);
  char *v[] = {"-v", NULL};
  check_run("lucid -v", v, NULL, 0, "Lucid for Lua", NULL);
  char *opt[] = {"-e", "print(type(rawget(_G, 'help')), type(optim))", NULL};
  check_run("the globals help and optim", opt, NULL, 0, "function\ttable", NULL);
  char *badopt[] = {"-x", NULL};
  check_run("an unknown option", badopt, NULL, 1, "usage:", NULL);
  remove(script);
  remove(bad);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s path/to/lucid\n", argv[0]);
    return 2;
  }
  lucid = argv[1];
  if (access(lucid, X_OK) != 0) {
    fprintf(stderr, "test_repl: %s is not an executable (build it with make)\n", lucid);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  snprintf(tmpdir, sizeof tmpdir, "%s/lucid_repl_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  interactive();
  unwritable_home();
  batch_modes();

  char hist[512];
  snprintf(hist, sizeof hist, "%s/.lucid_history", tmpdir);
  remove(hist);
  rmdir(tmpdir);
  if (failures) {
    fprintf(stderr, "test_repl: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("test_repl: %d checks passed\n", checks);
  return 0;
}
