/* lc_reduce.h: the reduce ops of the core (included by lc.h). */
#ifndef LC_REDUCE_H
#define LC_REDUCE_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
