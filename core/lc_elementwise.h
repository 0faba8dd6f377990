/* lc_elementwise.h: the elementwise ops of the core (included by lc.h). */
#ifndef LC_ELEMENTWISE_H
#define LC_ELEMENTWISE_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
