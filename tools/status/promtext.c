/*
 * promtext.c - the Prometheus text format reader (see promtext.h).
 *
 * One pass over the lines. Each line is checked against the format's
 * grammar where it is read: `# HELP name text`, `# TYPE name type`, other
 * comments (ignored), blank lines, and samples
 * `name{label="value",...} value [timestamp]`. A sample joins the family
 * of its own name, or - for a histogram or summary - the family its name
 * minus _bucket, _sum or _count belongs to; a sample of a name never
 * typed makes an untyped family. Families are found by a linear scan
 * starting with the last one used, which is nearly always the one, and
 * their number is bounded by the limits.
 */
#include "promtext.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasecast/alloc.h"

void pt_limits_default(pt_limits *l)
{
    l->max_bytes = (size_t)8 << 20;
    l->max_line = 16384;
    l->max_samples = 100000;
    l->max_families = 1000;
    l->max_labels = 32;
}

const char *pt_type_name(pt_type t)
{
    switch (t) {
    case PT_COUNTER:
        return "counter";
    case PT_GAUGE:
        return "gauge";
    case PT_HISTOGRAM:
        return "histogram";
    case PT_SUMMARY:
        return "summary";
    default:
        return "untyped";
    }
}

/* The parser's state: the document, the line and the first error. */
typedef struct parser {
    pt_doc *doc;
    const pt_limits *lim;
    size_t lineno;
    pc_error *err;
    pt_family *last; /* the family the last sample joined */
} parser;

static pc_err bad(parser *p, const char *what)
{
    return pc_error_set(p->err, PC_ERR_INVALID, "bad_metrics", "line %zu: %s",
                        p->lineno, what);
}

static pc_err nomem(parser *p)
{
    return pc_error_set(p->err, PC_ERR_NOMEM, NULL, "out of memory");
}

static char *dup_n(const char *s, size_t n)
{
    char *d = pc_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static bool name_start(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (colon && c == ':');
}

static bool name_char(char c, bool colon)
{
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* The length of the metric (colon) or label name at s[0..n), 0 if none. */
static size_t name_len(const char *s, size_t n, bool colon)
{
    if (n == 0 || !name_start(s[0], colon)) {
        return 0;
    }
    size_t i = 1;
    while (i < n && name_char(s[i], colon)) {
        i++;
    }
    return i;
}

static void skip_blanks(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t')) {
        (*i)++;
    }
}

static pt_family *find(parser *p, const char *name, size_t n)
{
    if (p->last != NULL && strlen(p->last->name) == n &&
        memcmp(p->last->name, name, n) == 0) {
        return p->last;
    }
    for (size_t i = 0; i < p->doc->nfamilies; i++) {
        pt_family *f = &p->doc->families[i];
        if (strlen(f->name) == n && memcmp(f->name, name, n) == 0) {
            return f;
        }
    }
    return NULL;
}

static pc_err add_family(parser *p, const char *name, size_t n, pt_family **out)
{
    pt_doc *d = p->doc;
    if (d->nfamilies >= p->lim->max_families) {
        return pc_error_set(p->err, PC_ERR_LIMIT, "limit_exceeded",
                            "line %zu: more than %zu metric families",
                            p->lineno, p->lim->max_families);
    }
    if (d->nfamilies == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        pt_family *f = pc_realloc(d->families, cap * sizeof *f);
        if (f == NULL) {
            return nomem(p);
        }
        d->families = f;
        d->cap = cap;
        p->last = NULL; /* it pointed into the old array */
    }
    pt_family *f = &d->families[d->nfamilies];
    memset(f, 0, sizeof *f);
    f->name = dup_n(name, n);
    f->help = dup_n("", 0);
    if (f->name == NULL || f->help == NULL) {
        pc_free(f->name);
        pc_free(f->help);
        return nomem(p);
    }
    d->nfamilies++;
    *out = f;
    return PC_OK;
}

/* Unescape s[0..n) (HELP: \\ and \n; label values also \") into a new
 * string; false for a bad escape. */
static pc_err unescape(parser *p, const char *s, size_t n, bool quotes,
                       char **out)
{
    char *d = pc_malloc(n + 1);
    if (d == NULL) {
        return nomem(p);
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            d[j++] = s[i];
            continue;
        }
        char c = i + 1 < n ? s[++i] : '\0';
        if (c == 'n') {
            d[j++] = '\n';
        } else if (c == '\\' || (quotes && c == '"')) {
            d[j++] = c;
        } else if (!quotes) {
            d[j++] = '\\'; /* HELP keeps other backslashes as they are */
            d[j++] = c;
        } else {
            pc_free(d);
            return bad(p, "bad escape in a label value");
        }
    }
    d[j] = '\0';
    *out = d;
    return PC_OK;
}

static bool type_named(const char *s, size_t n, pt_type *out)
{
    static const pt_type all[] = {PT_COUNTER, PT_GAUGE, PT_HISTOGRAM,
                                  PT_SUMMARY, PT_UNTYPED};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *name = pt_type_name(all[i]);
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

/* `# HELP name text` or `# TYPE name type`; other comments are ignored. */
static pc_err comment(parser *p, const char *s, size_t n)
{
    size_t i = 1;
    skip_blanks(s, n, &i);
    bool help = n - i >= 4 && memcmp(s + i, "HELP", 4) == 0;
    bool type = n - i >= 4 && memcmp(s + i, "TYPE", 4) == 0;
    if ((!help && !type) ||
        (n - i > 4 && s[i + 4] != ' ' && s[i + 4] != '\t')) {
        return PC_OK;
    }
    i += 4;
    skip_blanks(s, n, &i);
    size_t len = name_len(s + i, n - i, true);
    if (len == 0) {
        return bad(p, "a HELP or TYPE line without a metric name");
    }
    const char *name = s + i;
    i += len;
    if (i < n && s[i] != ' ' && s[i] != '\t') {
        return bad(p, "a bad metric name");
    }
    skip_blanks(s, n, &i);
    pt_family *f = find(p, name, len);
    pc_err rc = PC_OK;
    if (f == NULL && (rc = add_family(p, name, len, &f)) != PC_OK) {
        return rc;
    }
    if (help) {
        char *text;
        if (f->help[0] != '\0') {
            return bad(p, "a second HELP line for the same metric");
        }
        if ((rc = unescape(p, s + i, n - i, false, &text)) != PC_OK) {
            return rc;
        }
        pc_free(f->help);
        f->help = text;
        return PC_OK;
    }
    size_t tlen = n - i;
    while (tlen > 0 && (s[i + tlen - 1] == ' ' || s[i + tlen - 1] == '\t')) {
        tlen--;
    }
    pt_type t;
    if (!type_named(s + i, tlen, &t)) {
        return bad(p, "an unknown metric type");
    }
    if (f->nsamples > 0 || f->type != PT_UNTYPED) {
        return bad(p, "a TYPE line after the metric's samples or type");
    }
    f->type = t;
    return PC_OK;
}

/* The family a sample called name[0..n) belongs to (made if need be). */
static pc_err family_of(parser *p, const char *name, size_t n, pt_family **out)
{
    pt_family *f = find(p, name, n);
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t k = 0; f == NULL && k < 3; k++) {
        size_t sl = strlen(suffixes[k]);
        if (n > sl && memcmp(name + n - sl, suffixes[k], sl) == 0) {
            pt_family *base = find(p, name, n - sl);
            if (base != NULL && (base->type == PT_HISTOGRAM ||
                                 (base->type == PT_SUMMARY && k > 0))) {
                f = base;
            }
        }
    }
    if (f == NULL) {
        pc_err rc = add_family(p, name, n, &f);
        if (rc != PC_OK) {
            return rc;
        }
    }
    *out = f;
    return PC_OK;
}

static void sample_fini(pt_sample *s)
{
    for (size_t i = 0; i < s->nlabels; i++) {
        pc_free(s->labels[i].name);
        pc_free(s->labels[i].value);
    }
    pc_free(s->labels);
    pc_free(s->name);
}

/* The labels of a sample, from just after '{' to just after '}'. */
static pc_err labels(parser *p, const char *s, size_t n, size_t *i,
                     pt_sample *smp)
{
    for (;;) {
        skip_blanks(s, n, i);
        if (*i < n && s[*i] == '}') {
            (*i)++;
            return PC_OK;
        }
        size_t len = name_len(s + *i, n - *i, false);
        if (len == 0) {
            return bad(p, "a bad label name");
        }
        if (smp->nlabels >= p->lim->max_labels) {
            return pc_error_set(p->err, PC_ERR_LIMIT, "limit_exceeded",
                                "line %zu: more than %zu labels", p->lineno,
                                p->lim->max_labels);
        }
        const char *lname = s + *i;
        *i += len;
        skip_blanks(s, n, i);
        if (n - *i < 2 || s[*i] != '=' || s[*i + 1] != '"') {
            return bad(p, "a label without =\"value\"");
        }
        *i += 2;
        size_t start = *i;
        while (*i < n && s[*i] != '"') {
            *i += s[*i] == '\\' ? 2 : 1;
        }
        if (*i >= n) {
            return bad(p, "an unterminated label value");
        }
        pt_label *l =
            pc_realloc(smp->labels, (smp->nlabels + 1) * sizeof *smp->labels);
        if (l == NULL) {
            return nomem(p);
        }
        smp->labels = l;
        l = &smp->labels[smp->nlabels];
        l->value = NULL;
        if ((l->name = dup_n(lname, len)) == NULL) {
            return nomem(p);
        }
        smp->nlabels++;
        pc_err rc = unescape(p, s + start, *i - start, true, &l->value);
        if (rc != PC_OK) {
            return rc;
        }
        (*i)++; /* the closing quote */
        skip_blanks(s, n, i);
        if (*i < n && s[*i] == ',') {
            (*i)++;
        } else if (*i >= n || s[*i] != '}') {
            return bad(p, "labels must be separated by commas");
        }
    }
}

/* A value token: a float as strtod reads it, or NaN, +Inf, -Inf. */
static bool number(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strcmp(buf, "NaN") == 0) {
        *out = NAN;
        return true;
    }
    if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0) {
        *out = buf[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    /* Plain decimal or exponent notation only (strtod would also take
     * hex, "inf" and "nan(...)"). */
    if (strspn(buf, "0123456789+-.eE") != n) {
        return false;
    }
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0' && end != buf;
}

static pc_err add_sample(parser *p, pt_family *f, pt_sample *smp)
{
    if (p->doc->nsamples >= p->lim->max_samples) {
        return pc_error_set(p->err, PC_ERR_LIMIT, "limit_exceeded",
                            "line %zu: more than %zu samples", p->lineno,
                            p->lim->max_samples);
    }
    if (f->nsamples == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        pt_sample *s = pc_realloc(f->samples, cap * sizeof *s);
        if (s == NULL) {
            return nomem(p);
        }
        f->samples = s;
        f->cap = cap;
    }
    f->samples[f->nsamples++] = *smp;
    p->doc->nsamples++;
    p->last = f;
    return PC_OK;
}

static pc_err sample_line(parser *p, const char *s, size_t n)
{
    size_t len = name_len(s, n, true);
    if (len == 0) {
        return bad(p, "a sample must start with a metric name");
    }
    pt_sample smp = {0};
    pc_err rc = (smp.name = dup_n(s, len)) == NULL ? nomem(p) : PC_OK;
    size_t i = len;
    if (rc == PC_OK && i < n && s[i] == '{') {
        i++;
        rc = labels(p, s, n, &i, &smp);
    }
    if (rc == PC_OK && (i >= n || (s[i] != ' ' && s[i] != '\t'))) {
        rc = bad(p, "a sample without a value");
    }
    if (rc == PC_OK) {
        skip_blanks(s, n, &i);
        size_t vlen = 0;
        while (i + vlen < n && s[i + vlen] != ' ' && s[i + vlen] != '\t') {
            vlen++;
        }
        if (!number(s + i, vlen, &smp.value)) {
            rc = bad(p, "a sample value that is not a number");
        }
        i += vlen;
        skip_blanks(s, n, &i);
    }
    if (rc == PC_OK && i < n) { /* an optional timestamp: an integer */
        size_t tlen = n - i;
        size_t sign = s[i] == '-' ? 1 : 0;
        while (tlen > 0 &&
               (s[i + tlen - 1] == ' ' || s[i + tlen - 1] == '\t')) {
            tlen--;
        }
        if (tlen <= sign || tlen > 20 ||
            strspn(s + i + sign, "0123456789") != tlen - sign) {
            rc = bad(p, "trailing text after the sample value");
        }
    }
    pt_family *f = NULL;
    if (rc == PC_OK) {
        rc = family_of(p, smp.name, len, &f);
    }
    if (rc == PC_OK) {
        rc = add_sample(p, f, &smp);
    }
    if (rc != PC_OK) {
        sample_fini(&smp);
    }
    return rc;
}

pc_err pt_parse(const char *text, size_t len, const pt_limits *lim,
                pt_doc **out, pc_error *err)
{
    pt_limits dflt;
    if (lim == NULL) {
        pt_limits_default(&dflt);
        lim = &dflt;
    }
    pc_error scratch;
    err = err != NULL ? err : &scratch;
    if (len > lim->max_bytes) {
        return pc_error_set(err, PC_ERR_LIMIT, "limit_exceeded",
                            "the text has %zu bytes, more than %zu", len,
                            lim->max_bytes);
    }
    pt_doc *doc = pc_malloc(sizeof *doc);
    if (doc == NULL) {
        return pc_error_set(err, PC_ERR_NOMEM, NULL, "out of memory");
    }
    memset(doc, 0, sizeof *doc);
    parser p = {doc, lim, 0, err, NULL};
    pc_err rc = PC_OK;
    size_t pos = 0;
    while (rc == PC_OK && pos < len) {
        p.lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        const char *s = text + pos;
        pos += n + (nl != NULL ? 1 : 0);
        if (n > lim->max_line) {
            rc = pc_error_set(err, PC_ERR_LIMIT, "limit_exceeded",
                              "line %zu: longer than %zu bytes", p.lineno,
                              lim->max_line);
        } else if (memchr(s, '\0', n) != NULL) {
            rc = bad(&p, "a NUL byte");
        } else {
            size_t i = 0;
            skip_blanks(s, n, &i);
            if (i == n) {
                continue;
            }
            rc = s[i] == '#' ? comment(&p, s + i, n - i)
                             : sample_line(&p, s + i, n - i);
        }
    }
    if (rc != PC_OK) {
        pt_free(doc);
        return rc;
    }
    *out = doc;
    return PC_OK;
}

void pt_free(pt_doc *doc)
{
    if (doc == NULL) {
        return;
    }
    for (size_t i = 0; i < doc->nfamilies; i++) {
        pt_family *f = &doc->families[i];
        for (size_t j = 0; j < f->nsamples; j++) {
            sample_fini(&f->samples[j]);
        }
        pc_free(f->samples);
        pc_free(f->name);
        pc_free(f->help);
    }
    pc_free(doc->families);
    pc_free(doc);
}

const char *pt_label_get(const pt_sample *s, const char *name)
{
    for (size_t i = 0; i < s->nlabels; i++) {
        if (strcmp(s->labels[i].name, name) == 0) {
            return s->labels[i].value;
        }
    }
    return NULL;
}
