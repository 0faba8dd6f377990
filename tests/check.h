/* check.h: the C tests' assertion macros. CHECK counts and reports a failed
 * condition with its file and line, and lets the test go on; the test's main
 * prints g_checks and g_failures and exits non-zero on any failure. */
#ifndef LUCID_TESTS_CHECK_H
#define LUCID_TESTS_CHECK_H

#include <stdio.h>

static int g_checks, g_failures;

#define CHECK(cond)                                                              \
  do {                                                                           \
    g_checks++;                                                                  \
    if (!(cond)) {                                                               \
      g_failures++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

/* CHECK with a formatted explanation, printed only on failure. */
#define CHECKF(cond, ...)                                                        \
  do {                                                                           \
    g_checks++;                                                                  \
    if (!(cond)) {                                                               \
      g_failures++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                              \
      fputc('\n', stderr);                                                       \
    }                                                                            \
  } while (0)

#endif
