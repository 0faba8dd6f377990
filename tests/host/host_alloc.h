/* host_alloc.h: the C hosts' Lua allocator, as a game would give lua_newstate.
 * It counts the bytes live and every allocation or growth, so a test can
 * check that a warm frame allocates nothing, and refuses growth past a cap
 * (0: none), a host's memory budget. A lock makes it safe for plans run on
 * several threads (lucid's core allocates through it too).
 *
 *   budget b = {.cap = 64u << 20, .lock = PTHREAD_MUTEX_INITIALIZER};
 *   lua_State *L = lua_newstate(budget_alloc, &b);
 */
#ifndef LUCID_TESTS_HOST_ALLOC_H
#define LUCID_TESTS_HOST_ALLOC_H

#include <pthread.h>
#include <stdlib.h>

typedef struct budget {
  size_t live, cap;
  long allocations;  /* successful allocations and growths, from any thread */
  pthread_mutex_t lock;
} budget;

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  budget *b = (budget *)ud;
  size_t old = ptr ? osize : 0;
  void *p = NULL;
  pthread_mutex_lock(&b->lock);
  if (nsize == 0) {
    b->live -= old;
    free(ptr);
  } else if (!(b->cap && nsize > old && b->live + (nsize - old) > b->cap) &&
             (p = realloc(ptr, nsize))) {
    b->live = b->live - old + nsize;
    if (nsize > old) b->allocations++;
  }
  pthread_mutex_unlock(&b->lock);
  return p;
}

#endif
