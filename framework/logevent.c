/*
 * logevent.c - the "event" member of change-log records: written in an
 * event's change record, read back by the replay (docs/durability.md,
 * "The event object"), and the character rule for names.
 *
 * Both directions live here so that the shape is defined once. Reading is
 * strict: an event record without a well-formed event, or another record
 * with one, is reported, never guessed at. The data is written in
 * canonical form, so a record's bytes depend only on its content. This
 * module does no I/O.
 */
#include "logevent.h"

#include <string.h>

#include "phasecast/alloc.h"
#include "phasecast/canon.h"

/* The "audience" strings, indexed by pc_audience. */
static const char *const audiences[] = {"public", "player", "gm"};

bool pc__event_id_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n >= 1 && n <= PC_EVENT_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_.-") == n;
}

const char *pc__audience_name(pc_audience a)
{
    return (unsigned)a <= PC_AUDIENCE_GM ? audiences[a] : NULL;
}

pc_err pc__record_event(pc__buf *b, const pc_event *ev)
{
    static const cJSON null = {.type = cJSON_NULL};
    const char *audience = pc__audience_name(ev->audience);
    if (audience == NULL || ev->name == NULL) {
        return PC_ERR_INVALID;
    }
    pc__buf_str(b, ",\"event\":{\"name\":");
    pc__buf_json_str(b, ev->name);
    pc__buf_str(b, ",\"audience\":\"");
    pc__buf_str(b, audience);
    pc__buf_str(b, "\"");
    if (ev->audience == PC_AUDIENCE_PLAYER) {
        pc__buf_str(b, ",\"player\":");
        pc__buf_json_str(b, ev->player != NULL ? ev->player : "");
    }
    pc__buf_str(b, ",\"data\":");
    pc_err rv = pc__buf_canon(b, ev->data != NULL ? ev->data : &null);
    if (rv != PC_OK) {
        return rv;
    }
    pc__buf_str(b, "}");
    return b->nomem ? PC_ERR_NOMEM : PC_OK;
}

const char *pc__event_parse(const cJSON *rec, bool is_event, pc_event *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(rec, "event");
    if (!is_event) {
        return e == NULL ? NULL : "only an event's record has an \"event\"";
    }
    if (!cJSON_IsObject(e)) {
        return "an event's record needs an \"event\" object";
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
    const cJSON *audience = cJSON_GetObjectItemCaseSensitive(e, "audience");
    const cJSON *player = cJSON_GetObjectItemCaseSensitive(e, "player");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(e, "data");
    if (!cJSON_IsString(name) || !pc__event_id_ok(name->valuestring)) {
        return "\"name\" is not 1 to 64 of [A-Za-z0-9_.-]";
    }
    int a = 0;
    while (cJSON_IsString(audience) && a < 3 &&
           strcmp(audiences[a], audience->valuestring) != 0) {
        a++;
    }
    if (!cJSON_IsString(audience) || a == 3) {
        return "\"audience\" is not public, player or gm";
    }
    bool to_player = a == PC_AUDIENCE_PLAYER;
    if (to_player
            ? !cJSON_IsString(player) || !pc__event_id_ok(player->valuestring)
            : player != NULL) {
        return "\"player\" is not 1 to 64 of [A-Za-z0-9_.-] for audience "
               "player, or is present for another";
    }
    if (data == NULL) {
        return "\"data\" is missing";
    }
    out->name = name->valuestring;
    out->audience = (pc_audience)a;
    out->player = to_player ? player->valuestring : NULL;
    out->data = data;
    return NULL;
}
