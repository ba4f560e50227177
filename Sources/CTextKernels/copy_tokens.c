// TextDecoder's copy loop (see include/text_kernels.h). In Swift the loop kept its pointers and counters on the
// stack (a dozen loads and stores per id around the copy); here they stay in registers.

#include "text_kernels.h"

#include <string.h>

void qwenkit_copy_tokens(const uint32_t *ids, size_t *k, size_t end, const int32_t *newlines, size_t *e, size_t newline_end,
                         const qwenkit_token_table *table, uint8_t *out, size_t *written, uint8_t *flags) {
    const uint8_t *slots = table->slots;
    const uint32_t count = table->count;
    const uint8_t not_inline = table->slow | table->long_token, slow = table->slow;
    size_t j = *k, n = *e;
    uint8_t *o = out + *written;
    uint8_t all = 0xFF;
    size_t next_newline = n < newline_end ? (size_t)newlines[n] : (size_t)-1;
    for (;;) {
        size_t stop = next_newline < end ? next_newline : end;
        while (j < stop) {
            uint32_t id = ids[j];
            if (j + 16 < end) __builtin_prefetch(slots + 16 * (size_t)ids[j + 16]);
            if (id >= count) goto done;
            const uint8_t *slot = slots + 16 * (size_t)id;
            uint8_t meta = slot[15];
            if (meta & not_inline) {
                if (meta & slow) goto done;
                uint64_t entry = table->entries[id];
                size_t length = (size_t)((entry >> 32) & 0xFFFFFF);
                memcpy(o, table->bytes + (uint32_t)entry, length);
                o += length;
            } else {
                memcpy(o, slot, 16);
                o += slot[14];
            }
            all &= meta;
            j++;
        }
        if (j != next_newline) break;
        *o++ = '\n';
        n++;
        next_newline = n < newline_end ? (size_t)newlines[n] : (size_t)-1;
    }
done:
    *k = j;
    *e = n;
    *written = (size_t)(o - out);
    *flags &= all;
}
