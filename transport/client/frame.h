/*
 * frame.h - the client's fast decoder for the broadcast's "changes"
 * frames (internal; the public API is phasecast/client.h, the format
 * docs/protocol.md "Broadcast (PUB)").
 *
 * The general path parses a whole frame into a cJSON tree, checks the
 * tree, decodes each CHANGE from it and deletes it. This decoder takes
 * only frames in the plain shape the server writes and builds a tree for
 * each patch alone: the envelope's own members are read from the text.
 * It is a shortcut, not a second grammar: it reads the envelope strictly
 * in a narrow subset of JSON, every patch still passes the strict scan and
 * pc_json_check within the whole frame's limits, and anything it does not
 * recognise exactly (an unknown or repeated member, an escape or a byte
 * outside printable ASCII in an envelope string, a number that is not a
 * plain integer, an event) makes it decline, and the general path then
 * decides as it always did. It never accepts a frame the general path
 * would refuse and yields the same changes for every frame it takes
 * (tests/test_client_frame.c, tests/fuzz/fuzz_frame.c).
 */
#ifndef PC_CLIENT_FRAME_H
#define PC_CLIENT_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "phasecast/error.h"
#include "phasecast/json.h"

#include "wire.h"

/* The changes of one decoded frame, kept between frames so that a frame
 * costs no allocation but its patches. */
typedef struct pc__frame {
    pc__wire_change *v; /* n decoded changes; each patch is owned */
    size_t n, cap;
    char *strings; /* NUL-terminated phases and reasons of v */
    size_t strings_cap;
} pc__frame;

/* pc__frame_init - an empty frame. */
void pc__frame_init(pc__frame *f);

/*
 * pc__frame_decode - decode the len bytes at text (the body after the
 * topic) as a "changes" frame of room, within lim. On PC_OK, *taken says
 * whether it did: if true, f holds the frame's changes in order (release
 * them with pc__frame_clear); if false, f is empty and the caller must use
 * the general path, which also reports what is wrong, if anything.
 * Returns PC_OK or PC_ERR_NOMEM (f empty).
 */
pc_err pc__frame_decode(pc__frame *f, const char *text, size_t len,
                        const char *room, const pc_json_limits *lim,
                        bool *taken);

/* pc__frame_clear - delete the decoded patches; f stays usable. */
void pc__frame_clear(pc__frame *f);

/* pc__frame_fini - free everything f holds. */
void pc__frame_fini(pc__frame *f);

#endif
