/* elementwise.c: elementwise ops, each with its backward rule beside it. */
#include "internal.h"
