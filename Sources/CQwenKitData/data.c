#include "CQwenKitData.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
// Aligned so that the compact format's tables, at multiples of 8 bytes from the contents (24 bytes in), are used in
// place.
static const unsigned char qwen2_tokenizer[] __attribute__((aligned(64))) = {
#embed "qwen2.qtok"
};

const unsigned char *qwenkit_qwen2_tokenizer_data(void) { return qwen2_tokenizer; }
size_t qwenkit_qwen2_tokenizer_size(void) { return sizeof qwen2_tokenizer; }
