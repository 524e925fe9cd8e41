/*
 * durlog_out.c - phasecast-bench-durlog's output: the append and recovery
 * tables on stdout and the --json file. Split from bench_durlog.c, which
 * measures.
 */
#define _GNU_SOURCE /* PATH_MAX, as bench_durlog.c */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "durlog.h"

void durlog_print_append(const config *c, const append_row *rs, int n)
{
    printf("\nAppend: %d rooms in turn, one small patch per change, %.1f s "
           "per row (+%.1f s warm-up)\n",
           c->rooms, c->seconds, c->seconds / 10);
    printf("%-9s %5s %9s %10s %8s %8s %8s %9s %9s %7s %8s %8s\n", "fsync", "kf",
           "changes", "changes/s", "mean us", "p50 us", "p99 us", "p99.9 us",
           "max us", "B/chg", "fsync/ch", "x no-log");
    for (int i = 0; i < n; i++) {
        const append_row *r = &rs[i];
        char kf[16] = "-", bpc[16] = "-", spc[16] = "-";
        if (r->logged) {
            snprintf(kf, sizeof(kf), "%" PRIu64, r->keyframe);
            snprintf(bpc, sizeof(bpc), "%.0f", r->bytes_per_change);
            snprintf(spc, sizeof(spc), "%.4f", r->syncs_per_change);
        }
        printf("%-9s %5s %9" PRIu64 " %10.0f %8.2f %8.2f %8.2f %9.1f %9.1f "
               "%7s %8s %7.2fx\n",
               r->policy_name, kf, r->changes, r->per_s, r->mean_ns / 1e3,
               r->p50_ns / 1e3, r->p99_ns / 1e3, r->p999_ns / 1e3,
               r->max_ns / 1e3, bpc, spc, r->vs_baseline);
    }
    printf("\n%-9s %5s %10s %10s %11s %14s %8s\n", "fsyncs", "kf", "in update",
           "host sync", "compaction", "host sync ms", "checked");
    for (int i = 0; i < n; i++) {
        const append_row *r = &rs[i];
        if (!r->logged) {
            continue;
        }
        printf("%-9s %5" PRIu64 " %10" PRIu64 " %10" PRIu64 " %11" PRIu64
               " %14.1f %8s\n",
               r->policy_name, r->keyframe, r->inline_syncs, r->host_syncs,
               r->compactions, r->host_sync_ms, r->checked ? "yes" : "-");
    }
}

void durlog_print_recover(const recover_row *rs, int n, int reps)
{
    printf("\nRecovery (fsync none while writing; median of %d, page cache "
           "warm; cold: once, after fdatasync + POSIX_FADV_DONTNEED)\n",
           reps);
    printf("%5s %9s %8s %9s %9s %11s %7s %9s %11s %7s %9s %6s\n", "kf",
           "written", "records", "file MB", "verify s", "records/s", "MB/s",
           "recover s", "records/s", "MB/s", "cold s", "same");
    for (int i = 0; i < n; i++) {
        const recover_row *r = &rs[i];
        double mb = (double)r->file_bytes / 1e6;
        printf("%5" PRIu64 " %9" PRIu64 " %8" PRIu64 " %9.2f %9.4f %11.0f "
               "%7.1f %9.4f %11.0f %7.1f %8.4f%s %6s\n",
               r->keyframe, r->written, r->records, mb, r->verify_s,
               (double)r->records / r->verify_s, mb / r->verify_s, r->recover_s,
               (double)r->records / r->recover_s, mb / r->recover_s, r->cold_s,
               r->cold_dropped ? " " : "?", r->ok ? "yes" : "NO");
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

void durlog_write_json(FILE *f, const config *c, const char *build,
                       const char *fs, size_t state_bytes, const append_row *ar,
                       int na, const recover_row *rr, int nr)
{
    fprintf(f, "{\"bench\":\"durlog\",\"build\":\"%s\",\"dir\":", build);
    json_str(f, c->dir);
    fprintf(f, ",\"filesystem\":");
    json_str(f, fs);
    fprintf(f,
            ",\"rooms\":%d,\"state_bytes\":%zu,\"seconds\":%.3f,"
            "\"sync_ms\":%.0f,\"append\":[",
            c->rooms, state_bytes, c->seconds, (double)c->sync_ns / 1e6);
    for (int i = 0; i < na; i++) {
        const append_row *r = &ar[i];
        fprintf(
            f,
            "%s\n{\"fsync\":\"%s\",\"logged\":%s,\"keyframe_every\":%" PRIu64
            ",\"changes\":%" PRIu64 ",\"wall_s\":%.4f,"
            "\"changes_per_s\":%.0f,\"mean_ns\":%.0f,\"p50_ns\":%.0f,"
            "\"p99_ns\":%.0f,\"p999_ns\":%.0f,\"max_ns\":%.0f,"
            "\"bytes_per_change\":%.1f,\"fsyncs_per_change\":%.6f,"
            "\"fsyncs\":%" PRIu64 ",\"fsyncs_in_update\":%" PRIu64
            ",\"fsyncs_host\":%" PRIu64 ",\"compactions\":%" PRIu64
            ",\"host_sync_ms\":%.2f,\"vs_no_log\":%.3f,\"checked\":%s}",
            i ? "," : "", r->policy_name, r->logged ? "true" : "false",
            r->keyframe, r->changes, r->wall_s, r->per_s, r->mean_ns, r->p50_ns,
            r->p99_ns, r->p999_ns, r->max_ns, r->bytes_per_change,
            r->syncs_per_change, r->syncs, r->inline_syncs, r->host_syncs,
            r->compactions, r->host_sync_ms, r->vs_baseline,
            r->checked ? "true" : "false");
    }
    fprintf(f, "],\"recovery\":[");
    for (int i = 0; i < nr; i++) {
        const recover_row *r = &rr[i];
        fprintf(f,
                "%s\n{\"keyframe_every\":%" PRIu64 ",\"written\":%" PRIu64
                ",\"records\":%" PRIu64 ",\"file_bytes\":%" PRIu64
                ",\"write_s\":%.4f,\"verify_s\":%.5f,\"recover_s\":%.5f,"
                "\"recover_cold_s\":%.5f,\"cold_dropped\":%s,\"reps\":%d,"
                "\"same\":%s}",
                i ? "," : "", r->keyframe, r->written, r->records,
                r->file_bytes, r->write_s, r->verify_s, r->recover_s, r->cold_s,
                r->cold_dropped ? "true" : "false", c->reps,
                r->ok ? "true" : "false");
    }
    fprintf(f, "]}\n");
}
