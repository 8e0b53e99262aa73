/* The C ABI of dam-ffi from C: every entry point with good and bad
 * arguments. Run by ffi/tests/c_abi.rs, which builds it with
 * gcc -std=c99 -Wall -Wextra -Werror -fsanitize=address,undefined and passes
 *   f32-model i8-model input.bin levels.bin scores.bin
 *   f32-class f32-label i8-class i8-levels-class
 * (the expected values come from dam_core::Prepared). Exit status 0: all
 * checks passed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dam.h"

static int failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

#define CHECK_STATUS(call, want)                                                    \
    do {                                                                            \
        dam_status got_ = (call);                                                   \
        if (got_ != (want)) {                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d (%s)\n", __FILE__, \
                    __LINE__, #call, (int)got_, dam_status_str(got_), (int)(want),  \
                    dam_status_str(want));                                          \
            failures++;                                                             \
        }                                                                           \
    } while (0)

/* A file's bytes at an address aligned to `align` plus `shift`. */
typedef struct {
    unsigned char *base;
    unsigned char *bytes;
    size_t len;
} buffer;

static buffer read_file(const char *path, size_t align, size_t shift) {
    buffer b = {NULL, NULL, 0};
    FILE *f = fopen(path, "rb");
    long len;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    b.len = (size_t)len;
    b.base = malloc(b.len + align + shift + 1);
    if (b.base == NULL) exit(2);
    b.bytes = b.base + (align - (uintptr_t)b.base % align) % align + shift;
    if (fread(b.bytes, 1, b.len, f) != b.len) exit(2);
    fclose(f);
    return b;
}

static long arg_long(const char *s) { return strtol(s, NULL, 10); }

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: %s f32-model i8-model input levels scores "
                        "f32-class f32-label i8-class i8-levels-class\n", argv[0]);
        return 2;
    }
    buffer f32_model = read_file(argv[1], DAM_MODEL_ALIGN, 0);
    buffer i8_model = read_file(argv[2], DAM_MODEL_ALIGN, 0);
    buffer input_file = read_file(argv[3], 16, 0);
    buffer levels_file = read_file(argv[4], 16, 0);
    buffer scores_file = read_file(argv[5], 16, 0);
    const uint32_t want_f32 = (uint32_t)arg_long(argv[6]);
    const int32_t want_label = (int32_t)arg_long(argv[7]);
    const uint32_t want_i8 = (uint32_t)arg_long(argv[8]);
    const uint32_t want_levels = (uint32_t)arg_long(argv[9]);
    const float *input = (const float *)(const void *)input_file.bytes;
    const size_t nv = input_file.len / sizeof(float);
    const int8_t *levels = (const int8_t *)(const void *)levels_file.bytes;
    const float *want_scores = (const float *)(const void *)scores_file.bytes;
    const size_t nc = scores_file.len / sizeof(float);

    /* Statuses: every code has its own text, any other value a fallback. */
    int32_t s;
    for (s = DAM_OK; s <= DAM_ERR_OUT_OF_RANGE; s++) {
        CHECK(dam_status_str(s) != NULL);
        CHECK(strcmp(dam_status_str(s), "unknown status") != 0);
    }
    CHECK(strcmp(dam_status_str(-1), "unknown status") == 0);
    CHECK(strcmp(dam_status_str(DAM_ERR_OUT_OF_RANGE + 1), "unknown status") == 0);
    CHECK(strcmp(dam_status_str(INT32_MAX), "unknown status") == 0);
    CHECK(strcmp(dam_status_str(DAM_OK), "ok") == 0);

    /* Scratch: large, aligned; `scratch + 4` is misaligned. */
    static uint64_t scratch_words[1024];
    void *scratch = scratch_words;
    float scores[16];
    uint32_t class_out = 999;
    int32_t label = 0;

    /* NULL model everywhere. */
    CHECK_STATUS(dam_model_init(NULL, f32_model.bytes, f32_model.len), DAM_ERR_NULL);
    CHECK(dam_scratch_bytes(NULL) == 0);
    CHECK(dam_model_inputs(NULL) == 0);
    CHECK(dam_model_classes(NULL) == 0);
    CHECK(dam_model_memories(NULL) == 0);
    CHECK_STATUS(dam_class_label(NULL, 0, &label), DAM_ERR_NULL);
    CHECK_STATUS(dam_classify_f32(NULL, input, nv, scratch, sizeof scratch_words, &class_out),
                 DAM_ERR_NULL);
    CHECK_STATUS(dam_classify_i8(NULL, levels, nv, scratch, sizeof scratch_words, &class_out),
                 DAM_ERR_NULL);
    CHECK_STATUS(dam_scores(NULL, input, nv, scratch, sizeof scratch_words, scores, 16),
                 DAM_ERR_NULL);

    /* An uninitialised handle: zeroed, or garbage. */
    dam_model model;
    memset(&model, 0, sizeof model);
    CHECK(dam_scratch_bytes(&model) == 0);
    CHECK(dam_model_inputs(&model) == 0 && dam_model_classes(&model) == 0);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, sizeof scratch_words, &class_out),
                 DAM_ERR_UNINITIALISED);
    memset(&model, 0xab, sizeof model);
    CHECK_STATUS(dam_class_label(&model, 0, &label), DAM_ERR_UNINITIALISED);
    CHECK_STATUS(dam_scores(&model, input, nv, scratch, sizeof scratch_words, scores, 16),
                 DAM_ERR_UNINITIALISED);
    CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, sizeof scratch_words, &class_out),
                 DAM_ERR_UNINITIALISED);

    /* Bad model bytes: each leaves the handle uninitialised. */
    CHECK_STATUS(dam_model_init(&model, NULL, f32_model.len), DAM_ERR_NULL);
    CHECK_STATUS(dam_model_init(&model, f32_model.bytes, 0), DAM_ERR_MODEL_LENGTH);
    CHECK_STATUS(dam_model_init(&model, f32_model.bytes, 10), DAM_ERR_MODEL_LENGTH);
    CHECK_STATUS(dam_model_init(&model, f32_model.bytes, f32_model.len - 1), DAM_ERR_MODEL_LENGTH);
    CHECK(dam_model_classes(&model) == 0);
    f32_model.bytes[200] ^= 0x10;
    CHECK_STATUS(dam_model_init(&model, f32_model.bytes, f32_model.len), DAM_ERR_MODEL_CRC);
    f32_model.bytes[200] ^= 0x10;
    f32_model.bytes[0] ^= 0xff;
    CHECK_STATUS(dam_model_init(&model, f32_model.bytes, f32_model.len), DAM_ERR_MODEL_MAGIC);
    f32_model.bytes[0] ^= 0xff;
    CHECK(dam_model_classes(&model) == 0);
    {
        buffer shifted = read_file(argv[2], DAM_MODEL_ALIGN, 1);
        CHECK_STATUS(dam_model_init(&model, shifted.bytes, shifted.len), DAM_ERR_MISALIGNED);
        free(shifted.base);
    }
    {
        /* A dam_model at a misaligned address is refused before use. */
        static uint64_t storage[DAM_MODEL_WORDS + 1];
        dam_model *odd = (dam_model *)(void *)((unsigned char *)storage + 4);
        CHECK_STATUS(dam_model_init(odd, f32_model.bytes, f32_model.len), DAM_ERR_MISALIGNED);
        CHECK(dam_model_classes(odd) == 0);
    }

    /* The f32 model. */
    CHECK_STATUS(dam_model_init(&model, f32_model.bytes, f32_model.len), DAM_OK);
    CHECK(dam_model_inputs(&model) == nv);
    CHECK(dam_model_classes(&model) == nc);
    const size_t need = dam_scratch_bytes(&model);
    CHECK(need > 0 && need <= sizeof scratch_words);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need, &class_out), DAM_OK);
    CHECK(class_out == want_f32);
    CHECK_STATUS(dam_class_label(&model, class_out, &label), DAM_OK);
    CHECK(label == want_label);
    CHECK_STATUS(dam_class_label(&model, (uint32_t)nc, &label), DAM_ERR_OUT_OF_RANGE);
    CHECK_STATUS(dam_class_label(&model, 0, NULL), DAM_ERR_NULL);
    memset(scores, 0, sizeof scores);
    CHECK_STATUS(dam_scores(&model, input, nv, scratch, need, scores, 16), DAM_OK);
    CHECK(memcmp(scores, want_scores, nc * sizeof(float)) == 0);
    CHECK(scores[nc] == 0.0f); /* the rest untouched */
    CHECK_STATUS(dam_scores(&model, input, nv, scratch, need, scores, nc - 1),
                 DAM_ERR_OUTPUT_TOO_SMALL);
    CHECK_STATUS(dam_scores(&model, input, nv, scratch, need, NULL, 16), DAM_ERR_NULL);
    CHECK_STATUS(dam_scores(&model, input, nv, scratch, need,
                            (float *)(void *)((unsigned char *)scores + 1), 8),
                 DAM_ERR_MISALIGNED);
    /* Short, misaligned, NULL scratch; bad input; NULL output. */
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need - 1, &class_out),
                 DAM_ERR_SCRATCH_TOO_SMALL);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, 0, &class_out),
                 DAM_ERR_SCRATCH_TOO_SMALL);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, (unsigned char *)scratch + 4, need,
                                  &class_out),
                 DAM_ERR_MISALIGNED);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, NULL, need, &class_out), DAM_ERR_NULL);
    CHECK_STATUS(dam_classify_f32(&model, NULL, nv, scratch, need, &class_out), DAM_ERR_NULL);
    CHECK_STATUS(dam_classify_f32(&model, input, nv - 1, scratch, need, &class_out),
                 DAM_ERR_INPUT_LENGTH);
    CHECK_STATUS(dam_classify_f32(&model, input, nv + 1, scratch, need, &class_out),
                 DAM_ERR_INPUT_LENGTH);
    CHECK_STATUS(dam_classify_f32(&model, input, SIZE_MAX, scratch, need, &class_out),
                 DAM_ERR_INPUT_LENGTH);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need, NULL), DAM_ERR_NULL);
    CHECK_STATUS(dam_classify_f32(&model, (const float *)(const void *)(input_file.bytes + 2),
                                  nv, scratch, need, &class_out),
                 DAM_ERR_MISALIGNED);
    {
        float *bad = malloc(nv * sizeof(float));
        if (bad == NULL) return 2;
        memcpy(bad, input, nv * sizeof(float));
        bad[3] = NAN;
        CHECK_STATUS(dam_classify_f32(&model, bad, nv, scratch, need, &class_out),
                     DAM_ERR_NON_FINITE);
        bad[3] = -INFINITY;
        CHECK_STATUS(dam_scores(&model, bad, nv, scratch, need, scores, 16), DAM_ERR_NON_FINITE);
        free(bad);
    }
    CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, need, &class_out),
                 DAM_ERR_WRONG_KIND);
    {
        int32_t sums[4];
        CHECK_STATUS(dam_model_skip_input(&model, -1.0f, sums, 4), DAM_ERR_WRONG_KIND);
        float table[4];
        CHECK(dam_label_table_len(&model) == 0u);
        CHECK_STATUS(dam_model_label_table(&model, table, 4), DAM_ERR_WRONG_KIND);
    }
    /* The scratch contents on entry do not matter. */
    memset(scratch_words, 0xff, sizeof scratch_words);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need, &class_out), DAM_OK);
    CHECK(class_out == want_f32);
    /* A copy of the handle works as the original. */
    {
        dam_model copy;
        memcpy(&copy, &model, sizeof model);
        CHECK_STATUS(dam_classify_f32(&copy, input, nv, scratch, need, &class_out), DAM_OK);
        CHECK(class_out == want_f32);
    }

    /* The i8 model, in the same handle. */
    CHECK_STATUS(dam_model_init(&model, i8_model.bytes, i8_model.len), DAM_OK);
    CHECK(dam_model_inputs(&model) == nv);
    const size_t need8 = dam_scratch_bytes(&model);
    CHECK(need8 > 0 && need8 <= sizeof scratch_words);
    CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need8, &class_out), DAM_OK);
    CHECK(class_out == want_i8);
    class_out = 999;
    CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, need8, &class_out), DAM_OK);
    CHECK(class_out == want_levels);
    CHECK_STATUS(dam_classify_i8(&model, NULL, nv, scratch, need8, &class_out), DAM_ERR_NULL);
    CHECK_STATUS(dam_classify_i8(&model, levels, nv - 1, scratch, need8, &class_out),
                 DAM_ERR_INPUT_LENGTH);
    CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, need8 - 1, &class_out),
                 DAM_ERR_SCRATCH_TOO_SMALL);
    CHECK_STATUS(dam_scores(&model, input, nv, scratch, need8, scores, 16), DAM_OK);
    for (size_t i = 0; i < nc; i++) CHECK(scores[i] >= -1.0f && scores[i] <= 1.0f);

    /* Skipping the level of a background pixel (-1): the same classes. */
    {
        static int32_t row_sums[1024];
        const uint32_t k = dam_model_memories(&model);
        CHECK(k == 120u);
        CHECK_STATUS(dam_model_skip_input(NULL, -1.0f, row_sums, k), DAM_ERR_NULL);
        CHECK_STATUS(dam_model_skip_input(&model, -1.0f, NULL, k), DAM_ERR_NULL);
        CHECK_STATUS(dam_model_skip_input(&model, -1.0f, row_sums, k - 1), DAM_ERR_OUTPUT_TOO_SMALL);
        CHECK_STATUS(dam_model_skip_input(&model, NAN, row_sums, k), DAM_ERR_NON_FINITE);
        CHECK_STATUS(dam_model_skip_input(&model, -1.0f,
                                          (int32_t *)(void *)((uint8_t *)row_sums + 1), k - 1),
                     DAM_ERR_MISALIGNED);
        CHECK_STATUS(dam_model_skip_input(&model, -1.0f, row_sums, k), DAM_OK);
        CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need8, &class_out), DAM_OK);
        CHECK(class_out == want_i8);
        CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, need8, &class_out), DAM_OK);
        CHECK(class_out == want_levels);
        CHECK_STATUS(dam_scores(&model, input, nv, scratch, need8, scores, 16), DAM_OK);
        for (size_t i = 0; i < nc; i++) CHECK(scores[i] >= -1.0f && scores[i] <= 1.0f);

        /* The doubled label values made once (K·Nc floats): the same
         * classes and the same scores, bit for bit. */
        static float table[1024 * 16];
        float before[16];
        const size_t len = dam_label_table_len(&model);
        CHECK(len == (size_t)k * nc);
        memcpy(before, scores, sizeof before);
        CHECK(dam_label_table_len(NULL) == 0u);
        CHECK_STATUS(dam_model_label_table(NULL, table, len), DAM_ERR_NULL);
        CHECK_STATUS(dam_model_label_table(&model, NULL, len), DAM_ERR_NULL);
        CHECK_STATUS(dam_model_label_table(&model, table, len - 1), DAM_ERR_OUTPUT_TOO_SMALL);
        CHECK_STATUS(dam_model_label_table(&model, (float *)(void *)((uint8_t *)table + 1), len),
                     DAM_ERR_MISALIGNED);
        CHECK_STATUS(dam_model_label_table(&model, table, len), DAM_OK);
        CHECK_STATUS(dam_classify_f32(&model, input, nv, scratch, need8, &class_out), DAM_OK);
        CHECK(class_out == want_i8);
        CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, need8, &class_out), DAM_OK);
        CHECK(class_out == want_levels);
        CHECK_STATUS(dam_scores(&model, input, nv, scratch, need8, scores, 16), DAM_OK);
        CHECK(memcmp(before, scores, nc * sizeof scores[0]) == 0);
    }

    /* A failed re-init leaves the handle uninitialised. */
    CHECK_STATUS(dam_model_init(&model, i8_model.bytes, i8_model.len - 4), DAM_ERR_MODEL_LENGTH);
    CHECK(dam_scratch_bytes(&model) == 0);
    CHECK_STATUS(dam_classify_i8(&model, levels, nv, scratch, need8, &class_out),
                 DAM_ERR_UNINITIALISED);

    free(f32_model.base);
    free(i8_model.base);
    free(input_file.base);
    free(levels_file.base);
    free(scores_file.base);
    if (failures != 0) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("test_dam: all checks passed\n");
    return 0;
}
