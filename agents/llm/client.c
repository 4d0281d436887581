#include "client.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "clock.h"
#include "error.h"

enum { MAX_BODY = 1 << 20, REASON_CHARS = 160 };

struct rd_llm_client {
  rd_llm_config cfg;
  char *url, *model;
  CURL *curl;  // one handle per client: keeps the connection to the server alive
  struct curl_slist *headers;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
// curl_global_init is not thread-safe; every client passes through here first.
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static const char *const status_names[RD_LLM_NSTATUS] = {
    "ok", "connect", "timeout", "transport", "http", "body", "answer", "range", "cancelled"};

const char *rd_llm_status_name(rd_llm_status s) {
  return s >= 0 && s < RD_LLM_NSTATUS ? status_names[s] : "unknown";
}

int rd_llm_dialect_parse(const char *s, rd_llm_dialect *out) {
  if (!strcmp(s, "openai")) *out = RD_LLM_OPENAI;
  else if (!strcmp(s, "ollama")) *out = RD_LLM_OLLAMA;
  else return rd_error_set("unknown LLM dialect '%s' (known: openai, ollama)", s);
  return 0;
}

void rd_llm_client_free(rd_llm_client *c) {
  if (!c) return;
  if (c->curl) curl_easy_cleanup(c->curl);
  curl_slist_free_all(c->headers);
  free(c->url);
  free(c->model);
  free(c);
}

static int add_header(rd_llm_client *c, const char *line) {
  struct curl_slist *l = curl_slist_append(c->headers, line);
  if (l) c->headers = l;
  return l ? 0 : -1;
}

// A bearer key may travel encrypted (https) or stay on this machine
// (loopback): plain http to any other host would expose it on the wire.
static int key_may_go_to(const char *url) {
  if (!strncmp(url, "https://", 8)) return 1;
  const char *h = url + 7, *end = h + strcspn(h, "/?#");
  const char *at = memchr(h, '@', (size_t)(end - h));  // user:pass@host
  if (at) h = at + 1;
  size_t n;
  if (*h == '[') {
    const char *close = memchr(h, ']', (size_t)(end - h));
    if (!close) return 0;
    h++;
    n = (size_t)(close - h);
    return n == 3 && !strncmp(h, "::1", 3);
  }
  n = strcspn(h, ":/?#");
  if (n == 9 && !strncasecmp(h, "localhost", 9)) return 1;
  // 127.0.0.0/8, written as a dotted quad.
  unsigned a, b, c2, d;
  char tail;
  char host[64];
  if (n >= sizeof host) return 0;
  memcpy(host, h, n);
  host[n] = 0;
  return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c2, &d, &tail) == 4 && a == 127 && b < 256 && c2 < 256 &&
         d < 256;
}

rd_llm_client *rd_llm_client_new(const rd_llm_config *cfg) {
  pthread_once(&curl_once, curl_init);
  if (curl_init_rc != CURLE_OK) {
    rd_error_set("libcurl initialisation failed: %s", curl_easy_strerror(curl_init_rc));
    return NULL;
  }
  const char *e = cfg->endpoint;
  if (strncmp(e, "http://", 7) && strncmp(e, "https://", 8)) {
    rd_error_set("LLM endpoint '%s' is not an http:// or https:// URL", e);
    return NULL;
  }
  if (cfg->prefill && cfg->dialect != RD_LLM_OPENAI) {
    rd_error_set("prefill=1 needs llama-server's openai dialect (set prefill=0 for dialect=ollama)");
    return NULL;
  }
  rd_llm_client *c = calloc(1, sizeof *c);
  if (!c) goto oom;
  c->cfg = *cfg;
  // A bare base URL gets the dialect's chat path; a URL with a path is used as is.
  const char *path = strchr(strstr(e, "://") + 3, '/'), *suffix = "";
  int len = (int)strlen(e);
  if (!path || !path[1]) {
    len -= path != NULL;  // a lone trailing '/'
    suffix = cfg->dialect == RD_LLM_OLLAMA ? "/api/chat" : "/v1/chat/completions";
  }
  const size_t n = (size_t)len + strlen(suffix) + 1;
  c->url = malloc(n);
  c->model = strdup(cfg->model ? cfg->model : "");
  c->curl = curl_easy_init();
  if (!c->url || !c->model || !c->curl) goto oom;
  snprintf(c->url, n, "%.*s%s", len, e, suffix);
  // "Expect:" drops curl's 100-continue round trip on larger bodies.
  if (add_header(c, "Content-Type: application/json") || add_header(c, "Expect:")) goto oom;
  const char *key = cfg->api_key_env && *cfg->api_key_env ? getenv(cfg->api_key_env) : NULL;
  if (key && *key && !key_may_go_to(e)) {
    rd_error_set("LLM endpoint '%s': refusing to send the API key of %s over plain http to a host "
                 "that is not loopback (use https://, or a 127.0.0.1/localhost endpoint)", e,
                 cfg->api_key_env);
    rd_llm_client_free(c);
    return NULL;
  }
  if (key && *key) {
    char *auth = malloc(strlen(key) + 32);
    if (!auth) goto oom;
    sprintf(auth, "Authorization: Bearer %s", key);
    const int bad = add_header(c, auth);
    memset(auth, 0, strlen(auth));  // the key lives on only inside curl's list
    free(auth);
    if (bad) goto oom;
  }
  return c;
oom:
  rd_llm_client_free(c);
  rd_error_set("out of memory creating the LLM client");
  return NULL;
}

// The answer's schema: the decision first, so a model commits before it
// explains; the reason is bounded so that a rambling model still closes
// its JSON within max_tokens.
static void number_enum(cJSON *props, const char *name, const char *type, const double *v, int n) {
  cJSON *o = cJSON_AddObjectToObject(props, name);
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddItemToObject(o, "enum", cJSON_CreateDoubleArray(v, n));
}

static cJSON *decision_schema(int want_fraction, int reason_chars, const rd_llm_menu *menu) {
  cJSON *s = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(s, "properties");
  cJSON_AddStringToObject(s, "type", "object");
  cJSON *d = cJSON_AddObjectToObject(props, "decision");
  cJSON_AddStringToObject(d, "type", "string");
  const char *choices[] = {"replace", "keep"}, *tune[] = {"keep", "tune"};
  cJSON_AddItemToObject(d, "enum", cJSON_CreateStringArray(menu ? tune : choices, 2));
  if (menu) {
    // Every knob, always: a grammar then fixes the answer's shape, and a
    // "keep" simply ignores them.
    double w[RD_LLM_MENU_MAX] = {0};
    for (int i = 0; i < menu->num_windows; i++) w[i] = menu->windows[i];
    number_enum(props, "window", "integer", w, menu->num_windows);
    cJSON *p = cJSON_AddObjectToObject(props, "prior");
    cJSON_AddStringToObject(p, "type", "string");
    cJSON_AddItemToObject(p, "enum", cJSON_CreateStringArray(menu->priors, menu->num_priors));
    number_enum(props, "margin", "number", menu->margins, menu->num_margins);
    number_enum(props, "pinned", "number", menu->pinned, menu->num_pinned);
    want_fraction = 0;
  }
  if (want_fraction) {
    cJSON *f = cJSON_AddObjectToObject(props, "fraction");
    cJSON_AddStringToObject(f, "type", "number");
    cJSON_AddNumberToObject(f, "minimum", 0);
    cJSON_AddNumberToObject(f, "maximum", 1);
  }
  const int reason = reason_chars >= 0;
  if (reason) {
    cJSON *r = cJSON_AddObjectToObject(props, "reason");
    cJSON_AddStringToObject(r, "type", "string");
    cJSON_AddNumberToObject(r, "maxLength", reason_chars ? reason_chars : REASON_CHARS);
  }
  const char *req[7] = {"decision"};
  int n = 1;
  if (want_fraction) req[n++] = "fraction";
  if (menu) req[n++] = "window", req[n++] = "prior", req[n++] = "margin", req[n++] = "pinned";
  if (reason) req[n++] = "reason";
  cJSON_AddItemToObject(s, "required", cJSON_CreateStringArray(req, n));
  cJSON_AddFalseToObject(s, "additionalProperties");
  return s;
}

// The start of a prefilled answer: the model writes from the decision on.
static const char prefill[] = "{\"decision\":\"";

// A GBNF string literal of `text`.
static void lit(FILE *f, const char *text) {
  fputc('"', f);
  for (const char *p = text; *p; p++) fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
  fputs("\" ", f);
}

static void alternatives(FILE *f, const char *rule, const double *v, int n) {
  fprintf(f, "%s ::= ", rule);
  for (int i = 0; i < n; i++) fprintf(f, "%s\"%g\"", i ? " | " : "", v[i]);
  fputc('\n', f);
}

// The rest of the answer after `prefill`, as llama.cpp's GBNF: the same
// choices as decision_schema, written without whitespace (a JSON schema's
// grammar allows spaces, newlines and a code fence, each a token to
// generate). A "keep" names nothing else; fractions come from
// RD_LLM_FRACTIONS.
static char *decision_grammar(const rd_llm_config *g) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  const char *end = g->reason_chars >= 0 ? "reason \"}\"" : "\"}\"";
  fputs("root ::= ", f);
  if (g->menu) {
    const rd_llm_menu *m = g->menu;
    lit(f, "keep\"");
    fprintf(f, "%s | ", end);
    lit(f, "tune\",\"window\":");
    fputs("window ", f);
    lit(f, ",\"prior\":\"");
    fputs("prior ", f);
    lit(f, "\",\"margin\":");
    fputs("margin ", f);
    lit(f, ",\"pinned\":");
    fprintf(f, "pinned %s\n", end);
    double w[RD_LLM_MENU_MAX];
    for (int i = 0; i < m->num_windows; i++) w[i] = m->windows[i];
    alternatives(f, "window", w, m->num_windows);
    fputs("prior ::= ", f);
    for (int i = 0; i < m->num_priors; i++) fprintf(f, "%s\"%s\"", i ? " | " : "", m->priors[i]);
    fputc('\n', f);
    alternatives(f, "margin", m->margins, m->num_margins);
    alternatives(f, "pinned", m->pinned, m->num_pinned);
  } else if (g->want_fraction) {
    const double fr[] = RD_LLM_FRACTIONS;
    lit(f, "keep\"");
    fprintf(f, "%s | ", end);
    lit(f, "replace\",\"fraction\":");
    fprintf(f, "fraction %s\n", end);
    alternatives(f, "fraction", fr, (int)(sizeof fr / sizeof *fr));
  } else {
    fputs("( \"replace\" | \"keep\" ) ", f);
    lit(f, "\"");
    fprintf(f, "%s\n", end);
  }
  if (g->reason_chars >= 0) {
    fputs("reason ::= ", f);
    lit(f, ",\"reason\":\"");
    fprintf(f, "[^\"\\\\\\n]{0,%d} ", g->reason_chars ? g->reason_chars : REASON_CHARS);
    lit(f, "\"");
    fputc('\n', f);
  }
  return fclose(f) ? (free(text), NULL) : text;
}

// warm: a one-token answer without a schema (the prompt is what matters).
static char *request_body(const rd_llm_client *c, const char *system, const char *user, int warm) {
  const rd_llm_config *g = &c->cfg;
  cJSON *b = cJSON_CreateObject(), *msgs;
  cJSON_AddStringToObject(b, "model", c->model);
  cJSON_AddFalseToObject(b, "stream");
  msgs = cJSON_AddArrayToObject(b, "messages");
  const char *roles[] = {"system", "user"}, *texts[] = {system, user};
  for (int i = 0; i < 2; i++) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", roles[i]);
    cJSON_AddStringToObject(m, "content", texts[i]);
    cJSON_AddItemToArray(msgs, m);
  }
  const int prefilled = g->prefill && !warm;
  if (prefilled) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", prefill);
    cJSON_AddItemToArray(msgs, m);
    char *grammar = decision_grammar(g);
    cJSON_AddStringToObject(b, "grammar", grammar ? grammar : "");
    free(grammar);
  }
  cJSON *schema = warm || prefilled ? NULL : decision_schema(g->want_fraction, g->reason_chars, g->menu);
  const int max_tokens = warm ? 1 : g->max_tokens;
  if (g->dialect == RD_LLM_OLLAMA) {
    if (schema) cJSON_AddItemToObject(b, "format", schema);
    cJSON *o = cJSON_AddObjectToObject(b, "options");
    cJSON_AddNumberToObject(o, "temperature", g->temperature);
    cJSON_AddNumberToObject(o, "num_predict", max_tokens);
    cJSON_AddNumberToObject(o, "seed", (double)(g->seed & 0x7fffffff));
  } else {
    cJSON_AddNumberToObject(b, "temperature", g->temperature);
    cJSON_AddNumberToObject(b, "max_tokens", max_tokens);
    cJSON_AddNumberToObject(b, "seed", (double)(g->seed & 0x7fffffff));
    // llama-server keeps each slot's last prompt and evaluates only what
    // follows the common prefix; other servers may reject unknown fields.
    if (g->cache_prompt) cJSON_AddTrueToObject(b, "cache_prompt");
  }
  if (schema && g->dialect != RD_LLM_OLLAMA) {
    cJSON *rf = cJSON_AddObjectToObject(b, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_schema");
    cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
    cJSON_AddStringToObject(js, "name", "rudder_decision");
    cJSON_AddTrueToObject(js, "strict");
    cJSON_AddItemToObject(js, "schema", schema);
  }
  char *text = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  return text;
}

typedef struct sink {
  char *data;
  size_t len, cap;
  int too_large;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *user) {
  sink *s = user;
  const size_t add = size * n;
  if (s->len + add > MAX_BODY) {
    s->too_large = 1;
    return 0;  // aborts the transfer
  }
  if (s->len + add + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + add + 1) cap *= 2;
    char *d = realloc(s->data, cap);
    if (!d) return 0;
    s->data = d;
    s->cap = cap;
  }
  memcpy(s->data + s->len, p, add);
  s->len += add;
  s->data[s->len] = 0;
  return add;
}

static int on_progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  (void)a, (void)b, (void)c, (void)d;
  const atomic_int *cancel = user;
  return cancel && atomic_load(cancel);
}

static rd_llm_status fail(rd_llm_reply *r, rd_llm_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rd_llm_status fail(rd_llm_reply *r, rd_llm_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  return r->status = s;
}

// The model's text as one JSON object: surrounding blanks and a Markdown
// code fence (which models add where the server does not constrain them)
// are allowed, anything else is not.
static cJSON *parse_object(const char *text) {
  while (isspace((unsigned char)*text)) text++;
  const int fenced = !strncmp(text, "```", 3);
  if (fenced) text += strcspn(text, "\n");
  const char *end = NULL;
  cJSON *o = cJSON_ParseWithOpts(text, &end, 0);
  if (!o) return NULL;
  while (end && isspace((unsigned char)*end)) end++;
  if (fenced && end && !strncmp(end, "```", 3)) end += 3;
  while (end && isspace((unsigned char)*end)) end++;
  if (!cJSON_IsObject(o) || !end || *end) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

// The listed value nearest to x when x lies within the list's range (then
// *moved says whether it was not listed exactly); -1 outside it.
static int nearest(const double *v, int n, double x, int *moved) {
  double lo = v[0], hi = v[0];
  int best = 0;
  for (int i = 0; i < n; i++) {
    lo = v[i] < lo ? v[i] : lo;
    hi = v[i] > hi ? v[i] : hi;
    if (fabs(v[i] - x) < fabs(v[best] - x)) best = i;
  }
  if (!(x >= lo && x <= hi)) return -1;
  *moved |= v[best] != x;
  return best;
}

// A menu answer's knobs, validated and clamped onto the menu.
static rd_llm_status parse_menu(const rd_llm_menu *m, const cJSON *a, rd_llm_reply *r) {
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(a, "window");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "prior");
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(a, "margin");
  const cJSON *q = cJSON_GetObjectItemCaseSensitive(a, "pinned");
  if (!cJSON_IsNumber(w) || !cJSON_IsString(p) || !cJSON_IsNumber(g) || !cJSON_IsNumber(q))
    return fail(r, RD_LLM_ERR_ANSWER, "a menu answer needs number fields window, margin, pinned and a string prior");
  double wv[RD_LLM_MENU_MAX] = {0};
  for (int i = 0; i < m->num_windows; i++) wv[i] = m->windows[i];
  int moved = 0;
  const int wi = nearest(wv, m->num_windows, w->valuedouble, &moved);
  const int gi = nearest(m->margins, m->num_margins, g->valuedouble, &moved);
  const int qi = nearest(m->pinned, m->num_pinned, q->valuedouble, &moved);
  int pi = -1;
  for (int i = 0; i < m->num_priors; i++)
    if (!strcmp(p->valuestring, m->priors[i])) pi = i;
  if (wi < 0) return fail(r, RD_LLM_ERR_RANGE, "window %g outside [%g, %g]", w->valuedouble, wv[0], wv[m->num_windows - 1]);
  if (gi < 0) return fail(r, RD_LLM_ERR_RANGE, "margin %g outside the menu", g->valuedouble);
  if (qi < 0) return fail(r, RD_LLM_ERR_RANGE, "pinned %g outside the menu", q->valuedouble);
  if (pi < 0) return fail(r, RD_LLM_ERR_RANGE, "prior '%.32s' is not on the menu", p->valuestring);
  r->window = m->windows[wi];
  r->prior = pi;
  r->margin = m->margins[gi];
  r->pinned = m->pinned[qi];
  r->clamped = moved;
  return RD_LLM_OK;
}

static rd_llm_status parse_answer(const rd_llm_client *c, rd_llm_reply *r, const char *finish) {
  cJSON *a = parse_object(r->content);
  if (!a)
    return fail(r, RD_LLM_ERR_ANSWER, "the model's message is not one JSON object%s",
                finish && !strcmp(finish, "length") ? " (cut off at max_tokens)" : "");
  rd_llm_status s = RD_LLM_OK;
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(a, "decision");
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "fraction");
  const cJSON *why = cJSON_GetObjectItemCaseSensitive(a, "reason");
  if (!cJSON_IsString(d)) s = fail(r, RD_LLM_ERR_ANSWER, "answer has no string field 'decision'");
  else if (c->cfg.want_fraction && !cJSON_IsNumber(f) && !(c->cfg.prefill && !strcmp(d->valuestring, "keep")))
    s = fail(r, RD_LLM_ERR_ANSWER, "answer has no number field 'fraction'");
  else if (c->cfg.reason_chars >= 0 && !cJSON_IsString(why))
    s = fail(r, RD_LLM_ERR_ANSWER, "answer has no string field 'reason'");
  else if (c->cfg.menu && strcmp(d->valuestring, "tune") && strcmp(d->valuestring, "keep"))
    s = fail(r, RD_LLM_ERR_RANGE, "decision '%.64s' is neither 'tune' nor 'keep'", d->valuestring);
  else if (!c->cfg.menu && strcmp(d->valuestring, "replace") && strcmp(d->valuestring, "keep"))
    s = fail(r, RD_LLM_ERR_RANGE, "decision '%.64s' is neither 'replace' nor 'keep'", d->valuestring);
  else if (c->cfg.want_fraction && f && !cJSON_IsNumber(f))
    s = fail(r, RD_LLM_ERR_ANSWER, "the field 'fraction' is not a number");
  else if (c->cfg.want_fraction && f && !(f->valuedouble >= 0 && f->valuedouble <= 1))
    s = fail(r, RD_LLM_ERR_RANGE, "fraction %g outside [0, 1]", f->valuedouble);
  else if (!c->cfg.menu || (c->cfg.prefill && !strcmp(d->valuestring, "keep")) ||
           (s = parse_menu(c->cfg.menu, a, r)) == RD_LLM_OK) {
    r->replace = !strcmp(d->valuestring, c->cfg.menu ? "tune" : "replace");
    r->fraction = c->cfg.want_fraction && f ? f->valuedouble : 0;
    snprintf(r->reason, sizeof r->reason, "%s", cJSON_IsString(why) ? why->valuestring : "");
  }
  cJSON_Delete(a);
  return s;
}

static int count(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? v->valueint : 0;
}

// The whole answer: llama-server returns a prefilled message with its
// start; a server that returns only the continuation gets it put back.
static char *with_prefill(const rd_llm_client *c, const char *content) {
  const size_t skip = strspn(content, " \t\r\n");
  if (!c->cfg.prefill || content[skip] == '{') return strdup(content);
  char *s = malloc(sizeof prefill + strlen(content));
  if (s) strcat(strcpy(s, prefill), content);
  return s;
}

// The dialect's reply: the message text and the token counts.
static rd_llm_status parse_body(const rd_llm_client *c, rd_llm_reply *r) {
  cJSON *b = cJSON_Parse(r->raw);
  if (!b || !cJSON_IsObject(b)) {
    cJSON_Delete(b);
    return fail(r, RD_LLM_ERR_BODY, "the reply body is not a JSON object");
  }
  const cJSON *msg, *content, *finish = NULL;
  if (c->cfg.dialect == RD_LLM_OLLAMA) {
    msg = cJSON_GetObjectItemCaseSensitive(b, "message");
    r->prompt_tokens = count(b, "prompt_eval_count");
    r->completion_tokens = count(b, "eval_count");
  } else {
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "choices"), 0);
    msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(b, "usage");
    r->prompt_tokens = count(u, "prompt_tokens");
    r->completion_tokens = count(u, "completion_tokens");
  }
  content = cJSON_GetObjectItemCaseSensitive(msg, "content");
  rd_llm_status s;
  if (!cJSON_IsString(content))
    s = fail(r, RD_LLM_ERR_BODY, "the reply has no %s", c->cfg.dialect == RD_LLM_OLLAMA
                                                           ? "message.content"
                                                           : "choices[0].message.content");
  else if (!(r->content = with_prefill(c, content->valuestring)))
    s = fail(r, RD_LLM_ERR_BODY, "out of memory");
  else
    s = parse_answer(c, r, cJSON_IsString(finish) ? finish->valuestring : NULL);
  cJSON_Delete(b);
  return s;
}

// One POST of `body` (freed here); the transport's and HTTP's failures.
static rd_llm_status perform(rd_llm_client *c, char *body, const atomic_int *cancel, rd_llm_reply *r) {
  const double t0 = rd_now();
  if (!body) return fail(r, RD_LLM_ERR_TRANSPORT, "out of memory building the request");
  sink s = {0};
  CURL *h = c->curl;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, c->url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
  const CURLcode rc = curl_easy_perform(h);
  free(body);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->http_status);
  r->raw = s.data;
  r->seconds = rd_now() - t0;
  switch (rc) {
    case CURLE_OK: break;
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
      return fail(r, RD_LLM_ERR_CONNECT, "cannot connect to %s: %s", c->url, curl_easy_strerror(rc));
    case CURLE_OPERATION_TIMEDOUT:
      return fail(r, RD_LLM_ERR_TIMEOUT, "no answer from %s within %ld ms", c->url, c->cfg.timeout_ms);
    case CURLE_ABORTED_BY_CALLBACK:
      return fail(r, RD_LLM_ERR_CANCELLED, "request to %s cancelled", c->url);
    default:
      return fail(r, RD_LLM_ERR_TRANSPORT, "request to %s failed: %s", c->url,
                  s.too_large ? "reply larger than 1 MiB" : curl_easy_strerror(rc));
  }
  if (r->http_status < 200 || r->http_status > 299)
    return fail(r, RD_LLM_ERR_HTTP, "HTTP %ld from %s", r->http_status, c->url);
  if (!r->raw) return fail(r, RD_LLM_ERR_BODY, "empty reply body from %s", c->url);
  return RD_LLM_OK;
}

rd_llm_status rd_llm_ask(rd_llm_client *c, const char *system, const char *user,
                         const atomic_int *cancel, rd_llm_reply *r) {
  memset(r, 0, sizeof *r);
  const double t0 = rd_now();
  rd_llm_status s = perform(c, request_body(c, system, user, 0), cancel, r);
  if (s == RD_LLM_OK) s = parse_body(c, r);
  r->seconds = rd_now() - t0;
  return s;
}

rd_llm_status rd_llm_warm(rd_llm_client *c, const char *system, const char *user,
                          const atomic_int *cancel, double *seconds) {
  rd_llm_reply r;
  memset(&r, 0, sizeof r);
  const double t0 = rd_now();
  const rd_llm_status s = perform(c, request_body(c, system, user, 1), cancel, &r);
  rd_llm_reply_free(&r);
  if (seconds) *seconds = rd_now() - t0;
  return s;
}

void rd_llm_reply_free(rd_llm_reply *r) {
  free(r->raw);
  free(r->content);
  r->raw = r->content = NULL;
}
