/*
 * lib/klog.h - the one way keel and keel-boot report events: a line on
 * stderr ("keel: ..." / "keel-boot: ...") and, once a sink is set, the
 * same text to the persistent log (store/logring.h).  Severities are the
 * log ring's (KLOG_ERR = LOG_ERR, ...).
 */
#ifndef LIB_KLOG_H
#define LIB_KLOG_H

#define KLOG_ERR 0
#define KLOG_WARN 1
#define KLOG_INFO 2
#define KLOG_DEBUG 3

/* The program name of the stderr prefix ("keel" by default). */
void klog_prog(const char *name);
/* Where each line goes besides stderr (NULL: nowhere). */
void klog_sink(void (*fn)(void *arg, int sev, const char *text), void *arg);
/* 1: lines go to the sink only, not to stderr (a file transfer holds
 * the console line); 0: both again. */
void klog_quiet(int on);
/* printf-style; a trailing newline is dropped. */
void klog(int sev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
