/*
 * changelog.h - what recovery (changelog_recover.c) may see of the change
 * log's writer (internal; the public API is phasecast/changelog.h).
 */
#ifndef PC_FRAMEWORK_CHANGELOG_H
#define PC_FRAMEWORK_CHANGELOG_H

#include <stdint.h>

#include "phasecast/changelog.h"

/* A log object for room id in o->dir with no file open yet. Returns
 * PC_OK, PC_ERR_NOMEM or PC_ERR_INVALID (path too long). */
pc_err pc__changelog_new(const pc_changelog_options *o, const char *id,
                         pc_changelog **out, pc_error *err);
/* Continue an existing file: fd open for appending, size bytes valid,
 * since_base change records after its base. */
void pc__changelog_adopt(pc_changelog *log, int fd, uint64_t size,
                         uint64_t base_seq, uint64_t since_base);
/* The path of the log's temporary file (creation, compaction). */
const char *pc__changelog_tmp(const pc_changelog *log);
/* The journal function pc_changelog_create installs. */
pc_err pc__changelog_journal(pc_room *room, const pc_change *c, pc_error *why,
                             void *arg);
/* The journal's timer half: a timer record (pc_journal_timer_fn). */
void pc__changelog_timer(pc_room *room, int64_t deadline_ms, void *arg);

#endif
