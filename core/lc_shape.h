/* lc_shape.h: the shape ops of the core (included by lc.h). */
#ifndef LC_SHAPE_H
#define LC_SHAPE_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
