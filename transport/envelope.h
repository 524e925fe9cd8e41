/*
 * envelope.h - the JSON shapes of wire protocol v1 that more than one
 * transport module builds: a CHANGE as some viewer sees it, checksums as
 * hex (internal; docs/protocol.md is the specification).
 */
#ifndef PC_TRANSPORT_ENVELOPE_H
#define PC_TRANSPORT_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/change.h"
#include "phasecast/error.h"
#include "phasecast/room.h"
#include "phasecast/view.h"

/* Checksum text: 16 lowercase hex digits and a NUL. */
#define PC__SUM_HEX 17

void pc__envelope_hex(uint64_t sum, char out[PC__SUM_HEX]);

/*
 * pc__envelope_change - the CHANGE object for c in the view of viewer
 * (the public, one player or the game master, who sees everything). after is
 * the whole state document right after c; it is read only when the game
 * declares private paths (then "patch" is the viewer's part of the patch and
 * "sum" the checksum of the viewer's view of after); otherwise c->patch and
 * c->checksum are used as they are. An event's name and data go out only to the
 * viewers its audience names (pc_view_event); for anyone else the CHANGE has no
 * "reason" and no "event", and "private" is true, as it is for every non-public
 * event. *out is a new tree the caller deletes. Returns PC_OK, PC_ERR_INVALID
 * or PC_ERR_NOMEM.
 */
pc_err pc__envelope_change(const pc_game *g, const pc_change *c,
                           const pc_viewer *viewer, const cJSON *after,
                           cJSON **out);

/* Apply c to doc (a whole state document the caller owns), as a client
 * replica would: merge the patch into "data", set "phase". Returns true,
 * or false when out of memory (doc may then be partly patched). */
bool pc__envelope_replay(cJSON *doc, const pc_change *c);

/* A growing byte buffer; zero-initialise, free with pc__text_free. */
typedef struct pc__text {
    char *buf;
    size_t len, cap;
} pc__text;

/* pc__text_put's slow path: grow t, then append. */
pc_err pc__text_grow_put(pc__text *t, const void *data, size_t n);

/* Append n bytes. Returns PC_OK or PC_ERR_NOMEM (t unchanged). Inline:
 * an envelope makes a dozen of these calls, nearly all of them fitting. */
static inline pc_err pc__text_put(pc__text *t, const void *data, size_t n)
{
    if (n > t->cap - t->len) {
        return pc__text_grow_put(t, data, n);
    }
    if (n > 0) {
        memcpy(t->buf + t->len, data, n);
        t->len += n;
    }
    return PC_OK;
}
void pc__text_free(pc__text *t);

/*
 * pc__envelope_change_text - append the text of the CHANGE object that
 * pc__envelope_change builds (same members, same values; the patch in
 * canonical form) to out, without building a tree for the envelope or
 * copying the patch. patch_text (patch_len bytes), when not NULL, is the
 * canonical text of c->patch (pc__room_patch_text), used instead of
 * printing it again wherever the viewer's patch is c->patch itself. On
 * failure out->len is back where it was. Returns PC_OK, PC_ERR_INVALID or
 * PC_ERR_NOMEM.
 */
pc_err pc__envelope_change_text(const pc_game *g, const pc_change *c,
                                const pc_viewer *viewer, const cJSON *after,
                                const char *patch_text, size_t patch_len,
                                pc__text *out);

/* Print tree without whitespace; *text is freed with cJSON_free. Returns
 * PC_OK or PC_ERR_NOMEM. */
pc_err pc__envelope_print(const cJSON *tree, char **text, size_t *len);

#endif
