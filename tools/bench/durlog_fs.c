/*
 * durlog_fs.c - the files and file system of phasecast-bench-durlog's
 * working directory: emptying it between runs, and saying what it is on
 * (fsync costs depend on it). Split from bench_durlog.c, which measures.
 */
#define _GNU_SOURCE

#include "durlog_fs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#endif

/* Remove every file in dir (only this tool writes there). */
void durlog_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char p[PATH_MAX];
        if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) < (int)sizeof(p)) {
            unlink(p);
        }
    }
    closedir(d);
}

#ifdef __linux__
static const char *fs_magic_name(unsigned long magic)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } names[] = {
        {0xef53, "ext2/3/4"},  {0x01021994, "tmpfs"},     {0x58465342, "xfs"},
        {0x9123683e, "btrfs"}, {0x794c7630, "overlayfs"}, {0x6969, "nfs"},
        {0x2fc12fc1, "zfs"},   {0xf2f52010, "f2fs"},      {0x01021997, "9p"},
        {0x65735546, "fuse"},  {0x858458f6, "ramfs"},     {0x5346544e, "ntfs"},
        {0x4d44, "vfat"},      {0x6165676c, "pstorefs"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].magic == magic) {
            return names[i].name;
        }
    }
    return "unknown";
}

/* The mountinfo line of the mount holding dir (same device, longest mount
 * point that prefixes dir's real path): its type, source and options. */
static bool mount_of(const char *dir, char *out, size_t n)
{
    struct stat st;
    char real[PATH_MAX];
    if (stat(dir, &st) != 0 || realpath(dir, real) == NULL) {
        return false;
    }
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (f == NULL) {
        return false;
    }
    char line[4096];
    size_t best = 0;
    bool found = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned maj, min;
        char mnt[PATH_MAX], opts[512], type[64], src[PATH_MAX], sopts[512];
        if (sscanf(line, "%*d %*d %u:%u %*s %4095s %511s", &maj, &min, mnt,
                   opts) != 4) {
            continue;
        }
        const char *dash = strstr(line, " - ");
        if (dash == NULL ||
            sscanf(dash, " - %63s %4095s %511s", type, src, sopts) != 3) {
            continue;
        }
        size_t ml = strlen(mnt);
        bool prefix =
            strcmp(mnt, "/") == 0 || (strncmp(real, mnt, ml) == 0 &&
                                      (real[ml] == '/' || real[ml] == '\0'));
        if (maj != major(st.st_dev) || min != minor(st.st_dev) || !prefix ||
            ml < best) {
            continue;
        }
        best = ml;
        found = true;
        snprintf(out, n, "%.63s on %.700s from %.700s (%.250s; %.250s)", type,
                 mnt, src, opts, sopts);
    }
    fclose(f);
    return found;
}
#endif

/* What dir is on, in a line. */
void durlog_describe_fs(const char *dir, char *out, size_t n)
{
#ifdef __linux__
    struct statfs sf;
    if (statfs(dir, &sf) != 0) {
        snprintf(out, n, "unknown (statfs: %s)", strerror(errno));
        return;
    }
    unsigned long magic = (unsigned long)sf.f_type;
    char mount[2048];
    if (mount_of(dir, mount, sizeof(mount))) {
        snprintf(out, n, "%.2047s, statfs f_type 0x%lx (%s), block %ld", mount,
                 magic, fs_magic_name(magic), (long)sf.f_bsize);
    } else {
        snprintf(out, n, "%s (statfs f_type 0x%lx), block %ld",
                 fs_magic_name(magic), magic, (long)sf.f_bsize);
    }
#else
    snprintf(out, n, "unknown (not Linux)");
#endif
}
