/*
 * tools/keel-chaingen.c - mint test chains as Mochimo tfile.dat files.
 *
 *   keel-chaingen [--profile testnet|mainnet] -n BLOCKS [-d DIFFICULTY]
 *                 [--pseudo-every K] [--seed S]
 *                 [--fork-at H --fork-difficulty D [--fork-seed S]]
 *                 [--break RULE --at BNUM] -o FILE
 *
 * --profile mainnet mints a mainnet-shaped chain (chain/gen.h): the real
 * genesis, pseudo and NG blocks up to v3 (0xa0700 = 657152), and the
 * blocks below from there on; -n is the tip's bnum in both profiles.
 *
 * Blocks are standard (peach at the difficulty), pseudo every K, and NG
 * every 256th; times end well before now.  --break makes block BNUM
 * violate RULE once (phash, bnum, mfee, tcount, time-eq, time-gap,
 * time0, difficulty, bhash, haiku, pow, ng-fields, ng-copy, pseudo-gap,
 * and ng-mroot for mainnet);
 * --fork-at mints a different branch from height H (to import after the
 * main one: the heavier wins).  Prints the tip and the chain weight.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/gen.h"

struct sink {
    FILE *f;
    struct chain_weight w;
    uint8_t tip[TRAILER_LEN];
};

static int
put(void *arg, const uint8_t t[TRAILER_LEN])
{
    struct sink *s = arg;

    chain_weight_add(&s->w, t);
    memcpy(s->tip, t, TRAILER_LEN);
    return fwrite(t, 1, TRAILER_LEN, s->f) == TRAILER_LEN ? 0 : -1;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: keel-chaingen [--profile testnet|mainnet] -n BLOCKS "
            "[-d DIFFICULTY]\n"
            "                     [--pseudo-every K] [--seed S]\n"
            "                     [--fork-at H --fork-difficulty D "
            "[--fork-seed S]]\n"
            "                     [--break RULE --at BNUM] -o FILE\n"
            "rules: phash bnum mfee tcount time-eq time-gap time0 difficulty "
            "bhash haiku pow\n"
            "       ng-fields ng-copy (at a multiple of 256) pseudo-gap (at "
            "a pseudo-block)\n"
            "       ng-mroot (mainnet, an NG or pseudo-block below 657152)\n"
            "mainnet: -n is the tip; v3 starts at 657152 (0xa0700), where "
            "a reference\n"
            "node starts serving; -n 660000 gives 2,848 blocks past it\n");
    return 2;
}

int
main(int argc, char **argv)
{
    struct chaingen g = {0, 0, 0, 1, 0, 0, 0, GEN_OK, 0, 0};
    const char *outp = NULL;
    struct sink s;
    char hx[65];
    int have_n = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            return usage();
        if (strcmp(a, "-n") == 0)
            g.blocks = strtoull(v, NULL, 10), have_n = 1;
        else if (strcmp(a, "-d") == 0)
            g.difficulty = (unsigned)atoi(v);
        else if (strcmp(a, "--pseudo-every") == 0)
            g.pseudo_every = (unsigned)atoi(v);
        else if (strcmp(a, "--seed") == 0)
            g.seed = (uint32_t)strtoul(v, NULL, 0);
        else if (strcmp(a, "--fork-at") == 0)
            g.fork_at = strtoull(v, NULL, 10);
        else if (strcmp(a, "--fork-difficulty") == 0)
            g.fork_difficulty = (unsigned)atoi(v);
        else if (strcmp(a, "--fork-seed") == 0)
            g.fork_seed = (uint32_t)strtoul(v, NULL, 0);
        else if (strcmp(a, "--break") == 0) {
            g.brk = chaingen_break_find(v);
            if (g.brk == GEN_OK) {
                fprintf(stderr, "keel-chaingen: unknown rule '%s'\n", v);
                return usage();
            }
        } else if (strcmp(a, "--at") == 0)
            g.brk_at = strtoull(v, NULL, 10);
        else if (strcmp(a, "--profile") == 0) {
            if (strcmp(v, "mainnet") == 0)
                g.mainnet = 1;
            else if (strcmp(v, "testnet") != 0) {
                fprintf(stderr, "keel-chaingen: unknown profile '%s'\n", v);
                return usage();
            }
        } else if (strcmp(a, "-o") == 0)
            outp = v;
        else
            return usage();
        i++;
    }
    if (!have_n || outp == NULL || g.difficulty > 24 ||
        (g.brk != GEN_OK && (g.brk_at == 0 || g.brk_at > g.blocks)))
        return usage();
    if (g.brk == GEN_NG_MROOT &&
        (!g.mainnet || g.brk_at >= chain_mainnet.v30)) {
        /* only below v3 is an mroot in an NG or pseudo-block a fault */
        fprintf(stderr, "keel-chaingen: ng-mroot needs --profile mainnet "
                        "and --at below 657152\n");
        return usage();
    }
    memset(&s, 0, sizeof(s));
    s.f = fopen(outp, "wb");
    if (s.f == NULL) {
        fprintf(stderr, "keel-chaingen: cannot write '%s': %s\n", outp,
                strerror(errno));
        return 1;
    }
    if (chaingen_run(&g, put, &s) != 0 || fclose(s.f) != 0) {
        fprintf(stderr, "keel-chaingen: minting failed (difficulty too "
                        "high, or 'pow' at difficulty 0?)\n");
        return 1;
    }
    chain_weight_hex(&s.w, hx);
    printf("%s: %" PRIu64 " trailers, tip bnum %" PRIu64 ", weight %s\n", outp,
           g.blocks + 1, g.blocks, hx);
    return 0;
}
