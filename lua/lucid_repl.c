/* lucid_repl.c: the `lucid` command. A Lua 5.4 interpreter with the library
 * preloaded, and an interactive REPL.
 *
 * It is Lua's own stand-alone interpreter (lua.c) in structure and options:
 *
 *   lucid                    the REPL (stdin a terminal), else runs stdin
 *   lucid script.lua a b     runs a script; arg = {[0] = "script.lua", "a", "b"}
 *   lucid -e 'code' -i -l m -v -E -W -- -     as lua5.4 (LUA_INIT too)
 *
 * What it adds: lucid.core is linked in (registered in package.preload, so
 * only the Lua half of the library comes from LUA_PATH or the installed
 * share/lua/5.4); the globals `lucid`, `nn`, `optim` (loaded on first use)
 * and `help` exist in every mode; and the REPL is one worth living in:
 * readline editing and history (~/.lucid_history), completion of globals,
 * fields and methods, results printed without `=` (tensors and modules
 * through their tostring), errors as the message plus a traceback of the
 * user's own Lua frames only (never the C ones), Ctrl-C that stops a running
 * loop and keeps the state, or clears the line at the prompt; Ctrl-D exits.
 *
 * The split: this file reads lines, compiles and runs them (lua.c's
 * "return <line>" first, then continuation lines while the parser reports
 * "<eof>"), and owns the signals and the terminal. lua/lucid/repl.lua formats
 * results, completes names and answers help(); lua/lucid/help.lua holds the
 * texts. Without repl.lua (an old install) the REPL still works, plainly.
 *
 * Ctrl-C follows lua.c: while Lua runs, the SIGINT handler only sets a hook
 * (a signal handler cannot touch a Lua state otherwise); the hook raises the
 * error "interrupted!" at the next Lua instruction, which unwinds to the
 * prompt like any error. C kernels are short, so the hook comes soon; a
 * second Ctrl-C before it does kills the process, the way out of a C call
 * that never returns. At the prompt, readline runs through its callback
 * interface so that Ctrl-C can abandon the line without killing anything. */
#define _DEFAULT_SOURCE  /* sigaction, poll, getline, readlink, strdup */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lucid.h"  /* luaopen_lucid_core, lucid_preload: liblucid.a */

#define PROGNAME "lucid"
#define PROMPT1 "> "
#define PROMPT2 ">> "
#define HISTORY_FILE ".lucid_history"
#define HISTORY_MAX 1000
#define TRACE_MAX 12  /* user frames shown in a traceback */
#define EOFMARK "<eof>"

static const char *progname = PROGNAME;
static lua_State *globalL = NULL;     /* the state the hook and completion use */
static int repl_ref = LUA_NOREF;      /* registry reference to lucid.repl's table */
static int in_repl = 0;               /* errors of "=stdin" main chunks skip that frame */
static char libsrc[PATH_MAX + 2];     /* "@<dir>/": chunks of the library, hidden in tracebacks */

/* ---- signals --------------------------------------------------------------------- */

/* What SIGINT does when no Lua code runs: the default (exit) for scripts, a
 * flag for the REPL, which must survive a Ctrl-C at any moment. */
static void (*idle_action)(int) = SIG_DFL;
static volatile sig_atomic_t got_sigint = 0;
static volatile sig_atomic_t got_sigwinch = 0;

static void setsignal(int sig, void (*handler)(int)) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;  /* no SA_RESTART: a read at the prompt returns EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static void note_sigint(int sig) {
  (void)sig;
  got_sigint = 1;
}

static void note_sigwinch(int sig) {
  (void)sig;
  got_sigwinch = 1;
}

/* The hook the signal sets: it runs inside Lua, where raising is safe. */
static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);  /* reset hook */
  luaL_error(L, "interrupted!");
}

/* A C signal cannot change a Lua state safely; it only sets a hook that
 * will stop the interpreter at its next step. */
static void laction(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  setsignal(sig, SIG_DFL);  /* if another SIGINT comes first, terminate */
  lua_sethook(globalL, lstop, flag, 1);
}

/* ---- messages and tracebacks --------------------------------------------------- */

static void l_message(const char *pname, const char *msg) {
  if (pname) lua_writestringerror("%s: ", pname);
  lua_writestringerror("%s\n", msg);
}

/* Prints the message on top if status is an error (a string: msghandler
 * made it one), and pops it. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    l_message(progname, msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/* Frames that are not the user's: C functions and the library's Lua files. */
static int hidden_frame(const lua_Debug *ar) {
  if (ar->currentline <= 0 || *ar->what == 'C') return 1;
  if (libsrc[0] && strncmp(ar->source, libsrc, strlen(libsrc)) == 0) return 1;
  if (strncmp(ar->source, "@[lucid]/", 9) == 0) return 1;  /* sources embedded in a host */
  /* in the REPL, the main chunk is the line just typed */
  return in_repl && *ar->what == 'm' && strcmp(ar->source, "=stdin") == 0;
}

/* The name of the global holding the function at idx, pushed; or nothing
 * (returns 0). A call at the prompt is a tail call ("return f()"), which
 * leaves Lua no name for it. */
static int push_global_name(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "_G");
  lua_remove(L, -2);  /* the globals only */
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, idx)) {
      lua_pop(L, 1);       /* the value */
      lua_remove(L, -2);   /* the table: the key stays */
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* Pushes "\n\t<src>:<line>: in <what>" for the frame whose function is on top. */
static void push_frame(lua_State *L, const lua_Debug *ar) {
  if (*ar->what == 'm')
    lua_pushliteral(L, "main chunk");
  else if (ar->name && *ar->namewhat)
    lua_pushfstring(L, "%s '%s'", strcmp(ar->namewhat, "method") == 0 ? "method" : "function",
                    ar->name);
  else if (push_global_name(L, -1))
    lua_pushfstring(L, "function '%s'", lua_tostring(L, -1)), lua_remove(L, -2);
  else
    lua_pushfstring(L, "function <%s:%d>", ar->short_src, ar->linedefined);
  lua_pushfstring(L, "\n\t%s:%d: in %s", ar->short_src, ar->currentline, lua_tostring(L, -1));
  lua_remove(L, -2);
}

/* Message handler of every chunk: the message, then the user's Lua frames
 * (at most TRACE_MAX), none of C or of the library. An error raised at the
 * prompt's top level is thus just its message. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {  /* error object is not a string */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  lua_pushstring(L, msg);  /* the text so far, kept on top */
  lua_Debug ar;
  int shown = 0, more = 0;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Slntf", &ar);  /* pushes the function */
    if (hidden_frame(&ar)) {
      lua_pop(L, 1);
    } else if (shown == TRACE_MAX) {
      more++;
      lua_pop(L, 1);
    } else {
      push_frame(L, &ar);
      lua_remove(L, -2);  /* the function */
      if (shown++ == 0) {
        lua_pushliteral(L, "\nstack traceback:");
        lua_insert(L, -2);
        lua_concat(L, 3);
      } else {
        lua_concat(L, 2);
      }
    }
  }
  if (more) {
    lua_pushfstring(L, "\n\t(... %d more)", more);
    lua_concat(L, 2);
  }
  return 1;
}

/* lua_pcall with the message handler and the interrupt: Ctrl-C stops the
 * call with "interrupted!" (see laction). */
static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;  /* function index */
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);              /* put it under function and args */
  globalL = L;
  setsignal(SIGINT, laction);
  int status = lua_pcall(L, narg, nres, base);
  setsignal(SIGINT, idle_action);
  if (lua_gethook(L) == lstop) lua_sethook(L, NULL, 0, 0);  /* came as the call ended */
  lua_remove(L, base);              /* remove message handler */
  return status;
}

static void print_line(const char *s) {
  lua_writestring(s, strlen(s));
  lua_writeline();
}

static void print_version(void) {
  print_line("Lucid for Lua  (" LUA_COPYRIGHT ")");
}

static void print_usage(const char *badoption) {
  lua_writestringerror("%s: ", progname);
  if (badoption[1] == 'e' || badoption[1] == 'l')
    lua_writestringerror("'%s' needs argument\n", badoption);
  else
    lua_writestringerror("unrecognized option '%s'\n", badoption);
  lua_writestringerror(
      "usage: %s [options] [script [args]]\n"
      "Available options are:\n"
      "  -e stat   execute string 'stat'\n"
      "  -i        enter interactive mode after executing 'script'\n"
      "  -l name   require library 'name' into global 'name'\n"
      "  -v        show version information\n"
      "  -E        ignore environment variables\n"
      "  -W        turn warnings on\n"
      "  --        stop handling options\n"
      "  -         stop handling options and execute stdin\n"
      "With no arguments and a terminal, an interactive session (help() for help).\n",
      progname);
}

/* ---- running chunks --------------------------------------------------------------- */

/* arg: argv[script] at index 0, its arguments at 1.., what came before at
 * negative indices (as lua.c). */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;  /* no script name? */
  int narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dofile(lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* require(name) into global name (option -l). */
static int dolibrary(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, name);
  return report(L, status);
}

static int pushargs(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  int i;
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);  /* remove table from the stack */
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;  /* stdin */
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

/* ---- the library ------------------------------------------------------------------- */

/* Adds to package.path the Lua directories of the library found near this
 * program: <prefix>/share/lua/5.4 for an installed <prefix>/bin/lucid, and a
 * checkout's lua/ for build/lucid or build/bin/lucid. Returns how many. */
static int add_program_paths(lua_State *L) {
  char dir[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
  if (n <= 0) return 0;
  dir[n] = '\0';
  static const char *const subdirs[] = {
      "share/lua/" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR, "lua", NULL};
  int added = 0;
  for (int up = 0; up < 3; up++) {  /* the program's directory, its parent, and grandparent */
    char *slash = strrchr(dir, '/');
    if (!slash) break;
    *slash = '\0';
    for (int i = 0; subdirs[i]; i++) {
      char probe[PATH_MAX + 64];
      snprintf(probe, sizeof probe, "%s/%s/lucid/init.lua", dir, subdirs[i]);
      if (access(probe, R_OK) != 0) continue;
      lua_getglobal(L, "package");
      lua_getfield(L, -1, "path");
      lua_pushfstring(L, ";%s/%s/?.lua;%s/%s/?/init.lua", dir, subdirs[i], dir, subdirs[i]);
      lua_concat(L, 2);
      lua_setfield(L, -2, "path");  /* package.path = package.path .. ";<dir>/?.lua;..." */
      lua_pop(L, 1);
      added++;
    }
  }
  return added;
}

static int require_name(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  return docall(L, 1, 1);  /* the module, or the message */
}

/* The first line of the message on top (require's "not found" lists every path). */
static void first_line(lua_State *L, char *buf, size_t size) {
  const char *msg = lua_tostring(L, -1);
  snprintf(buf, size, "%s", msg ? msg : "?");
  buf[strcspn(buf, "\n")] = '\0';
  size_t n = strlen(buf);
  if (n > 0 && buf[n - 1] == ':') buf[n - 1] = '\0';
}

static int not_found(lua_State *L, int status) {
  const char *msg = lua_tostring(L, -1);
  return status != LUA_OK && msg && strstr(msg, "module 'lucid' not found");
}

/* require "lucid" into the globals lucid and nn, then "lucid.repl", whose
 * setup() sets the others (optim, help) and tells which chunks are the
 * library's. The Lua files are looked for on LUA_PATH (and Lua's default
 * path, where `make install` puts them), then next to this program, and
 * last in the copy embedded in liblucid.a (lucid_preload): files on disk
 * win, so an edited checkout is what runs. A failure is reported, not
 * fatal: the interpreter still runs plain Lua. */
static void load_lucid(lua_State *L) {
  char line[512];
  int status = require_name(L, "lucid");
  if (not_found(L, status) && add_program_paths(L)) {
    lua_pop(L, 1);
    status = require_name(L, "lucid");
  }
  if (not_found(L, status)) {
    lua_pop(L, 1);
    lucid_preload(L);
    status = require_name(L, "lucid");
  }
  if (status != LUA_OK) {
    const char *path = getenv("LUA_PATH_5_4");
    if (!path) path = getenv("LUA_PATH");
    first_line(L, line, sizeof line);
    fprintf(stderr, "%s: cannot load the Lucid library: %s\n", PROGNAME, line);
    fprintf(stderr,
            "%s: require \"lucid\" searches LUA_PATH (now %s%s%s); set it to include "
            "<dir>/?.lua;<dir>/?/init.lua where <dir>/lucid/init.lua is (a checkout's lua/ "
            "directory), or run `make install`\n",
            PROGNAME, path ? "\"" : "", path ? path : "unset", path ? "\"" : "");
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "nn");
  lua_setglobal(L, "nn");     /* nn = lucid.nn */
  lua_setglobal(L, "lucid");  /* lucid = require "lucid" */
  if (require_name(L, "lucid.repl") != LUA_OK) {
    first_line(L, line, sizeof line);
    fprintf(stderr, "%s: lucid.repl did not load (%s); plain REPL\n", PROGNAME, line);
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "setup");
  if (docall(L, 0, 1) != LUA_OK) {  /* setup() -> the library's chunk prefix */
    first_line(L, line, sizeof line);
    fprintf(stderr, "%s: lucid.repl.setup failed: %s\n", PROGNAME, line);
    lua_pop(L, 2);
    return;
  }
  if (lua_type(L, -1) == LUA_TSTRING) snprintf(libsrc, sizeof libsrc, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* keeps the lucid.repl table */
}

/* Pushes field `name` of lucid.repl; returns 0 (pushing nothing) if absent. */
static int push_repl_fn(lua_State *L, const char *name) {
  if (repl_ref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (lua_isfunction(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

/* ---- reading lines --------------------------------------------------------------- */

static int use_readline = 0;
static char history_path[PATH_MAX];
static int history_ok = 0;  /* the file can be written */

static void history_open(void) {
  const char *home = getenv("HOME");
  if (!home || !*home) return;
  if ((size_t)snprintf(history_path, sizeof history_path, "%s/%s", home, HISTORY_FILE) >=
      sizeof history_path)
    return;
  stifle_history(HISTORY_MAX);
  int e = read_history(history_path);
  if (e == ENOENT) e = write_history(history_path);  /* create it */
  history_ok = (e == 0);
}

/* Keeps a line in the history, and in the file; never fails. */
static void history_save(const char *line) {
  if (!use_readline || !*line) return;
  add_history(line);
  if (history_ok && append_history(1, history_path) != 0) history_ok = 0;  /* stop trying */
}

static void history_close(void) {
  if (history_ok) history_truncate_file(history_path, HISTORY_MAX);
}

/* readline through its callback interface, so that a Ctrl-C can abandon the
 * line (as readline's manual and Python's readline module do it). */
static char *rl_line;
static int rl_line_done;

static void on_line(char *line) {
  rl_line = line;
  rl_line_done = 1;
  rl_callback_handler_remove();  /* no new prompt until asked */
}

/* Readline calls this when a read of its own was interrupted. In callback
 * mode it has (almost) no nested reads, but should one be waiting when
 * Ctrl-C comes, leave it as Ctrl-G does, back to read_tty's loop, which then
 * drops the line. */
static int on_signal_event(void) {
  if (got_sigint) rl_abort(0, 0);  /* longjmps to rl_callback_read_char's top level */
  return 0;
}

static int read_tty(const char *prompt, char **line) {
  int status = 1;
  rl_line = NULL;
  rl_line_done = 0;
  setsignal(SIGWINCH, note_sigwinch);
  rl_callback_handler_install(prompt, on_line);
  while (!rl_line_done) {
    if (got_sigint) {  /* Ctrl-C: forget the line, leave the terminal as it was */
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_cleanup_after_signal();
      rl_callback_handler_remove();
      status = -1;
      break;
    }
    if (got_sigwinch) {
      got_sigwinch = 0;
      rl_resize_terminal();
    }
    struct pollfd p = {fileno(rl_instream ? rl_instream : stdin), POLLIN, 0};
    int r = poll(&p, 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      rl_callback_handler_remove();
      status = 0;
      break;
    }
    if (p.revents & POLLNVAL) {
      rl_callback_handler_remove();
      status = 0;
      break;
    }
    rl_callback_read_char();  /* may call on_line */
  }
  setsignal(SIGWINCH, SIG_DFL);
  if (rl_line_done) {
    if (rl_line == NULL) return 0;  /* Ctrl-D on an empty line */
    *line = rl_line;
  }
  return status;
}

static int read_plain(const char *prompt, char **line) {
  fputs(prompt, stdout);
  fflush(stdout);
  char *b = NULL;
  size_t cap = 0;
  if (getline(&b, &cap, stdin) < 0) {
    free(b);
    if (got_sigint) {
      clearerr(stdin);
      return -1;
    }
    return 0;
  }
  *line = b;
  return 1;
}

/* 1: *line is a new malloc'd line; 0: end of input; -1: Ctrl-C. */
static int read_line(const char *prompt, char **line) {
  got_sigint = 0;
  int status = use_readline ? read_tty(prompt, line) : read_plain(prompt, line);
  if (status < 0) {
    lua_writeline();  /* the abandoned line stays on screen; a new prompt follows */
    got_sigint = 0;
  }
  return status;
}

/* ---- completion -------------------------------------------------------------------- */

static char **cands;
static int ncands, icand;

static char *next_cand(const char *text, int state) {
  (void)text;
  (void)state;
  return icand < ncands ? cands[icand++] : NULL;  /* readline frees it */
}

/* The candidates come from lucid.repl.complete(text, line, start): full
 * replacements for `text` (say "lucid.zeros" for "lucid.ze"). */
static char **complete(const char *text, int start, int end) {
  lua_State *L = globalL;
  (void)end;
  rl_attempted_completion_over = 1;      /* never file names */
  rl_completion_append_character = '\0';
  while (icand < ncands) free(cands[icand++]);  /* left from an earlier round */
  free(cands);
  cands = NULL;
  ncands = icand = 0;
  int top = lua_gettop(L);
  if (push_repl_fn(L, "complete")) {
    lua_pushstring(L, text);
    lua_pushstring(L, rl_line_buffer);
    lua_pushinteger(L, start);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK && lua_istable(L, -1)) {
      int n = (int)lua_rawlen(L, -1);
      cands = n > 0 ? (char **)malloc((size_t)n * sizeof *cands) : NULL;
      for (int i = 1; cands && i <= n; i++) {
        if (lua_rawgeti(L, -1, i) == LUA_TSTRING) {
          char *s = strdup(lua_tostring(L, -1));
          if (s) cands[ncands++] = s;
        }
        lua_pop(L, 1);
      }
    }
  }
  lua_settop(L, top);
  if (ncands == 0) return NULL;
  return rl_completion_matches(text, next_cand);
}

static void readline_init(void) {
  rl_readline_name = PROGNAME;  /* for $if lucid in ~/.inputrc */
  rl_catch_signals = 0;         /* SIGINT is ours: see read_tty */
  rl_signal_event_hook = on_signal_event;
  rl_attempted_completion_function = complete;
  /* '.' and ':' are not word breaks: "lucid.ze" is completed as a whole */
  rl_completer_word_break_characters = " \t\n\"'`@$><=;|&{}()[],+-*/%^~#";
  /* A second Tab lists the choices at once. In callback mode readline cannot
   * wait for an answer to "Display all 147 possibilities?" nor page, so it
   * does not ask and does not page. (~/.inputrc may say otherwise.) */
  rl_variable_bind("show-all-if-unmodified", "on");
  rl_variable_bind("page-completions", "off");
  rl_completion_query_items = -1;
  history_open();
}

/* ---- the REPL (lua.c's structure) ------------------------------------------------------ */

/* The prompt: global _PROMPT / _PROMPT2 if set, as in lua.c. Left on the stack. */
static const char *get_prompt(lua_State *L, int firstline) {
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  const char *p = lua_tostring(L, -1);
  return p ? p : (firstline ? PROMPT1 : PROMPT2);
}

/* A syntax error ending in "<eof>": the statement goes on next line. */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    size_t marklen = sizeof(EOFMARK) - 1;
    if (lmsg >= marklen && strcmp(msg + lmsg - marklen, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Reads a line and pushes it: 1; end of input: 0; Ctrl-C: -1 (nothing pushed). */
static int pushline(lua_State *L, int firstline) {
  char *b = NULL;
  const char *prmt = get_prompt(L, firstline);
  int status = read_line(prmt, &b);
  lua_pop(L, 1);  /* remove prompt */
  if (status <= 0) return status;
  size_t l = strlen(b);
  while (l > 0 && (b[l - 1] == '\n' || b[l - 1] == '\r')) b[--l] = '\0';
  if (firstline && b[0] == '=')  /* "=x" prints x, as in Lua 5.2 */
    lua_pushfstring(L, "return %s", b + 1);
  else
    lua_pushlstring(L, b, l);
  free(b);
  return 1;
}

/* Compiles the line as "return <line>;", so that expressions print. */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);  /* remove modified line */
    history_save(line);
  } else {
    lua_pop(L, 2);  /* the error and the modified line */
  }
  return status;
}

#define INTERRUPTED (-2)

/* Reads continuation lines until the statement is complete. */
static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status)) {
      history_save(line);
      return status;
    }
    int more = pushline(L, 0);
    if (more < 0) return INTERRUPTED;
    if (more == 0) {  /* end of input inside a statement: report it */
      history_save(line);
      lua_pushliteral(L, "stdin: unfinished statement at the end of input");
      return LUA_ERRSYNTAX;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);  /* line .. "\n" .. next line */
  }
}

/* Leaves the compiled chunk on the stack: LUA_OK; or an error message; -1
 * at the end of input; INTERRUPTED when Ctrl-C dropped the input. */
static int loadline(lua_State *L) {
  lua_settop(L, 0);
  int got = pushline(L, 1);
  if (got == 0) return -1;
  if (got < 0) return INTERRUPTED;
  int status = addreturn(L);
  if (status != LUA_OK) status = multiline(L);
  if (status == INTERRUPTED) {
    lua_settop(L, 0);
    return status;
  }
  lua_remove(L, 1);  /* remove line from the stack */
  return status;
}

/* Prints the values on the stack: lucid.repl.show formats them (tensors,
 * modules, short tables), separated by tabs. Printing can be interrupted too. */
static void l_print(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  if (push_repl_fn(L, "show")) {
    lua_insert(L, 1);
    if (docall(L, n, 1) != LUA_OK) {
      report(L, LUA_ERRRUN);
      return;
    }
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (s && len > 0) {
      lua_writestring(s, len);
      lua_writeline();
    }
    lua_pop(L, 1);
    return;
  }
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  if (docall(L, n, 0) != LUA_OK) report(L, LUA_ERRRUN);
}

static void doREPL(lua_State *L) {
  int status;
  const char *oldprogname = progname;
  progname = NULL;  /* no program name on errors in interactive mode */
  in_repl = 1;
  globalL = L;
  idle_action = note_sigint;
  setsignal(SIGINT, idle_action);
  use_readline = isatty(0);
  if (use_readline) readline_init();
  while ((status = loadline(L)) != -1) {
    if (status == INTERRUPTED) continue;
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      l_print(L);
    else
      report(L, status);
  }
  lua_settop(L, 0);
  lua_writeline();
  if (use_readline) history_close();
  idle_action = SIG_DFL;
  setsignal(SIGINT, SIG_DFL);
  in_repl = 0;
  progname = oldprogname;
}

/* ---- options (lua.c's) --------------------------------------------------------------- */

#define has_error 1  /* bad option */
#define has_i 2      /* -i */
#define has_v 4      /* -v */
#define has_e 8      /* -e */
#define has_E 16     /* -E */

/* The options needed before any Lua code runs; *first is the script's index
 * (or of a bad option). */
static int collectargs(char **argv, int *first) {
  int args = 0;
  int i;
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;  /* not an option: the script */
    switch (argv[i][1]) {
      case '-':  /* '--' */
        if (argv[i][2] != '\0') return has_error;
        *first = i + 1;
        return args;
      case '\0':  /* '-': the script is stdin */
        return args;
      case 'E':
        if (argv[i][2] != '\0') return has_error;
        args |= has_E;
        break;
      case 'W':
        if (argv[i][2] != '\0') return has_error;
        break;
      case 'i':
        args |= has_i;  /* -i implies -v */
        /* FALLTHROUGH */
      case 'v':
        if (argv[i][2] != '\0') return has_error;
        args |= has_v;
        break;
      case 'e':
        args |= has_e;
        /* FALLTHROUGH */
      case 'l':  /* both need an argument */
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return has_error;
        }
        break;
      default:
        return has_error;
    }
  }
  *first = i;  /* no script name */
  return args;
}

/* Runs -e, -l and -W in order; 0 if some code raised an error. */
static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e':
      case 'l': {
        const char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        int status = option == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
    }
  }
  return 1;
}

static int handle_luainit(lua_State *L) {
  const char *name = "=LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return dostring(L, init, name);
}

/* The whole program, in protected mode. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, &script);
  luaL_checkversion(L);
  if (argv[0] && argv[0][0]) progname = argv[0];
  if (args == has_error) {
    print_usage(argv[script]);
    return 0;
  }
  if (args & has_v) print_version();
  if (args & has_E) {  /* ignore environment variables (LUA_PATH too) */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lucid_core);
  lua_setfield(L, -2, "lucid.core");  /* package.preload["lucid.core"] = luaopen_lucid_core */
  lua_pop(L, 1);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);  /* as lua.c: generational mode */
  if (!(args & has_E) && handle_luainit(L) != LUA_OK) return 0;
  load_lucid(L);
  if (!runargs(L, argv, script)) return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
  if (args & has_i) {
    doREPL(L);
  } else if (script == argc && !(args & (has_e | has_v))) {
    if (isatty(0)) {
      print_version();
      print_line("help() lists topics; Ctrl-C interrupts, Ctrl-D exits.");
      doREPL(L);
    } else {
      dofile(L, NULL);  /* stdin as a file */
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    l_message(argv[0], "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);  /* stop the collector while building the state */
  lua_pushcfunction(L, &pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int result = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
