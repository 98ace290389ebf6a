/*
 * tests/unit/ut.h - the smallest test harness that does the job.
 *
 * UT_CHECK(cond) records a failure with file and line and goes on;
 * UT_CASE(name) names the case the following checks belong to;
 * UT_SKIP(why) ends the current case as skipped, visibly ("SKIP case:
 * why"), so a case that cannot run here never passes with no checks;
 * ut_done() prints "<suite>: N passed, N failed" (", N skipped" when
 * any were) and returns the exit status.  A case passes when none of
 * its checks failed.  Include once per test program.
 */
#ifndef UT_H
#define UT_H

#include <stdio.h>
#include <string.h>

static const char *ut_suite = "unit";
static const char *ut_case_name;
static int ut_case_failed, ut_passed, ut_failed, ut_skipped;

static void
ut_end_case(void)
{
    if (ut_case_name == NULL)
        return;
    if (ut_case_failed)
        ut_failed++;
    else
        ut_passed++;
    ut_case_name = NULL;
}

static void
ut_begin(const char *name)
{
    ut_end_case();
    ut_case_name = name;
    ut_case_failed = 0;
}

#define UT_CASE(name) ut_begin(name)

#define UT_SKIP(why)                                                           \
    do {                                                                       \
        printf("SKIP %s: %s\n", ut_case_name ? ut_case_name : "?", (why));     \
        ut_skipped++;                                                          \
        ut_case_name = NULL;                                                   \
    } while (0)

#define UT_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("FAIL %s: %s:%d: %s\n", ut_case_name ? ut_case_name : "?",  \
                   __FILE__, __LINE__, #cond);                                 \
            ut_case_failed = 1;                                                \
        }                                                                      \
    } while (0)

#define UT_CHECK_EQ(a, b)                                                      \
    do {                                                                       \
        long long ut_a_ = (long long)(a), ut_b_ = (long long)(b);              \
        if (ut_a_ != ut_b_) {                                                  \
            printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n",                \
                   ut_case_name ? ut_case_name : "?", __FILE__, __LINE__, #a,  \
                   #b, ut_a_, ut_b_);                                          \
            ut_case_failed = 1;                                                \
        }                                                                      \
    } while (0)

static int
ut_done(void)
{
    ut_end_case();
    if (ut_skipped > 0)
        printf("%s: %d passed, %d failed, %d skipped\n", ut_suite, ut_passed,
               ut_failed, ut_skipped);
    else
        printf("%s: %d passed, %d failed\n", ut_suite, ut_passed, ut_failed);
    return ut_failed == 0 && ut_passed > 0 ? 0 : 1;
}

#endif
