// Snappy's C interface (snappy_uncompressed_length, snappy_uncompress); the library itself is C++.
#include <snappy-c.h>
