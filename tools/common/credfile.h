/*
 * credfile.h - read a secret (the inspector's or a game master's
 * credential) from a file for the command-line tools, never from their
 * command line, where any user can read it in the process list. Not
 * installed; shared by phasecast-serve and phasecast-play.
 *
 * It refuses a file that is not a regular file, that other users may read
 * or write, whose first line is empty, or longer than
 * PC_SERVER_CREDENTIAL_MAX; whether the credential is well-formed is the
 * server's to say. Its messages never hold the secret.
 */
#ifndef PHASECAST_TOOLS_CREDFILE_H
#define PHASECAST_TOOLS_CREDFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Room for a credential read by credfile_read, its NUL and the byte that
 * shows a line is too long. */
#define CREDFILE_BUF 132

/*
 * credfile_read - put FILE's first line (without its CR/LF) into buf (cap
 * bytes, at least CREDFILE_BUF). On a problem print one line to stderr,
 * "PROG: ..." naming WHAT (e.g. "the game master's credential"), and
 * return false; buf may then hold part of the file, so wipe it anyway.
 */
bool credfile_read(const char *prog, const char *what, const char *file,
                   char *buf, size_t cap);

/* credfile_well_formed - true if cred has the form the server accepts for
 * a credential: 16 to PC_SERVER_CREDENTIAL_MAX printable ASCII characters
 * without spaces (include/phasecast/server.h). */
bool credfile_well_formed(const char *cred);

/* credfile_wipe - overwrite n bytes of buf (stores the compiler keeps). */
void credfile_wipe(char *buf, size_t n);

#endif
