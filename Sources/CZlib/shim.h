#include <zlib.h>

// inflateInit2 is a macro (it passes zlib.h's version and sizeof(z_stream) to inflateInit2_), which Swift cannot
// call; this is the same call as a function.
static inline int czlib_inflate_init2(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}
