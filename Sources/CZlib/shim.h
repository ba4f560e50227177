#include <zlib.h>

// inflateInit2 is a macro (it passes zlib.h's version and sizeof(z_stream) to inflateInit2_), which Swift cannot
// call; this is the same call as a function.
static inline int czlib_inflate_init2(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

// deflateInit2 is a macro for the same reason.
static inline int czlib_deflate_init2(z_stream *stream, int level, int window_bits) {
    return deflateInit2(stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
}
