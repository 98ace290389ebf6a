/*
 * tests/unit/ut_store.h - damage a stored key on purpose: flip bits
 * (mask) of the byte at value offset `at` of key's live record, on the
 * simulated flash under the store.  Include once per program.
 */
#ifndef UT_STORE_H
#define UT_STORE_H

#include <string.h>

#include "../../hal/sim/flash_sim.h"
#include "store/store.h"
#include "ut.h"

static void
ut_store_damage(struct sim_flash *dev, const struct hal_flash *part,
                const struct store *st, const char *key, uint32_t at,
                uint8_t mask)
{
    for (uint32_t i = 0; i < st->nkeys; i++)
        if (strcmp(st->keys[i].key, key) == 0) {
            const struct store_key *k = &st->keys[i];

            sim_flash_corrupt(dev,
                              part->base +
                                  (uint64_t)k->sector * st->sector_size +
                                  k->rec_off + k->val_off + at,
                              mask);
            return;
        }
    UT_CHECK(!"key not found");
}

#endif
