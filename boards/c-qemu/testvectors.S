/* The test vectors of `dam predict`, embedded as they are (.incbin); the
 * Makefile passes each file's path. check.c checks their lengths against
 * the model at run time. */
#define EMBED(sym, file)        \
    .global sym;                \
    .global sym##_end;          \
    .balign 4;                  \
sym:                            \
    .incbin file;               \
sym##_end:

    .section .testvectors, "a"
EMBED(tv_inputs, TV_INPUTS)
#ifdef TV_BYTE_VALUES
EMBED(tv_byte_values, TV_BYTE_VALUES)
#endif
EMBED(tv_classes, TV_CLASSES)
EMBED(tv_predictions, TV_PREDICTIONS)
EMBED(tv_model_crc, TV_MODEL_CRC)

