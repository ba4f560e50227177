// Everything is inline in include/prefetch.h; this file gives the target a translation unit.
#include "prefetch.h"
