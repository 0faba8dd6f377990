/* reduce.c: reduce ops, each with its backward rule beside it. */
#include "internal.h"
