/*
 * credfile.c - a credential from the first line of a private file (see
 * credfile.h). The checks run on the open file (fstat), so the file
 * checked is the file read.
 */
#include "credfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "phasecast/server.h"

_Static_assert(CREDFILE_BUF >= PC_SERVER_CREDENTIAL_MAX + 2,
               "CREDFILE_BUF must hold the longest credential, a NUL and "
               "one more byte");

bool credfile_read(const char *prog, const char *what, const char *file,
                   char *buf, size_t cap)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, file,
                strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s: %s is not a regular file\n", prog, file);
        fclose(f);
        return false;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        fprintf(stderr,
                "%s: other users may read or write %s; %s must stay secret "
                "(chmod o-rw %s)\n",
                prog, file, what, file);
        fclose(f);
        return false;
    }
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    /* fgets stops after cap - 1 > PC_SERVER_CREDENTIAL_MAX bytes, so a
     * longer line shows as one over the maximum. */
    size_t n = ok ? strcspn(buf, "\r\n") : 0;
    if (ok) {
        buf[n] = '\0';
    }
    if (n == 0) {
        fprintf(stderr, "%s: %s holds no credential on its first line (%s)\n",
                prog, file, what);
        return false;
    }
    if (n > PC_SERVER_CREDENTIAL_MAX) {
        fprintf(stderr,
                "%s: the credential on the first line of %s is longer than "
                "%d characters\n",
                prog, file, PC_SERVER_CREDENTIAL_MAX);
        return false;
    }
    return true;
}

bool credfile_well_formed(const char *cred)
{
    size_t n = strlen(cred);
    for (size_t i = 0; i < n; i++) {
        if (cred[i] <= ' ' || cred[i] > '~') {
            return false;
        }
    }
    return n >= 16 && n <= PC_SERVER_CREDENTIAL_MAX;
}

void credfile_wipe(char *buf, size_t n)
{
    volatile char *p = buf;
    for (size_t i = 0; i < n; i++) {
        p[i] = 0;
    }
}
