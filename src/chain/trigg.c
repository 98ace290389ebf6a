/*
 * chain/trigg.c - Trigg's haiku grammar: the 256-word dictionary with
 * its semantic features, the ten frames a nonce half must fit, the
 * syntax check peach starts with, the text expansion, the pre-peach
 * (Trigg) proof of work, and a haiku generator for keel's test miner.
 *
 * The dictionary order, features and frames are consensus data: they
 * are Mochimo's (mochimodev/mochimo src/trigg.c), and token n below is
 * token n there.  The code around them is keel's.
 */
#include <errno.h>
#include <string.h>

#include "chain/peach.h"
#include "crypto/crypto.h"

/* Semantic features (Winograd's systemic grammar, as Trigg uses it). */
#define F_ING 0x1
#define F_INF 0x2
#define F_MOTION 0x4
#define F_NS 0x8
#define F_NPL 0x10
#define F_MASS 0x20
#define F_AMB 0x40
#define F_TIMED 0x80
#define F_TIMEY 0x100
#define F_TIME (F_TIMED | F_TIMEY)
#define F_AT 0x200
#define F_ON 0x400
#define F_IN 0x800
#define F_PREP 0x1000
#define F_ADJ 0x2000
#define F_OP 0x4000
#define F_XLIT 0x20000 /* the frame wants this exact token */

#define S_NL (F_XLIT + 1)
#define S_CO (F_XLIT + 2)
#define S_MD (F_XLIT + 3)
#define S_A (F_XLIT + 5)
#define S_S (F_XLIT + 9)

#define MAXH 16

struct word {
    const char *tok;
    uint32_t fe;
};

static const struct word dict[256] = {
    /* 0: nothing; function words and punctuation */
    {"NIL", 0},
    {"\n", F_OP},
    {"\b:", F_OP},
    {"\b--", F_OP},
    {"like", F_OP},
    {"a", F_OP},
    {"the", F_OP},
    {"of", F_OP},
    {"no", F_OP},
    {"\bs", F_OP},
    {"after", F_OP},
    {"before", F_OP},
    /* 12: prepositions */
    {"at", F_PREP},
    {"in", F_PREP},
    {"on", F_PREP},
    {"under", F_PREP},
    {"above", F_PREP},
    {"below", F_PREP},
    /* 18: -ing verbs of motion */
    {"arriving", F_ING | F_MOTION},
    {"departing", F_ING | F_MOTION},
    {"going", F_ING | F_MOTION},
    {"coming", F_ING | F_MOTION},
    {"creeping", F_ING | F_MOTION},
    {"dancing", F_ING | F_MOTION},
    {"riding", F_ING | F_MOTION},
    {"strutting", F_ING | F_MOTION},
    {"leaping", F_ING | F_MOTION},
    {"leaving", F_ING | F_MOTION},
    {"entering", F_ING | F_MOTION},
    {"drifting", F_ING | F_MOTION},
    {"returning", F_ING | F_MOTION},
    {"rising", F_ING | F_MOTION},
    {"falling", F_ING | F_MOTION},
    {"rushing", F_ING | F_MOTION},
    {"soaring", F_ING | F_MOTION},
    {"travelling", F_ING | F_MOTION},
    {"turning", F_ING | F_MOTION},
    {"singing", F_ING | F_MOTION},
    {"walking", F_ING | F_MOTION},
    /* 39: -ing verbs */
    {"crying", F_ING},
    {"weeping", F_ING},
    {"lingering", F_ING},
    {"pausing", F_ING},
    {"shining", F_ING},
    /* 44: infinitives of motion */
    {"fall", F_INF | F_MOTION},
    {"flow", F_INF | F_MOTION},
    {"wander", F_INF | F_MOTION},
    {"disappear", F_INF | F_MOTION},
    /* 48: infinitives */
    {"wait", F_INF},
    {"bloom", F_INF},
    {"doze", F_INF},
    {"dream", F_INF},
    {"laugh", F_INF},
    {"meditate", F_INF},
    {"listen", F_INF},
    {"sing", F_INF},
    {"decay", F_INF},
    {"cling", F_INF},
    {"grow", F_INF},
    {"forget", F_INF},
    {"remain", F_INF},
    /* 61: adjectives */
    {"arid", F_ADJ},
    {"abandoned", F_ADJ},
    {"aged", F_ADJ},
    {"ancient", F_ADJ},
    {"full", F_ADJ},
    {"glorious", F_ADJ},
    {"good", F_ADJ},
    {"beautiful", F_ADJ},
    {"first", F_ADJ},
    {"last", F_ADJ},
    {"forsaken", F_ADJ},
    {"sad", F_ADJ},
    {"mandarin", F_ADJ},
    {"naked", F_ADJ},
    {"nameless", F_ADJ},
    {"old", F_ADJ},
    /* 77: ambient adjectives */
    {"quiet", F_ADJ | F_AMB},
    {"peaceful", F_ADJ},
    {"still", F_ADJ},
    {"tranquil", F_ADJ},
    {"bare", F_ADJ},
    /* 82: times of day and of year */
    {"evening", F_ADJ | F_TIMED},
    {"morning", F_ADJ | F_TIMED},
    {"afternoon", F_ADJ | F_TIMED},
    {"spring", F_ADJ | F_TIMEY},
    {"summer", F_ADJ | F_TIMEY},
    {"autumn", F_ADJ | F_TIMEY},
    {"winter", F_ADJ | F_TIMEY},
    /* 89: physical adjectives */
    {"broken", F_ADJ},
    {"thick", F_ADJ},
    {"thin", F_ADJ},
    {"little", F_ADJ},
    {"big", F_ADJ},
    {"parched", F_ADJ | F_AMB},
    {"withered", F_ADJ | F_AMB},
    {"worn", F_ADJ | F_AMB},
    {"soft", F_ADJ},
    {"bitter", F_ADJ},
    {"bright", F_ADJ},
    {"brilliant", F_ADJ},
    {"cold", F_ADJ},
    {"cool", F_ADJ},
    {"crimson", F_ADJ},
    {"dark", F_ADJ},
    {"frozen", F_ADJ},
    {"grey", F_ADJ},
    {"hard", F_ADJ},
    {"hot", F_ADJ},
    {"scarlet", F_ADJ},
    {"shallow", F_ADJ},
    {"sharp", F_ADJ},
    {"warm", F_ADJ},
    {"close", F_ADJ},
    {"calm", F_ADJ},
    {"cruel", F_ADJ},
    {"drowned", F_ADJ},
    {"dull", F_ADJ},
    {"dead", F_ADJ},
    {"sick", F_ADJ},
    {"deep", F_ADJ},
    {"fast", F_ADJ},
    {"fleeting", F_ADJ},
    {"fragrant", F_ADJ},
    {"fresh", F_ADJ},
    {"loud", F_ADJ},
    {"moonlit", F_ADJ | F_AMB},
    {"sacred", F_ADJ},
    {"slow", F_ADJ},
    /* 129: people */
    {"traveller", F_NS},
    {"poet", F_NS},
    {"beggar", F_NS},
    {"monk", F_NS},
    {"warrior", F_NS},
    {"wife", F_NS},
    {"courtesan", F_NS},
    {"dancer", F_NS},
    {"daemon", F_NS},
    /* 138: animals */
    {"frog", F_NS},
    {"hawks", F_NPL},
    {"larks", F_NPL},
    {"cranes", F_NPL},
    {"crows", F_NPL},
    {"ducks", F_NPL},
    {"birds", F_NPL},
    {"skylark", F_NS},
    {"sparrows", F_NPL},
    {"minnows", F_NPL},
    {"snakes", F_NPL},
    {"dog", F_NS},
    {"monkeys", F_NPL},
    {"cats", F_NPL},
    {"cuckoos", F_NPL},
    {"mice", F_NPL},
    {"dragonfly", F_NS},
    {"butterfly", F_NS},
    {"firefly", F_NS},
    {"grasshopper", F_NS},
    {"mosquitos", F_NPL},
    /* 159: plants */
    {"trees", F_NPL | F_IN | F_AT},
    {"roses", F_NPL},
    {"cherries", F_NPL},
    {"flowers", F_NPL},
    {"lotuses", F_NPL},
    {"plums", F_NPL},
    {"poppies", F_NPL},
    {"violets", F_NPL},
    {"oaks", F_NPL | F_AT},
    {"pines", F_NPL | F_AT},
    {"chestnuts", F_NPL},
    {"clovers", F_NPL},
    {"leaves", F_NPL},
    {"petals", F_NPL},
    {"thorns", F_NPL},
    {"blossoms", F_NPL},
    {"vines", F_NPL},
    {"willows", F_NPL},
    /* 177: things */
    {"mountain", F_NS | F_AT | F_ON},
    {"moor", F_NS | F_AT | F_ON | F_IN},
    {"sea", F_NS | F_AT | F_ON | F_IN},
    {"shadow", F_NS | F_IN},
    {"skies", F_NPL | F_IN},
    {"moon", F_NS},
    {"star", F_NS},
    {"stone", F_NS},
    {"cloud", F_NS},
    {"bridge", F_NS | F_ON | F_AT},
    {"gate", F_NS | F_AT},
    {"temple", F_NS | F_IN | F_AT},
    {"hovel", F_NS | F_IN | F_AT},
    {"forest", F_NS | F_IN | F_AT},
    {"grave", F_NS | F_IN | F_AT | F_ON},
    {"stream", F_NS | F_IN | F_AT | F_ON},
    {"pond", F_NS | F_IN | F_AT | F_ON},
    {"island", F_NS | F_ON | F_AT},
    {"bell", F_NS},
    {"boat", F_NS | F_IN | F_ON},
    {"sailboat", F_NS | F_IN | F_ON},
    {"bon fire", F_NS | F_AT},
    {"straw mat", F_NS | F_ON},
    {"cup", F_NS | F_IN},
    {"nest", F_NS | F_IN},
    {"sun", F_NS | F_IN},
    {"village", F_NS | F_IN},
    {"tomb", F_NS | F_IN | F_AT},
    {"raindrop", F_NS | F_IN},
    {"wave", F_NS | F_IN},
    {"wind", F_NS | F_IN},
    {"tide", F_NS | F_IN | F_AT},
    {"fan", F_NS},
    {"hat", F_NS},
    {"sandal", F_NS},
    {"shroud", F_NS},
    {"pole", F_NS},
    /* 214: substances */
    {"water", F_ON | F_IN | F_MASS | F_AMB},
    {"air", F_ON | F_IN | F_MASS | F_AMB},
    {"mud", F_ON | F_IN | F_MASS | F_AMB},
    {"rain", F_IN | F_MASS | F_AMB},
    {"thunder", F_IN | F_MASS | F_AMB},
    {"ice", F_ON | F_IN | F_MASS | F_AMB},
    {"snow", F_ON | F_IN | F_MASS | F_AMB},
    {"salt", F_ON | F_IN | F_MASS},
    {"hail", F_IN | F_MASS | F_AMB},
    {"mist", F_IN | F_MASS | F_AMB},
    {"dew", F_IN | F_MASS | F_AMB},
    {"foam", F_IN | F_MASS | F_AMB},
    {"frost", F_IN | F_MASS | F_AMB},
    {"smoke", F_IN | F_MASS | F_AMB},
    {"twilight", F_IN | F_AT | F_MASS | F_AMB},
    {"earth", F_ON | F_IN | F_MASS},
    {"grass", F_ON | F_IN | F_MASS},
    {"bamboo", F_MASS},
    {"gold", F_MASS},
    {"grain", F_MASS},
    {"rice", F_MASS},
    {"tea", F_IN | F_MASS},
    {"light", F_IN | F_MASS | F_AMB},
    {"darkness", F_IN | F_MASS | F_AMB},
    {"firelight", F_IN | F_MASS | F_AMB},
    {"sunlight", F_IN | F_MASS | F_AMB},
    {"sunshine", F_IN | F_MASS | F_AMB},
    /* 241: abstract nouns and times */
    {"journey", F_NS | F_ON},
    {"serenity", F_MASS},
    {"dusk", F_TIMED},
    {"glow", F_NS},
    {"scent", F_NS},
    {"sound", F_NS},
    {"silence", F_NS},
    {"voice", F_NS},
    {"day", F_NS | F_TIMED},
    {"night", F_NS | F_TIMED},
    {"sunrise", F_NS | F_TIMED},
    {"sunset", F_NS | F_TIMED},
    {"midnight", F_NS | F_TIMED},
    {"equinox", F_NS | F_TIMEY},
    {"noon", F_NS | F_TIMED},
};
_Static_assert(sizeof(dict) / sizeof(dict[0]) == 256, "256 tokens");

/* The ten frames; 0 ends a frame. */
static const uint32_t frames[10][MAXH] = {
    {F_PREP, F_ADJ, F_MASS, S_NL, F_NPL, S_NL, F_INF | F_ING},
    {F_PREP, F_MASS, S_NL, F_ADJ, F_NPL, S_NL, F_INF | F_ING},
    {F_PREP, F_TIMED, S_NL, F_ADJ, F_NPL, S_NL, F_INF | F_ING},
    {F_PREP, F_TIMED, S_NL, S_A, F_NS, S_NL, F_ING},
    {F_TIME, F_AMB, S_NL, F_PREP, S_A, F_ADJ, F_NS, S_MD, S_NL, F_ADJ | F_ING},
    {F_TIME, F_AMB, S_NL, F_ADJ, F_MASS, S_NL, F_ING},
    {F_TIME, F_MASS, S_NL, F_INF, S_S, S_CO, S_NL, F_AMB},
    {F_ING, F_PREP, S_A, F_ADJ, F_NS, S_NL, F_MASS, F_ING, S_MD, S_NL, S_A,
     F_ADJ, F_NS},
    {F_ING, F_PREP, F_TIME, F_MASS, S_NL, F_MASS, F_ING, S_MD, S_NL, S_A, F_ADJ,
     F_NS},
    {S_A, F_NS, S_NL, F_PREP, F_TIMED, F_MASS, S_MD, S_NL, F_ADJ},
};

int
trigg_syntax(const uint8_t half[16])
{
    uint32_t sf[MAXH];

    for (int j = 0; j < MAXH; j++)
        sf[j] = dict[half[j]].fe;
    for (int f = 0; f < 10; f++) {
        const uint32_t *fp = frames[f];
        int j;

        for (j = 0; j < MAXH; j++) {
            if (fp[j] == 0) {
                /* the frame ended: the haiku must end here too */
                if (sf[j] == 0)
                    return 0;
                break;
            }
            if (fp[j] & F_XLIT) {
                if ((fp[j] & 0xff) != half[j])
                    break;
                continue;
            }
            if ((sf[j] & fp[j]) == 0)
                break;
        }
        if (j >= MAXH)
            return 0;
    }
    return -EBADMSG;
}

int
trigg_eval(const uint8_t hash[32], unsigned diff)
{
    unsigned n = diff >> 3;

    for (unsigned i = 0; i < n; i++)
        if (hash[i] != 0)
            return -EDOM;
    if ((diff & 7) == 0)
        return 0;
    return (hash[n] & ~(0xffu >> (diff & 7)) & 0xff) == 0 ? 0 : -EDOM;
}

size_t
trigg_expand(const uint8_t half[16], char out[256])
{
    size_t n = 0;

    memset(out, 0, 256);
    for (int i = 0; i < MAXH && half[i] != 0; i++) {
        const char *w = dict[half[i]].tok;
        size_t l = strlen(w);

        if (n + l + 1 > 256)
            break;
        memcpy(out + n, w, l);
        n += l;
        if (out[n - 1] != '\n')
            out[n++] = ' ';
    }
    return n;
}

int
trigg_check(const uint8_t t[160])
{
    struct crypto_sha256 c;
    char haiku[256];
    uint8_t h[32];

    if (trigg_syntax(t + 92) != 0 || trigg_syntax(t + 108) != 0)
        return PEACH_SYNTAX;
    trigg_expand(t + 92, haiku);
    crypto_sha256_init(&c);
    crypto_sha256_update(&c, t + 60, 32); /* mroot */
    crypto_sha256_update(&c, haiku, 256);
    crypto_sha256_update(&c, t + 108, 16); /* second nonce half */
    crypto_sha256_update(&c, t + 32, 8);   /* bnum */
    crypto_sha256_final(&c, h);
    return trigg_eval(h, t[56]) == 0 ? 0 : PEACH_MISS;
}

/* A random haiku fitting a random frame (for the test miner). */
void
trigg_generate(uint32_t (*rnd)(void *), void *arg, uint8_t out[16])
{
    const uint32_t *fp = frames[rnd(arg) % 10];

    for (int j = 0; j < MAXH; j++) {
        if (fp[j] == 0) {
            out[j] = 0;
        } else if (fp[j] & F_XLIT) {
            out[j] = (uint8_t)(fp[j] & 0xff);
        } else {
            uint8_t w;

            do
                w = (uint8_t)rnd(arg);
            while ((dict[w].fe & fp[j]) == 0);
            out[j] = w;
        }
    }
}
