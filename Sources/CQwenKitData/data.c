#include "CQwenKitData.h"

#pragma clang diagnostic ignored "-Wc23-extensions"
static const unsigned char qwen2_tokenizer[] = {
#embed "qwen2.qtok.zst"
};

const unsigned char *qwenkit_qwen2_tokenizer_data(void) { return qwen2_tokenizer; }
size_t qwenkit_qwen2_tokenizer_size(void) { return sizeof qwen2_tokenizer; }
