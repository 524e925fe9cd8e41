/*
 * replay.h - phasecast-inspect import: replay an export through the
 * game's rules and check that every change comes out the same, so that a
 * recorded game becomes a regression test.
 *
 * The export (the `export` command's JSON lines) is read with
 * exportfile.h; its changes are grouped by the stimulus that made them
 * (each record's cause), each stimulus is fed to a room of the game again
 * at its recorded time, and what the room commits is compared, change by
 * change, with the records. It needs no change log and no server, only
 * the file and the game's code (tictactoe and piles from games/). It
 * does not check times, reasons or source locations (they may change
 * without changing the game), and it cannot replay what the export does
 * not hold: stimuli that committed nothing are not in it.
 * docs/inspector.md ("Replaying an export") is the guide.
 */
#ifndef PC_INSPECT_REPLAY_H
#define PC_INSPECT_REPLAY_H

#include "out.h"

/*
 * insp_import - the import command: argv holds the words after "import":
 * FILE ("-": standard input), --game NAME, --json and the game's options
 * (piles: piles_config_option's). Prints one summary line, or the first
 * divergence, on o->f (a JSON document with --json; errors go to o->err).
 * Sets o->json when --json is given. Returns the exit status: 0 the
 * export was reproduced exactly, 1 it diverged or could not be replayed
 * (a malformed export, an unknown game), 2 a bad command line.
 */
int insp_import(insp_out *o, int argc, char **argv);

#endif
