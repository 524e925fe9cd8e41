/*
 * view_example.c - declaring private data and reading each viewer's view.
 *
 * A two-player card table: each hand is private to its owner, the deck to
 * nobody. The example checks what the public, alice and bob each see, and
 * that a filtered patch keeps a viewer's replica exact.
 */
#include <stdio.h>
#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"
#include "phasecast/json.h"
#include "phasecast/merge.h"
#include "phasecast/view.h"

static const pc_phase phases[] = {{.name = "PLAY"}};
static const char *const secrets[] = {"/hands/{player}", "/deck", NULL};
static const pc_game table = {
    .name = "table", .phases = phases, .nphases = 1, .private_paths = secrets};

static int check_text(const cJSON *doc, const char *want, const char *what)
{
    char *text = NULL;
    if (pc_canon_print(doc, &text, NULL) != PC_OK) {
        return 1;
    }
    int bad = strcmp(text, want) != 0;
    if (bad) {
        fprintf(stderr, "%s: got %s, want %s\n", what, text, want);
    }
    pc_free(text);
    return bad;
}

int main(void)
{
    const char *text = "{\"phase\":\"PLAY\",\"data\":{\"hands\":{\"alice\":"
                       "[\"K\"],\"bob\":[\"2\"]},\"deck\":[\"A\"],"
                       "\"turn\":\"bob\"}}";
    cJSON *state = NULL;
    if (pc_json_parse(text, strlen(text), NULL, &state, NULL) != PC_OK) {
        return 1;
    }
    int bad = 0;
    cJSON *pub = NULL, *alice = NULL;
    if (pc_view_state(&table, state, NULL, &pub) != PC_OK ||
        pc_view_state(&table, state, "alice", &alice) != PC_OK) {
        return 1;
    }
    bad |= check_text(pub,
                      "{\"data\":{\"hands\":{},\"turn\":\"bob\"},"
                      "\"phase\":\"PLAY\"}",
                      "public view");
    bad |= check_text(alice,
                      "{\"data\":{\"hands\":{\"alice\":[\"K\"]},"
                      "\"turn\":\"bob\"},\"phase\":\"PLAY\"}",
                      "alice's view");

    /* Bob draws: the public learns only that it is alice's turn. */
    const char *draw = "{\"hands\":{\"bob\":[\"2\",\"A\"]},\"deck\":[],"
                       "\"turn\":\"alice\"}";
    cJSON *patch = NULL, *pub_patch = NULL;
    bool touched_private = false;
    if (pc_json_parse(draw, strlen(draw), NULL, &patch, NULL) != PC_OK ||
        pc_view_patch(&table, patch, NULL, &pub_patch, &touched_private) !=
            PC_OK) {
        return 1;
    }
    bad |= !touched_private;
    bad |= check_text(pub_patch, "{\"hands\":{},\"turn\":\"alice\"}",
                      "public patch");

    /* The public replica stays exact: its checksum is the public view's. */
    cJSON *data = cJSON_GetObjectItemCaseSensitive(state, "data");
    cJSON *pub_data = cJSON_GetObjectItemCaseSensitive(pub, "data");
    uint64_t want = 0, got = 0;
    if (pc_merge_patch_inplace(data, patch) != PC_OK ||
        pc_merge_patch_inplace(pub_data, pub_patch) != PC_OK ||
        pc_view_checksum(&table, state, NULL, &want) != PC_OK ||
        pc_canon_checksum(pub, &got, NULL) != PC_OK) {
        return 1;
    }
    bad |= want != got;

    cJSON_Delete(pub_patch);
    cJSON_Delete(patch);
    cJSON_Delete(alice);
    cJSON_Delete(pub);
    cJSON_Delete(state);
    if (!bad) {
        printf("view_example: ok\n");
    }
    return bad;
}
