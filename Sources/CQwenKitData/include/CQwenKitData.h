#ifndef CQWENKITDATA_H
#define CQWENKITDATA_H
#include <stddef.h>

/// The compact form of Qwen2's tokenizer (uncompressed, 64-byte aligned), built by `make tokenizer-data` from
/// Fixtures/tokenizers/qwen2/tokenizer.json.zst (see Fixtures/README.md).
const unsigned char *qwenkit_qwen2_tokenizer_data(void);
size_t qwenkit_qwen2_tokenizer_size(void);

#endif
