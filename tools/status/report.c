/*
 * report.c - phasecast-status's table and JSON (see report.h).
 *
 * A histogram family arrives as flat samples (_bucket with `le`, _sum,
 * _count); they are grouped into series by their other labels, rendered
 * as `{a="b",...}` text, which is also the key. Buckets are sorted by
 * their bound before quantiles are estimated, so the order the server
 * wrote them in does not matter.
 */
#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "phasecast/alloc.h"

/* Widest series name column; longer names push their figures right. */
#define NAME_COL_MAX 64

double st_quantile(const double *le, const double *cum, size_t n, double q)
{
    if (n == 0 || !(cum[n - 1] > 0)) {
        return NAN;
    }
    double rank = q * cum[n - 1];
    size_t b = 0;
    while (b < n - 1 && cum[b] < rank) {
        b++;
    }
    if (isinf(le[b])) {
        return b > 0 ? le[b - 1] : NAN;
    }
    double lo = b > 0 ? le[b - 1] : (le[b] > 0 ? 0 : le[b]);
    double below = b > 0 ? cum[b - 1] : 0;
    double in = cum[b] - below;
    if (in <= 0) {
        return le[b];
    }
    return lo + (le[b] - lo) * (rank - below) / in;
}

/* `{a="b",c="d"}` for s's labels but skip (NULL: none); "" when none. */
static char *series_key(const pt_sample *s, const char *skip)
{
    size_t cap = 3;
    for (size_t i = 0; i < s->nlabels; i++) {
        cap += strlen(s->labels[i].name) + 2 * strlen(s->labels[i].value) + 4;
    }
    char *k = pc_malloc(cap);
    if (k == NULL) {
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < s->nlabels; i++) {
        if (skip != NULL && strcmp(s->labels[i].name, skip) == 0) {
            continue;
        }
        char sep = j == 0 ? '{' : ',';
        k[j++] = sep;
        size_t n = strlen(s->labels[i].name);
        memcpy(k + j, s->labels[i].name, n);
        j += n;
        k[j++] = '=';
        k[j++] = '"';
        for (const char *v = s->labels[i].value; *v != '\0'; v++) {
            if (*v == '"' || *v == '\\' || *v == '\n') {
                k[j++] = '\\';
            }
            k[j++] = *v == '\n' ? 'n' : *v;
        }
        k[j++] = '"';
    }
    if (j > 0) {
        k[j++] = '}';
    }
    k[j] = '\0';
    return k;
}

/* One histogram series. */
typedef struct hseries {
    char *key;
    const pt_sample *any; /* a sample of it, for its labels */
    double *le, *cum;
    size_t n;
    double sum, count;
} hseries;

typedef struct hgroup {
    hseries *s;
    size_t n;
} hgroup;

static void hgroup_free(hgroup *g)
{
    for (size_t i = 0; i < g->n; i++) {
        pc_free(g->s[i].key);
        pc_free(g->s[i].le);
        pc_free(g->s[i].cum);
    }
    pc_free(g->s);
}

static hseries *series_for(hgroup *g, const pt_sample *smp)
{
    char *key = series_key(smp, "le");
    if (key == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->s[i].key, key) == 0) {
            pc_free(key);
            return &g->s[i];
        }
    }
    hseries *s = pc_realloc(g->s, (g->n + 1) * sizeof *s);
    if (s == NULL) {
        pc_free(key);
        return NULL;
    }
    g->s = s;
    s = &g->s[g->n++];
    memset(s, 0, sizeof *s);
    s->key = key;
    s->any = smp;
    s->sum = s->count = NAN;
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Insert (le, cum) keeping le ascending. */
static bool add_bucket(hseries *s, double le, double cum)
{
    double *a = pc_realloc(s->le, (s->n + 1) * sizeof *a);
    if (a != NULL) {
        s->le = a;
    }
    double *b = a != NULL ? pc_realloc(s->cum, (s->n + 1) * sizeof *b) : NULL;
    if (b == NULL) {
        return false;
    }
    s->cum = b;
    size_t i = s->n;
    while (i > 0 && s->le[i - 1] > le) {
        s->le[i] = s->le[i - 1];
        s->cum[i] = s->cum[i - 1];
        i--;
    }
    s->le[i] = le;
    s->cum[i] = cum;
    s->n++;
    return true;
}

/* Group the samples of histogram family f into series. */
static pc_err group(const pt_family *f, hgroup *g)
{
    memset(g, 0, sizeof *g);
    for (size_t i = 0; i < f->nsamples; i++) {
        const pt_sample *smp = &f->samples[i];
        hseries *s = series_for(g, smp);
        if (s == NULL) {
            hgroup_free(g);
            return PC_ERR_NOMEM;
        }
        const char *le = pt_label_get(smp, "le");
        if (ends_with(smp->name, "_bucket") && le != NULL) {
            double bound = strcmp(le, "+Inf") == 0 ? INFINITY : atof(le);
            if (!add_bucket(s, bound, smp->value)) {
                hgroup_free(g);
                return PC_ERR_NOMEM;
            }
        } else if (ends_with(smp->name, "_sum")) {
            s->sum = smp->value;
        } else if (ends_with(smp->name, "_count")) {
            s->count = smp->value;
        }
    }
    return PC_OK;
}

/* A figure as text: durations for seconds, integers plainly. */
static void figure(double v, bool secs, char *buf, size_t cap)
{
    if (isnan(v)) {
        snprintf(buf, cap, "-");
    } else if (isinf(v)) {
        snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
    } else if (secs && fabs(v) < 1e-3) {
        snprintf(buf, cap, "%.1fus", v * 1e6);
    } else if (secs && fabs(v) < 1) {
        snprintf(buf, cap, "%.2fms", v * 1e3);
    } else if (secs) {
        snprintf(buf, cap, "%.3fs", v);
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, cap, "%.0f", v);
    } else {
        snprintf(buf, cap, "%g", v);
    }
}

static bool is_seconds(const pt_family *f)
{
    return strstr(f->name, "_seconds") != NULL;
}

static void row(FILE *to, const char *name, const char *key)
{
    int w = (int)(strlen(name) + strlen(key));
    fprintf(to, "  %s%s%*s", name, key, w < NAME_COL_MAX ? NAME_COL_MAX - w : 1,
            "");
}

static pc_err print_hist_rows(FILE *to, const pt_family *f)
{
    hgroup g;
    if (group(f, &g) != PC_OK) {
        return PC_ERR_NOMEM;
    }
    bool secs = is_seconds(f);
    for (size_t i = 0; i < g.n; i++) {
        const hseries *s = &g.s[i];
        double count = !isnan(s->count) ? s->count
                       : s->n > 0       ? s->cum[s->n - 1]
                                        : NAN;
        double avg = count > 0 ? s->sum / count : NAN;
        char c[32], a[32], p50[32], p99[32];
        figure(count, false, c, sizeof c);
        figure(avg, secs, a, sizeof a);
        figure(st_quantile(s->le, s->cum, s->n, 0.5), secs, p50, sizeof p50);
        figure(st_quantile(s->le, s->cum, s->n, 0.99), secs, p99, sizeof p99);
        row(to, f->name, s->key);
        fprintf(to, "%10s %10s %10s %10s\n", c, a, p50, p99);
    }
    hgroup_free(&g);
    return PC_OK;
}

pc_err st_print_table(FILE *to, const pt_doc *doc, const char *source)
{
    static const struct {
        pt_type type;
        const char *title;
    } kinds[] = {{PT_GAUGE, "Gauges"},
                 {PT_COUNTER, "Counters"},
                 {PT_HISTOGRAM, "Histograms"},
                 {PT_SUMMARY, "Summaries"},
                 {PT_UNTYPED, "Untyped"}};
    fprintf(to, "%s\n", source);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        bool titled = false;
        for (size_t i = 0; i < doc->nfamilies; i++) {
            const pt_family *f = &doc->families[i];
            if (f->type != kinds[k].type || f->nsamples == 0) {
                continue;
            }
            if (!titled) {
                fprintf(to, "\n%s", kinds[k].title);
                if (kinds[k].type == PT_HISTOGRAM) {
                    fprintf(to, "%*s%10s %10s %10s %10s",
                            NAME_COL_MAX + 2 - (int)strlen(kinds[k].title), "",
                            "count", "avg", "p50", "p99");
                }
                fputc('\n', to);
                titled = true;
            }
            if (f->type == PT_HISTOGRAM) {
                if (print_hist_rows(to, f) != PC_OK) {
                    return PC_ERR_NOMEM;
                }
                continue;
            }
            for (size_t j = 0; j < f->nsamples; j++) {
                const pt_sample *s = &f->samples[j];
                char *key = series_key(s, NULL);
                if (key == NULL) {
                    return PC_ERR_NOMEM;
                }
                char v[32];
                figure(s->value, is_seconds(f), v, sizeof v);
                row(to, s->name, key);
                fprintf(to, "%10s\n", v);
                pc_free(key);
            }
        }
    }
    return PC_OK;
}

/* ---- JSON ---------------------------------------------------------- */

static cJSON *num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static bool add(cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *labels_json(const pt_sample *s, const char *skip)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o != NULL && i < s->nlabels; i++) {
        if (skip != NULL && strcmp(s->labels[i].name, skip) == 0) {
            continue;
        }
        if (!add(o, s->labels[i].name,
                 cJSON_CreateString(s->labels[i].value))) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static bool hist_json(const pt_family *f, cJSON *list)
{
    hgroup g;
    if (group(f, &g) != PC_OK) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < g.n; i++) {
        const hseries *s = &g.s[i];
        double count = !isnan(s->count) ? s->count
                       : s->n > 0       ? s->cum[s->n - 1]
                                        : NAN;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            ok = false;
            break;
        }
        cJSON *b = NULL;
        ok = add(o, "labels", labels_json(s->any, "le")) &&
             add(o, "count", num(count)) && add(o, "sum", num(s->sum)) &&
             add(o, "avg", num(count > 0 ? s->sum / count : NAN)) &&
             add(o, "p50", num(st_quantile(s->le, s->cum, s->n, 0.5))) &&
             add(o, "p99", num(st_quantile(s->le, s->cum, s->n, 0.99))) &&
             (b = cJSON_AddArrayToObject(o, "buckets")) != NULL;
        for (size_t j = 0; ok && j < s->n; j++) {
            cJSON *e = cJSON_CreateObject();
            ok = e != NULL && cJSON_AddItemToArray(b, e) &&
                 add(e, "le",
                     isinf(s->le[j]) ? cJSON_CreateString("+Inf")
                                     : cJSON_CreateNumber(s->le[j])) &&
                 add(e, "count", num(s->cum[j]));
        }
    }
    hgroup_free(&g);
    return ok;
}

static bool family_json(const pt_family *f, cJSON *list)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(list, o)) {
        cJSON_Delete(o);
        return false;
    }
    bool hist = f->type == PT_HISTOGRAM;
    cJSON *items = NULL;
    if (!add(o, "name", cJSON_CreateString(f->name)) ||
        !add(o, "type", cJSON_CreateString(pt_type_name(f->type))) ||
        !add(o, "help", cJSON_CreateString(f->help)) ||
        (items = cJSON_AddArrayToObject(o, hist ? "series" : "samples")) ==
            NULL) {
        return false;
    }
    if (hist) {
        return hist_json(f, items);
    }
    for (size_t j = 0; j < f->nsamples; j++) {
        const pt_sample *s = &f->samples[j];
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(items, e) ||
            !add(e, "name", cJSON_CreateString(s->name)) ||
            !add(e, "labels", labels_json(s, NULL)) ||
            !add(e, "value", num(s->value))) {
            return false;
        }
    }
    return true;
}

pc_err st_print_json(FILE *to, const pt_doc *doc, const char *source)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *fams = NULL;
    bool ok = root != NULL && add(root, "source", cJSON_CreateString(source)) &&
              (fams = cJSON_AddArrayToObject(root, "families")) != NULL;
    for (size_t i = 0; ok && i < doc->nfamilies; i++) {
        if (doc->families[i].nsamples > 0) {
            ok = family_json(&doc->families[i], fams);
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (text == NULL) {
        return PC_ERR_NOMEM;
    }
    fprintf(to, "%s\n", text);
    cJSON_free(text);
    return PC_OK;
}
