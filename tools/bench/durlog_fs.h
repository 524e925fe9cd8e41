/*
 * durlog_fs.h - phasecast-bench-durlog's working directory (internal to
 * the tool; see durlog_fs.c).
 */
#ifndef PC_BENCH_DURLOG_FS_H
#define PC_BENCH_DURLOG_FS_H

#include <stddef.h>

/* durlog_empty_dir - remove every file in dir (only the bench writes
 * there). */
void durlog_empty_dir(const char *dir);

/* durlog_describe_fs - what dir is on (file system type, device, mount
 * options), in one line written to out (n bytes). */
void durlog_describe_fs(const char *dir, char *out, size_t n);

#endif
