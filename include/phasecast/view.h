/*
 * phasecast/view.h - what each viewer of a room may see.
 *
 * A game declares its private data once, as path patterns into "data"
 * (pc_game.private_paths). A pattern is a JSON Pointer whose segments are
 * member names, "*" (any member) or "{player}" (any member, owned by the
 * player whose id is that member's name):
 *
 *     "/hands/{player}"          each hand is seen only by its owner
 *     "/players/{player}/notes"  each player's notes, ditto
 *     "/deck"                    nobody sees the deck
 *
 * A member matched by a pattern is private. Its owner (the player named by
 * the {player} segment, if the pattern has one) and the game master see
 * it; nobody else does: the public view (spectators and the broadcast)
 * never contains private members, a player's view contains only the
 * private members that player owns, and the game master's view is the
 * whole state. A pattern without {player} ("/deck", "/gm_notes") is
 * therefore game-master-only data: no player and no spectator sees it.
 * Three kinds of viewer (pc_viewer): the public, one player, the game
 * master. The functions taking a player id (NULL: the public) are the
 * same as their _as forms with pc_viewer_of(player). Patterns address object
 * members only; array elements are never matched, so keep secrets in objects.
 *
 * The same filter applies to states and to merge patches, and it commutes
 * with merging: view(merge(state, patch)) == merge(view(state),
 * view(patch)) for every viewer, which is what lets a client keep a viewer
 * replica from filtered patches alone. Reasons and error messages are not
 * filtered (they are free text): keep secrets out of them. Events
 * (pc_room_event_to) have an audience instead of a path: public, one
 * player (like a member that player owns) or the game master (like a
 * member nobody owns; the game master sees every event); pc_view_event
 * applies it. Functions are
 * pure and may be
 * called from any thread on trees the caller owns.
 */
#ifndef PHASECAST_VIEW_H
#define PHASECAST_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "phasecast/error.h"
#include "phasecast/room.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who is looking. */
typedef enum pc_viewer_kind {
    PC_VIEWER_PUBLIC = 0, /* spectators and the broadcast */
    PC_VIEWER_PLAYER = 1, /* one player: the public view plus what it owns */
    PC_VIEWER_GM = 2      /* the game master: everything */
} pc_viewer_kind;

/* A viewer: its kind and, for PC_VIEWER_PLAYER, the player's id
 * (borrowed; NULL for the other kinds). */
typedef struct pc_viewer {
    pc_viewer_kind kind;
    const char *player;
} pc_viewer;

/* pc_viewer_of - the viewer for a player id, or the public for NULL. */
pc_viewer pc_viewer_of(const char *player);

/* Most private-path patterns a game may declare, and most segments each. */
#define PC_VIEW_PATTERNS_MAX 32
#define PC_VIEW_SEGMENTS_MAX 16

/*
 * pc_view_check_game - validate game->private_paths (NULL-terminated
 * array, may be NULL): at most PC_VIEW_PATTERNS_MAX patterns of at most
 * PC_VIEW_SEGMENTS_MAX segments, each a JSON Pointer starting with '/',
 * at most one "{player}" segment. pc_room_new calls this. Returns PC_OK or
 * PC_ERR_INVALID.
 */
pc_err pc_view_check_game(const pc_game *game);

/* pc_view_has_private - true if the game declares any private path. */
bool pc_view_has_private(const pc_game *game);

/*
 * pc_view_state - the view of a whole state document {"phase", "data"}
 * for player (NULL: the public view). *out receives a new tree the caller
 * frees with cJSON_Delete. Returns PC_OK, PC_ERR_INVALID or PC_ERR_NOMEM.
 */
pc_err pc_view_state(const pc_game *game, const cJSON *doc, const char *player,
                     cJSON **out);

/* pc_view_state_as - pc_view_state for any viewer (a game master's view
 * is a copy of doc). Also PC_ERR_INVALID for a bad viewer (NULL, an
 * unknown kind, a player viewer without a player). */
pc_err pc_view_state_as(const pc_game *game, const cJSON *doc,
                        const pc_viewer *viewer, cJSON **out);

/*
 * pc_view_patch - the view of a merge patch on "data" for player (NULL:
 * public). *private_out (may be NULL) is set to true when the patch
 * touches any private member (for anyone). *out receives a new tree (an
 * object, possibly {}) the caller frees with cJSON_Delete. Returns PC_OK,
 * PC_ERR_INVALID or PC_ERR_NOMEM.
 */
pc_err pc_view_patch(const pc_game *game, const cJSON *patch,
                     const char *player, cJSON **out, bool *private_out);

/* pc_view_patch_as - pc_view_patch for any viewer (a game master's view is
 * a copy of patch; *private_out still says whether it touches private
 * members). Also PC_ERR_INVALID for a bad viewer. */
pc_err pc_view_patch_as(const pc_game *game, const cJSON *patch,
                        const pc_viewer *viewer, cJSON **out,
                        bool *private_out);

/*
 * pc_view_event - whether player (NULL: the public, that is spectators and
 * the broadcast) may see ev, an event's audience (change.h): a public
 * event is seen by everyone, a player's only by that player, a game
 * master's by no player and nobody in public. An event a viewer may not
 * see is still a change in that viewer's sequence: send its seq, never
 * its name, data or reason (docs/protocol.md). ev NULL (not an event)
 * gives true.
 */
bool pc_view_event(const pc_event *ev, const char *player);

/* pc_view_event_as - pc_view_event for any viewer: the game master sees
 * every event. A bad viewer sees only public events. */
bool pc_view_event_as(const pc_event *ev, const pc_viewer *viewer);

/*
 * pc_view_checksum - pc_canon_checksum of pc_view_state(game, doc,
 * player), computed the same way a client computes it over its replica.
 * Returns PC_OK, PC_ERR_INVALID or PC_ERR_NOMEM.
 */
pc_err pc_view_checksum(const pc_game *game, const cJSON *doc,
                        const char *player, uint64_t *sum);

/* pc_view_checksum_as - pc_view_checksum for any viewer; the game
 * master's is the state's own checksum (pc_room_checksum). Also
 * PC_ERR_INVALID for a bad viewer. */
pc_err pc_view_checksum_as(const pc_game *game, const cJSON *doc,
                           const pc_viewer *viewer, uint64_t *sum);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_VIEW_H */
