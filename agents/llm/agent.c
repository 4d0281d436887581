#include "llm/agent.h"

#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer/menu.h"
#include "clock.h"
#include "error.h"
#include "grow.h"

#ifndef RUDDER_PROMPTS_DIR
#error "RUDDER_PROMPTS_DIR must name the source tree's agents/prompts (set in agents/CMakeLists.txt)"
#endif

enum { MAX_HISTORY = 16, RAW_LIMIT = 4096 };

typedef enum mode { MODE_RUDDER, MODE_PAPER } mode;

typedef struct settings {
  rd_llm_config llm;
  mode mode;
  int fallback_periodic;
  int history;      // -1: the mode's default
  int64_t max_age;  // -1: the period
  int scope_job;    // -1: the mode's default (rudder: job, paper: rank)
  int warmup;       // evaluate the prompt's fixed part before the first question
  int menu;         // llm-menu / slm-menu: the answer tunes the LOOKAHEAD rule's knobs
  const char *prompts;
  const char *prompt;  // the template's name in `prompts` (NULL: the mode's)
} settings;

// A policy's defaults; `history` is rudder mode's (the paper's is 5).
typedef struct preset {
  const char *policy;
  settings set;
  int history;
  const char *prompt;  // rudder mode's template
} preset;

// Measured steps added up: a window of the agent's own. Consecutive
// applied decisions cut the run into spans that never overlap, so the
// effect of a decision (its span against the one before) is not diluted by
// steps that both sides share.
typedef struct span {
  int64_t steps, accesses, hits, misses, rows_fetched;
} span;

// One resolved request as the history shows it: what came of it and the
// window it was made on, so that its effect can be measured later.
typedef struct past {
  int64_t step, step_applied, stale, capacity;
  rd_llm_status status;  // RD_LLM_OK, or the failure that led to the fallback
  int replace, applied;  // the answer (or fallback); applied = 0 when too late
  double fraction, cum_hit_rate;
  rd_replace knobs;         // menu agents: the knobs set (replace: a tune)
  int64_t evicted, filled;  // what the replacement did (-1: not measured yet)
  span before, after;       // the spans before and after it was applied
  // `after` as the first question after it measured it: the effect shown,
  // from then on the same in every prompt (so the server's prompt cache
  // keeps the history's lines), over a span no later decision shares.
  span shown;
  int frozen;
} past;

// What the training side hands the agent's thread: values only, so that
// the thread renders and asks without touching shared state.
typedef struct request {
  rd_window w;
  double posted_at, cum_hit_rate;
  int warm;  // a warm-up of the server's prompt cache, not a question
  rd_replace knobs;  // menu agents: the knobs in force
  int num_past;
  past hist[MAX_HISTORY];  // oldest first
} request;

typedef struct response {
  rd_window w;         // of the request
  double cum_hit_rate, latency;  // latency: from posting to arrival
  rd_llm_reply reply;  // owns raw and content
} response;

// Template placeholders; the values are computed in render().
enum var {
  V_STEP, V_TOTAL_STEPS, V_STEPS_LEFT, V_STEPS_LEFT_PCT, V_SINCE_REPLACE, V_CAPACITY, V_HALO,
  V_OCCUPANCY, V_OCCUPANCY_PCT, V_STALE, V_STALE_PCT, V_WINDOW, V_HIT_RATE, V_HIT_RATE_PREV,
  V_HIT_RATE_CHANGE, V_REMOTE, V_MISSES, V_ROWS_FETCHED, V_EVICTED, V_FETCH_MS, V_STEP_MS,
  V_CUM_HIT_RATE, V_COMM_VOLUME, V_HISTORY, V_CANDIDATES, V_CAND_5, V_CAND_10, V_CAND_25, V_CAND_50,
  V_CAND_100, V_STALE_AGE_P50, V_STALE_AGE_MAX, V_LOOKAHEAD, V_WINDOWS, V_KNOB_WINDOW, V_KNOB_PRIOR,
  V_KNOB_MARGIN, V_KNOB_PINNED, V_KNOWN_25, V_KNOWN_50, V_KNOWN_100, V_KNOWN_MISSING, NVARS
};
static const char *const var_names[NVARS] = {
    [V_STEP] = "step", [V_TOTAL_STEPS] = "total_steps", [V_STEPS_LEFT] = "steps_left",
    [V_STEPS_LEFT_PCT] = "steps_left_pct", [V_SINCE_REPLACE] = "steps_since_replace",
    [V_CAPACITY] = "capacity", [V_HALO] = "halo_size", [V_OCCUPANCY] = "occupancy",
    [V_OCCUPANCY_PCT] = "occupancy_pct", [V_STALE] = "stale", [V_STALE_PCT] = "stale_pct",
    [V_WINDOW] = "window", [V_HIT_RATE] = "hit_rate", [V_HIT_RATE_PREV] = "hit_rate_prev",
    [V_HIT_RATE_CHANGE] = "hit_rate_change", [V_REMOTE] = "remote_per_step",
    [V_MISSES] = "misses_per_step", [V_ROWS_FETCHED] = "rows_fetched_per_step",
    [V_EVICTED] = "evicted_per_step", [V_FETCH_MS] = "fetch_ms", [V_STEP_MS] = "step_ms",
    [V_CUM_HIT_RATE] = "cum_hit_rate", [V_COMM_VOLUME] = "comm_volume", [V_HISTORY] = "history",
    [V_CANDIDATES] = "candidates", [V_CAND_5] = "cand_5", [V_CAND_10] = "cand_10", [V_CAND_25] = "cand_25",
    [V_CAND_50] = "cand_50", [V_CAND_100] = "cand_100", [V_STALE_AGE_P50] = "stale_age_p50",
    [V_STALE_AGE_MAX] = "stale_age_max", [V_LOOKAHEAD] = "lookahead", [V_WINDOWS] = "windows",
    [V_KNOB_WINDOW] = "knob_window", [V_KNOB_PRIOR] = "knob_prior", [V_KNOB_MARGIN] = "knob_margin",
    [V_KNOB_PINNED] = "knob_pinned", [V_KNOWN_25] = "known_25", [V_KNOWN_50] = "known_50",
    [V_KNOWN_100] = "known_100", [V_KNOWN_MISSING] = "known_missing"};

// What every rank puts in the job's per-step gather: its window, and (from
// the leader only) the decision all ranks apply before this step.
typedef struct job_slot {
  rd_window w;
  int32_t act;
  rd_replace rep;
} job_slot;

typedef struct agent {
  settings set;
  // scope=job in a live run: rank 0 (the leader) asks for the job; the
  // others only join the gather. Otherwise every agent leads itself.
  MPI_Comm comm;
  int job, leader, rank, size;
  job_slot *slots;  // [size] the gather's buffer
  int warmed;       // the warm-up was posted
  rd_llm_menu menu;  // menu agents: the choices the schema offers
  rd_replace knobs;  // menu agents: the knobs in force (the last applied tune)
  char *opts;        // the strings of `set` point into it
  char *tmpl[2];     // system, user
  rd_llm_client *client;
  pthread_t thread;
  pthread_mutex_t mu;  // guards the mailbox below, held only to copy it
  pthread_cond_t cv;   // wakes the thread: a request, a freed response slot, stop
  atomic_int cancel;   // aborts a request in flight at destroy
  int stop, has_req, has_resp, busy;  // busy: the thread is asking the model
  request req;
  response resp;
  // Training side only (the thread that calls decide):
  past hist[MAX_HISTORY];
  int num_past;
  span seg0;  // steps before the first applied decision
  // scope=job: the gather in flight (started at a step, completed at the
  // next), its send buffer, and the leader's answer riding in it.
  MPI_Request greq;
  job_slot sent;
  int sent_have;
  response sent_got;
  double cum_hits, cum_weight;  // paper: access-weighted hit rate of counted windows
  int64_t cum_step;             // steps before this one are counted
  rd_decision *log;
  int64_t num_log, cap_log;
  rd_llm_stats stats;
} agent;

// ---- prompt templates ----------------------------------------------------

static int read_file(const char *path, char **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return rd_error_set("%s: cannot open the prompt template (set prompts=DIR or RUDDER_PROMPTS)", path);
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  char chunk[4096];
  size_t n;
  while (m && (n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, m);
  const int bad = ferror(f) || !m;
  fclose(f);
  if (m) fclose(m);
  if (bad) {
    free(text);
    return rd_error_set("%s: cannot read the prompt template", path);
  }
  *out = text;
  return 0;
}

static int var_index(const char *name, size_t len) {
  for (int i = 0; i < NVARS; i++)
    if (strlen(var_names[i]) == len && !strncmp(var_names[i], name, len)) return i;
  return -1;
}

// Splits DIR/MODE.txt into its [system] and [user] sections (comment lines
// dropped) and checks every placeholder, so that rendering cannot fail.
static int load_templates(agent *a, const char *rudder) {
  const char *name = a->set.prompt ? a->set.prompt : a->set.menu ? "menu" : a->set.mode == MODE_PAPER ? "paper" : rudder;
  if (name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-")] || !*name)
    return rd_error_set("policy options: prompt=%s is not a template name (letters, digits, _ and -)", name);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.txt", a->set.prompts, name);
  char *text = NULL;
  if (read_file(path, &text)) return -1;
  char *buf[2] = {NULL, NULL};
  size_t len[2] = {0, 0};
  FILE *sec[2] = {open_memstream(&buf[0], &len[0]), open_memstream(&buf[1], &len[1])};
  int cur = -1, line_no = 0, rc = sec[0] && sec[1] ? 0 : rd_error_set("out of memory");
  for (char *line = text, *next; line && *line && !rc; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    line_no++;
    if (!strncmp(line, "%%", 2)) continue;
    if (!strcmp(line, "[system]") || !strcmp(line, "[user]")) {
      cur = line[1] == 'u';
      continue;
    }
    for (const char *o = strstr(line, "{{"); o && !rc; o = strstr(o + 2, "{{")) {
      const char *c = strstr(o, "}}");
      if (!c || var_index(o + 2, (size_t)(c - o - 2)) < 0)
        rc = rd_error_set("%s:%d: unknown placeholder %.*s (see agents/llm/agent.h)", path, line_no,
                          c ? (int)(c - o + 2) : (int)strlen(o), o);
    }
    if (cur < 0 && line[strspn(line, " \t\r")])
      rc = rd_error_set("%s:%d: text before the [system] section", path, line_no);
    if (cur >= 0) fprintf(sec[cur], "%s\n", line);
  }
  for (int i = 0; i < 2; i++)
    if (sec[i]) fclose(sec[i]);
  free(text);
  for (int i = 0; i < 2 && !rc; i++) {
    while (len[i] > 0 && strchr(" \t\r\n", buf[i][len[i] - 1])) buf[i][--len[i]] = 0;
    if (!len[i]) rc = rd_error_set("%s: no %s section", path, i ? "[user]" : "[system]");
  }
  if (rc) {
    free(buf[0]);
    free(buf[1]);
    return -1;
  }
  a->tmpl[0] = buf[0];
  a->tmpl[1] = buf[1];
  return 0;
}

static char *fill(const char *t, char *const val[NVARS]) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f) return NULL;
  for (const char *p = t, *o; *p; p = strstr(o, "}}") + 2) {
    if (!(o = strstr(p, "{{"))) {
      fputs(p, f);
      break;
    }
    fwrite(p, 1, (size_t)(o - p), f);
    fputs(val[var_index(o + 2, (size_t)(strstr(o, "}}") - o - 2))], f);
  }
  return fclose(f) ? (free(out), NULL) : out;
}

static double pct(double part, double whole) { return whole > 0 ? 100 * part / whole : 0; }

// Per-step counts: whole numbers once they are large, so prompts stay short.
static void count_str(char *s, double x) { snprintf(s, 32, x >= 100 ? "%.0f" : "%.1f", x); }

static double span_rate(const span *x) { return x->accesses ? 100.0 * (double)x->hits / (double)x->accesses : 0; }
static double per_step(int64_t v, const span *x) { return x->steps ? (double)v / (double)x->steps : 0; }

// What a replacement did, as the step after it measured it.
static void moved(FILE *f, mode m, const past *h) {
  if (h->evicted < 0) return;
  const int64_t empty = h->filled - h->evicted;
  if (m == MODE_PAPER) {
    if (h->filled == 0) fprintf(f, " Nothing replaced: no stale nodes and no empty slots.");
    else
      fprintf(f, " %lld nodes evicted, %lld empty slots filled (%.0f%% of cache).", (long long)h->evicted,
              (long long)empty, pct((double)h->filled, (double)h->capacity));
  } else {
    fprintf(f, " (%lld refilled)", (long long)h->filled);
  }
}

static void history_line(FILE *f, mode m, int menu, const past *h) {
  // The effect: the span after the decision against the span before it.
  const span *after = h->frozen ? &h->shown : &h->after;
  const int measured = h->applied && h->before.steps > 0 && after->steps > 0;
  const double miss_b = per_step(h->before.misses, &h->before), miss_a = per_step(after->misses, after);
  const double rows_b = per_step(h->before.rows_fetched, &h->before);
  const double rows_a = per_step(after->rows_fetched, after);
  if (m == MODE_PAPER) {
    fprintf(f, "- minibatch %lld: ", (long long)h->step);
    if (h->status != RD_LLM_OK)
      fprintf(f, "invalid answer (%s), %s.", rd_llm_status_name(h->status),
              h->replace ? "evicted by the fallback rule" : "no eviction");
    else if (!h->applied)
      fprintf(f, "%s (answer came too late, not applied).", h->replace ? "Yes, evict." : "No, do not evict.");
    else
      fprintf(f, "%s", h->replace ? "Yes, evict." : "No, do not evict.");
    if (h->applied && h->replace) moved(f, m, h);
    if (measured)
      fprintf(f, " Since then: HR %+.0f pts, comm_volume %+.0f (%+.0f%%).", span_rate(after) - span_rate(&h->before),
              miss_a - miss_b, pct(miss_a - miss_b, miss_b));
    fputc('\n', f);
    return;
  }
  fprintf(f, "- step %lld: ", (long long)h->step);
  if (menu) {
    if (h->status != RD_LLM_OK) fprintf(f, "no valid answer (%s), kept the settings", rd_llm_status_name(h->status));
    else if (!h->replace) fprintf(f, "keep");
    else
      fprintf(f, "tune window %d, prior %s, margin %g, pinned %g", (int)h->knobs.window,
              rd_prior_name(h->knobs.prior), h->knobs.margin, h->knobs.pinned);
    if (!h->applied) fprintf(f, " (too late, not applied)");
  } else if (h->status != RD_LLM_OK)
    fprintf(f, "no valid answer (%s), %s", rd_llm_status_name(h->status), h->replace ? "replaced" : "kept");
  else if (!h->replace)
    fprintf(f, "keep");
  else
    fprintf(f, "replace %.0f%%", h->fraction > 0 ? 100 * h->fraction : pct((double)h->stale, (double)h->capacity));
  if (!menu && !h->applied) fprintf(f, " (too late, not applied)");
  else if (!menu && h->replace) moved(f, m, h);
  if (measured)
    fprintf(f, ": rows/step %.0f -> %.0f (%+.0f%%), hit rate %.0f%% -> %.0f%% over %lld steps", rows_b, rows_a,
            pct(rows_a - rows_b, rows_b), span_rate(&h->before), span_rate(after), (long long)after->steps);
  fputc('\n', f);
}

static int render(const agent *a, const request *q, char **system, char **user) {
  const rd_window *w = &q->w;
  char num[NVARS][32] = {{0}}, *val[NVARS];
  for (int i = 0; i < NVARS; i++) val[i] = num[i];
  const long long left = (long long)(w->total_steps - w->step);
#define SET(v, ...) snprintf(num[v], sizeof num[v], __VA_ARGS__)
  SET(V_STEP, "%lld", (long long)w->step);
  SET(V_TOTAL_STEPS, "%lld", (long long)w->total_steps);
  SET(V_STEPS_LEFT, "%lld", left);
  SET(V_STEPS_LEFT_PCT, "%.0f", pct((double)left, (double)w->total_steps));
  SET(V_SINCE_REPLACE, "%lld", (long long)w->steps_since_replace);
  SET(V_CAPACITY, "%lld", (long long)w->capacity);
  SET(V_HALO, "%lld", (long long)w->halo_size);
  SET(V_OCCUPANCY, "%lld", (long long)w->occupancy);
  SET(V_OCCUPANCY_PCT, "%.0f", pct((double)w->occupancy, (double)w->capacity));
  SET(V_STALE, "%lld", (long long)w->stale);
  SET(V_STALE_PCT, "%.0f", pct((double)w->stale, (double)w->capacity));
  SET(V_WINDOW, "%d", w->len);
  SET(V_HIT_RATE, "%.1f", 100 * w->hit_rate);
  SET(V_HIT_RATE_PREV, "%.1f", 100 * w->hit_rate_prev);
  SET(V_HIT_RATE_CHANGE, "%+.1f", 100 * (w->hit_rate - w->hit_rate_prev));
  count_str(num[V_REMOTE], w->remote_per_step);
  count_str(num[V_MISSES], w->misses_per_step);
  count_str(num[V_ROWS_FETCHED], w->rows_fetched_per_step);
  count_str(num[V_EVICTED], w->evicted_per_step);
  SET(V_FETCH_MS, "%.1f", 1e3 * w->fetch_seconds_per_step);
  SET(V_STEP_MS, "%.1f", 1e3 * w->step_seconds_per_step);
  SET(V_CUM_HIT_RATE, "%.0f", q->cum_hit_rate);
  SET(V_COMM_VOLUME, "%.0f", w->misses_per_step);
  SET(V_CANDIDATES, "%lld", (long long)w->candidates);
  for (int i = 0; i < 5; i++) SET(V_CAND_5 + i, "%.1f", w->cand_at[i]);
  SET(V_STALE_AGE_P50, "%.0f", w->stale_age_p50);
  SET(V_STALE_AGE_MAX, "%.0f", w->stale_age_max);
  SET(V_LOOKAHEAD, "%d", (int)a->menu.windows[a->menu.num_windows > 0 ? a->menu.num_windows - 1 : 0]);
  for (int i = 0, n = 0; i < a->menu.num_windows; i++)
    n += snprintf(num[V_WINDOWS] + n, sizeof num[V_WINDOWS] - (size_t)n, "%s%d", i ? ", " : "",
                  (int)a->menu.windows[i]);
  SET(V_KNOB_WINDOW, "%d", (int)q->knobs.window);
  SET(V_KNOB_PRIOR, "%s", rd_prior_name(q->knobs.prior));
  SET(V_KNOB_MARGIN, "%g", q->knobs.margin);
  SET(V_KNOB_PINNED, "%g", q->knobs.pinned);
  for (int i = 0; i < 3; i++) SET(V_KNOWN_25 + i, "%lld", (long long)w->known_held[i]);
  SET(V_KNOWN_MISSING, "%lld", (long long)w->known_missing);
#undef SET
  size_t len = 0;
  FILE *f = open_memstream(&val[V_HISTORY], &len);
  if (!f) return rd_error_set("out of memory rendering the prompt");
  for (int i = 0; i < q->num_past; i++) history_line(f, a->set.mode, a->set.menu, &q->hist[i]);
  if (!q->num_past) fputs(a->set.mode == MODE_PAPER ? "(no evictions yet)" : "(none yet)", f);
  const int bad = fclose(f);
  if (!bad && len && val[V_HISTORY][len - 1] == '\n') val[V_HISTORY][len - 1] = 0;
  *system = bad ? NULL : fill(a->tmpl[0], val);
  *user = bad ? NULL : fill(a->tmpl[1], val);
  free(val[V_HISTORY]);
  if (*system && *user) return 0;
  free(*system);
  free(*user);
  return rd_error_set("out of memory rendering the prompt");
}

// ---- the agent's thread --------------------------------------------------

static void *worker(void *arg) {
  agent *a = arg;
  pthread_mutex_lock(&a->mu);
  for (;;) {
    // One answer at a time: the next request waits until decide took the last.
    while (!a->stop && (!a->has_req || a->has_resp)) pthread_cond_wait(&a->cv, &a->mu);
    if (a->stop) break;
    request q = a->req;
    a->has_req = 0;
    a->busy = 1 + q.warm;  // 2: warming up
    pthread_mutex_unlock(&a->mu);
    response r = {.w = q.w, .cum_hit_rate = q.cum_hit_rate};
    char *system, *user;
    if (q.warm) {
      // Nobody waits for a warm-up's answer: its effect is the server's cache.
      if (render(a, &q, &system, &user) == 0) {
        rd_llm_warm(a->client, system, user, &a->cancel, NULL);
        free(system);
        free(user);
      }
      pthread_mutex_lock(&a->mu);
      a->busy = 0;
      pthread_cond_broadcast(&a->cv);
      continue;
    }
    if (render(a, &q, &system, &user) == 0) {
      rd_llm_ask(a->client, system, user, &a->cancel, &r.reply);
      free(system);
      free(user);
    } else {
      r.reply.status = RD_LLM_ERR_TRANSPORT;
      snprintf(r.reply.message, sizeof r.reply.message, "%s", rd_error());
    }
    r.latency = rd_now() - q.posted_at;
    pthread_mutex_lock(&a->mu);
    a->resp = r;
    a->has_resp = 1;
    a->busy = 0;
    pthread_cond_broadcast(&a->cv);  // drain may be waiting for this answer
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

// ---- the policy ----------------------------------------------------------

static void destroy(void *state) {
  agent *a = state;
  pthread_mutex_lock(&a->mu);
  a->stop = 1;
  atomic_store(&a->cancel, 1);
  pthread_cond_signal(&a->cv);
  pthread_mutex_unlock(&a->mu);
  if (a->leader) pthread_join(a->thread, NULL);
  if (a->has_resp) rd_llm_reply_free(&a->resp.reply);
  pthread_cond_destroy(&a->cv);
  pthread_mutex_destroy(&a->mu);
  for (int64_t i = 0; i < a->num_log; i++) free(a->log[i].raw);
  free(a->log);
  rd_llm_client_free(a->client);
  free(a->tmpl[0]);
  free(a->tmpl[1]);
  free(a->opts);
  // A gather still in flight (a run that failed before drain) may yet write
  // into the buffer: leave it to the process's end rather than free it.
  if (a->greq == MPI_REQUEST_NULL) free(a->slots);
  free(a);
}

static int number(const char *key, const char *v, double lo, double hi, int integer, double *out) {
  char *end;
  const double x = strtod(v, &end);
  if (end == v || *end || !(x >= lo && x <= hi) || (integer && x != (double)(long long)x))
    return rd_error_set("policy options: %s=%s is not %s in [%g, %g]", key, v,
                        integer ? "an integer" : "a number", lo, hi);
  *out = x;
  return 0;
}

static int parse_options(settings *s, char *opts) {
  char *save = NULL;
  for (char *kv = strtok_r(opts, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *v = strchr(kv, '=');
    if (!v || v == kv) return rd_error_set("policy options: '%s' is not key=value", kv);
    *v++ = 0;
    double x = 0;
    int rc = 0;
    if (!strcmp(kv, "endpoint")) s->llm.endpoint = v;
    else if (!strcmp(kv, "model")) s->llm.model = v;
    else if (!strcmp(kv, "api_key_env")) s->llm.api_key_env = v;
    else if (!strcmp(kv, "prompts")) s->prompts = v;
    else if (!strcmp(kv, "prompt")) s->prompt = v;
    else if (!strcmp(kv, "dialect")) rc = rd_llm_dialect_parse(v, &s->llm.dialect);
    else if (!strcmp(kv, "temperature")) rc = number(kv, v, 0, 2, 0, &s->llm.temperature);
    else if (!strcmp(kv, "max_tokens")) {
      rc = number(kv, v, 16, 4096, 1, &x);
      s->llm.max_tokens = (int)x;
    } else if (!strcmp(kv, "timeout_ms")) {
      rc = number(kv, v, 1, 36e5, 1, &x);
      s->llm.timeout_ms = (long)x;
    } else if (!strcmp(kv, "connect_timeout_ms")) {
      rc = number(kv, v, 1, 6e4, 1, &x);
      s->llm.connect_timeout_ms = (long)x;
    } else if (!strcmp(kv, "history")) {
      rc = number(kv, v, 0, MAX_HISTORY, 1, &x);
      s->history = (int)x;
    } else if (!strcmp(kv, "max_age")) {
      rc = number(kv, v, 0, 1e12, 1, &x);
      s->max_age = (int64_t)x;
    } else if (!strcmp(kv, "reason_chars")) {
      rc = number(kv, v, 0, 400, 1, &x);
      s->llm.reason_chars = x > 0 ? (int)x : -1;  // 0: no reason asked
    } else if (!strcmp(kv, "warmup")) {
      rc = number(kv, v, 0, 1, 1, &x);
      s->warmup = (int)x;
    } else if (!strcmp(kv, "cache_prompt")) {
      rc = number(kv, v, 0, 1, 1, &x);
      s->llm.cache_prompt = (int)x;
    } else if (!strcmp(kv, "prefill")) {
      rc = number(kv, v, 0, 1, 1, &x);
      s->llm.prefill = (int)x;
    } else if (!strcmp(kv, "scope") && (!strcmp(v, "job") || !strcmp(v, "rank")))
      s->scope_job = *v == 'j';
    else if (!strcmp(kv, "mode") && (!strcmp(v, "rudder") || !strcmp(v, "paper")))
      s->mode = *v == 'p' ? MODE_PAPER : MODE_RUDDER;
    else if (!strcmp(kv, "fallback") && (!strcmp(v, "keep") || !strcmp(v, "periodic")))
      s->fallback_periodic = *v == 'p';
    else
      return rd_error_set("policy options: unknown '%s=%s' (known: endpoint, model, dialect=openai|ollama, "
                          "api_key_env, temperature, max_tokens, timeout_ms, connect_timeout_ms, history, "
                          "mode=rudder|paper, scope=job|rank, fallback=keep|periodic, max_age, "
                          "reason_chars, warmup=0|1, cache_prompt=0|1, prefill=0|1, prompts, prompt)", kv, v);
    if (rc) return -1;
  }
  return 0;
}

static request snapshot(const agent *a, const rd_window *w);

// Whether a system template names only what the agent knows when it starts
// (the menu), not the run's window.
static int fixed_system(const char *t) {
  for (const char *o = strstr(t, "{{"); o; o = strstr(o + 2, "{{")) {
    const int v = var_index(o + 2, (size_t)(strstr(o, "}}") - o - 2));
    if (v != V_LOOKAHEAD && v != V_WINDOWS) return 0;
  }
  return 1;
}

// A system message that names nothing of the run's window is the same for
// the whole run: the server evaluates it here, before the first step, as it
// loads the model before the run (its cost is the run's start-up, not a
// question's). The window is empty: only the system message's prefix is
// meant to stay in the cache. A failure here is the first question's.
static void warm(agent *a) {
  const request q = snapshot(a, &(rd_window){0});
  char *system, *user;
  if (render(a, &q, &system, &user) == 0) {
    rd_llm_warm(a->client, system, user, NULL, NULL);
    free(system);
    free(user);
  }
  a->warmed = 1;
}

static int create(const preset *pre, const rd_policy_params *p, void **state) {
  agent *a = calloc(1, sizeof *a);
  if (!a) return rd_error_set("out of memory");
  a->set = pre->set;
  const char *env = getenv("RUDDER_PROMPTS");
  if (env && *env) a->set.prompts = env;
  a->opts = strdup(p->options ? p->options : "");
  int rc = a->opts ? parse_options(&a->set, a->opts) : rd_error_set("out of memory");
  settings *s = &a->set;
  if (s->history < 0) s->history = s->mode == MODE_PAPER ? 5 : pre->history;
  if (s->max_age < 0) s->max_age = p->period;
  if (s->scope_job < 0) s->scope_job = s->mode != MODE_PAPER;  // the paper: one agent per rank
  a->leader = 1;
  a->greq = MPI_REQUEST_NULL;
  if (!rc && s->scope_job && p->comm) {
    a->job = 1;
    a->comm = *(const MPI_Comm *)p->comm;
    MPI_Comm_rank(a->comm, &a->rank);
    MPI_Comm_size(a->comm, &a->size);
    a->leader = a->rank == 0;
    if (!(a->slots = calloc((size_t)a->size, sizeof *a->slots))) rc = rd_error_set("out of memory");
  }
  s->llm.want_fraction = s->mode == MODE_RUDDER;  // the paper's agent answers yes or no
  s->llm.seed = p->seed;
  if (s->menu) {
    if (s->mode == MODE_PAPER && !rc) rc = rd_error_set("policy options: mode=paper has no menu (the paper's agent answers yes or no)");
    // The menu (core/buffer/menu.h), each window once.
    const int32_t K = p->lookahead;
    int32_t w[RD_MENU_WINDOWS];
    rd_menu_windows(K, w);
    rd_llm_menu *m = &a->menu;
    for (int i = 0; i < RD_MENU_WINDOWS; i++)
      if (!m->num_windows || w[i] > m->windows[m->num_windows - 1]) m->windows[m->num_windows++] = w[i];
    m->num_priors = RD_MENU_PRIORS;
    for (int i = 0; i < RD_MENU_PRIORS; i++) m->priors[i] = rd_prior_name(rd_menu_priors[i]);
    m->num_margins = RD_MENU_MARGINS;
    memcpy(m->margins, rd_menu_margins, sizeof rd_menu_margins);
    m->num_pinned = RD_MENU_PINNED;
    memcpy(m->pinned, rd_menu_pinned, sizeof rd_menu_pinned);
    // The lookahead policy's defaults until an answer tunes them.
    a->knobs = rd_menu_start(K);
    s->llm.menu = m;
    s->llm.want_fraction = 0;
  }
  if (!rc) rc = load_templates(a, pre->prompt);
  if (!rc && !(a->client = rd_llm_client_new(&s->llm))) rc = -1;
  if (!rc && a->leader && s->warmup && fixed_system(a->tmpl[0])) warm(a);
  if (!rc && pthread_mutex_init(&a->mu, NULL)) rc = rd_error_set("cannot create a mutex");
  if (!rc && pthread_cond_init(&a->cv, NULL)) {
    pthread_mutex_destroy(&a->mu);
    rc = rd_error_set("cannot create a condition variable");
  }
  if (!rc && a->leader && pthread_create(&a->thread, NULL, worker, a)) {
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    rc = rd_error_set("cannot start the LLM agent's thread");
  }
  if (rc) {
    rd_llm_client_free(a->client);
    free(a->tmpl[0]);
    free(a->tmpl[1]);
    free(a->opts);
    free(a->slots);
    free(a);
    return rd_error_wrap("policy %s", pre->policy);
  }
  *state = a;
  return 0;
}

// The paper's hit rate is cumulative. Windows that do not overlap are added
// up (weighted by remote accesses, as the window's rate is per access); the
// steps since the last one counted are estimated by the current window.
static void count_window(agent *a, const rd_window *w) {
  if (w->len > 0 && w->step - a->cum_step >= w->len) {
    const double weight = w->remote_per_step * w->len;
    a->cum_hits += w->hit_rate * weight;
    a->cum_weight += weight;
    a->cum_step = w->step;
  }
}

static double cum_hit_rate(const agent *a, const rd_window *w) {
  const double recent = w->remote_per_step * (double)(w->step - a->cum_step);
  const double total = a->cum_weight + recent;
  return total > 0 ? 100 * (a->cum_hits + w->hit_rate * recent) / total : 100 * w->hit_rate;
}

// What the model is shown of window `w`: the window and the last decisions,
// the latest applied one measured up to now.
static request snapshot(const agent *a, const rd_window *w) {
  request q = {.w = *w, .posted_at = rd_now(), .cum_hit_rate = cum_hit_rate(a, w), .knobs = a->knobs};
  q.num_past = a->num_past < a->set.history ? a->num_past : a->set.history;
  memcpy(q.hist, a->hist + a->num_past - q.num_past, (size_t)q.num_past * sizeof *q.hist);
  // A decision's baseline is the span of the applied decision before it
  // (kept in the entry when that one has left the array).
  const int first = a->num_past - q.num_past;
  for (int i = 0; i < q.num_past; i++) {
    if (!q.hist[i].applied) continue;
    int j = first + i - 1;
    while (j >= 0 && !a->hist[j].applied) j--;
    if (j >= 0) q.hist[i].before = a->hist[j].after;
  }
  return q;
}

static char *raw_text(const rd_llm_reply *r) {
  if (r->status == RD_LLM_OK) return strdup(r->content);
  const char *answer = r->content ? r->content : r->raw;
  char *s = malloc(sizeof r->message + RAW_LIMIT + 64);
  if (s)
    sprintf(s, "%s: %s%s%.*s", rd_llm_status_name(r->status), r->message, answer ? " | " : "",
            RAW_LIMIT, answer ? answer : "");
  return s;
}

// The action an answer (or its failure's fallback) stands for.
static rd_replace action_of(const agent *a, const rd_policy_params *p, const rd_llm_reply *r) {
  const int ok = r->status == RD_LLM_OK;
  if (a->set.menu) {
    if (!ok || !r->replace) return (rd_replace){0};  // keep the knobs in force
    rd_prior prior = RD_PRIOR_VIP;
    rd_prior_parse(a->menu.priors[r->prior], &prior);  // (the menu lists only known names)
    return (rd_replace){.tune = 1, .window = r->window, .prior = prior, .margin = r->margin,
                        .pinned = r->pinned};
  }
  rd_replace act = {.replace = a->set.fallback_periodic, .fraction = p->fraction};
  if (ok) {
    // rudder: the share of the capacity to replace (0 replaces nothing);
    // paper: yes or no over every stale slot (fraction 0 in rd_replace).
    act.replace = r->replace && (a->set.mode == MODE_PAPER || r->fraction > 0);
    act.fraction = a->set.mode == MODE_PAPER ? 0 : r->fraction;
  }
  return act;
}

// Applies (or drops, when too old) an answer that arrived before `step`;
// returns whether it is applied to `step` (then *out holds it).
static int resolve(agent *a, const rd_policy_params *p, int64_t step, response *got, rd_replace *out) {
  const rd_llm_reply *r = &got->reply;
  const int ok = r->status == RD_LLM_OK, late = step - got->w.step > a->set.max_age;
  const rd_replace act = action_of(a, p, r);
  if (!late) *out = act;
  if (!late && act.tune) a->knobs = act;
  a->stats.answered += ok;
  a->stats.errors[r->status] += !ok;
  a->stats.stale += late;
  a->stats.applied += !late;
  a->stats.fallbacks += !ok && !late;
  past h = {.step = got->w.step, .step_applied = late ? -1 : step, .stale = got->w.stale,
            .capacity = got->w.capacity, .status = r->status, .replace = act.replace, .applied = !late,
            .fraction = act.fraction, .cum_hit_rate = got->cum_hit_rate, .evicted = act.replace ? -1 : 0,
            .filled = act.replace ? -1 : 0, .knobs = act};
  if (a->set.menu) h.replace = act.tune;
  if (!late) {
    // Its baseline: the span of the applied decision before it, as far as
    // it is measured now (snapshot completes it while both are in the array).
    int j = a->num_past - 1;
    while (j >= 0 && !a->hist[j].applied) j--;
    h.before = j >= 0 ? a->hist[j].after : a->seg0;
  }
  if (a->num_past == MAX_HISTORY) memmove(a->hist, a->hist + 1, (MAX_HISTORY - 1) * sizeof *a->hist);
  a->hist[a->num_past < MAX_HISTORY ? a->num_past++ : MAX_HISTORY - 1] = h;
  a->log = rd_grow(a->log, &a->cap_log, a->num_log + 1, sizeof *a->log);
  a->log[a->num_log++] = (rd_decision){
      .step_posted = got->w.step, .step_applied = late ? -1 : step,
      .replace = late ? 0 : act.replace || act.tune,  // menu: 1 = tune
      .fraction = late ? 0 : (float)act.fraction,
      .latency_seconds = got->latency, .valid = ok, .fallback = !ok && !late, .raw = raw_text(r)};
  rd_llm_reply_free(&got->reply);
  return !late;
}

// The job's window from every rank's: counts add up, rates are weighted
// by the accesses they were measured on, times are the slowest rank's (the
// job waits for it at every collective).
static rd_window job_window(const job_slot *s, int n) {
  rd_window j = s[0].w;
  double hits = 0, acc = 0, hits_prev = 0, acc_prev = 0;
  j.capacity = j.halo_size = j.occupancy = j.stale = 0;
  j.remote_per_step = j.misses_per_step = j.rows_fetched_per_step = j.evicted_per_step = 0;
  j.last_accesses = j.last_hits = j.last_misses = j.last_rows_fetched = j.last_evicted = j.last_filled = 0;
  j.candidates = 0;
  j.stale_age_p50 = j.stale_age_max = 0;
  j.known_held[0] = j.known_held[1] = j.known_held[2] = j.known_missing = 0;
  for (int i = 0; i < 5; i++) j.cand_at[i] = 0;
  for (int r = 0; r < n; r++) {
    const rd_window *w = &s[r].w;
    j.steps_since_replace = w->steps_since_replace < j.steps_since_replace ? w->steps_since_replace
                                                                           : j.steps_since_replace;
    j.capacity += w->capacity; j.halo_size += w->halo_size;
    j.occupancy += w->occupancy; j.stale += w->stale;
    j.remote_per_step += w->remote_per_step; j.misses_per_step += w->misses_per_step;
    j.rows_fetched_per_step += w->rows_fetched_per_step; j.evicted_per_step += w->evicted_per_step;
    hits += w->hit_rate * w->accesses_per_step; acc += w->accesses_per_step;
    hits_prev += w->hit_rate_prev * w->accesses_prev_per_step; acc_prev += w->accesses_prev_per_step;
    if (w->fetch_seconds_per_step > j.fetch_seconds_per_step) j.fetch_seconds_per_step = w->fetch_seconds_per_step;
    if (w->step_seconds_per_step > j.step_seconds_per_step) j.step_seconds_per_step = w->step_seconds_per_step;
    j.last_accesses += w->last_accesses; j.last_hits += w->last_hits; j.last_misses += w->last_misses;
    j.last_rows_fetched += w->last_rows_fetched; j.last_evicted += w->last_evicted;
    j.last_filled += w->last_filled;
    // Each rank replaces its own share: the ranks' views are averaged.
    j.candidates += w->candidates;
    for (int i = 0; i < 5; i++) j.cand_at[i] += w->cand_at[i] / n;
    if (w->stale_age_max > j.stale_age_max) j.stale_age_max = w->stale_age_max;
    j.stale_age_p50 += w->stale_age_p50 / n;
    for (int i = 0; i < 3; i++) j.known_held[i] += w->known_held[i];
    j.known_missing += w->known_missing;
  }
  j.accesses_per_step = acc;
  j.accesses_prev_per_step = acc_prev;
  j.hit_rate = acc > 0 ? hits / acc : 0;
  j.hit_rate_prev = acc_prev > 0 ? hits_prev / acc_prev : j.hit_rate;
  return j;
}

// A window posted and never asked (a newer one replaced it while the model
// was busy, or training ended) is a record too: the results then hold every
// decision point, and a figure shows the ones the model had no time for.
static void log_superseded(agent *a, int64_t step) {
  a->stats.superseded++;
  a->log = rd_grow(a->log, &a->cap_log, a->num_log + 1, sizeof *a->log);
  a->log[a->num_log++] = (rd_decision){
      .step_posted = step, .step_applied = -1,
      .raw = strdup("superseded: not asked, the model was still answering an older window")};
}

static void post(agent *a, const request *q) {
  pthread_mutex_lock(&a->mu);
  const int64_t dropped = a->has_req && !a->req.warm ? a->req.w.step : -1;
  a->stats.posted += !q->warm;
  a->req = *q;
  a->has_req = 1;
  pthread_cond_signal(&a->cv);
  pthread_mutex_unlock(&a->mu);
  if (dropped >= 0) log_superseded(a, dropped);
}

// Takes the answer waiting in the mailbox, if any.
static int take(agent *a, response *got) {
  pthread_mutex_lock(&a->mu);
  const int have = a->has_resp;
  if (have) {
    *got = a->resp;
    a->has_resp = 0;
    pthread_cond_signal(&a->cv);  // the slot is free for the next answer
  }
  pthread_mutex_unlock(&a->mu);
  return have;
}

// The leader's part of a step, on the (job's) window: measure, record the
// answer taken before the step, warm the server once, ask at decision points.
// The counts of step t (a window's last_*) join the span of the latest
// decision applied at or before t: spans run from one applied decision to
// the next, whenever the counts arrive.
static void count_step(agent *a, int64_t t, const rd_window *w) {
  span *s = &a->seg0;
  for (int i = a->num_past - 1; i >= 0; i--)
    if (a->hist[i].applied && a->hist[i].step_applied <= t) {
      s = &a->hist[i].after;
      if (a->hist[i].step_applied == t && a->hist[i].evicted < 0)
        a->hist[i].evicted = w->last_evicted, a->hist[i].filled = w->last_filled;
      break;
    }
  s->steps++;
  s->accesses += w->last_accesses;
  s->hits += w->last_hits;
  s->misses += w->last_misses;
  s->rows_fetched += w->last_rows_fetched;
}

// The leader's part of a step, on the (job's) window `w`: measure, record
// the answer taken (applied before step `at`), warm the server once, ask at
// decision points.
static void lead(agent *a, const rd_policy_params *p, const rd_window *w, int have, response *got, int64_t at) {
  if (w->step > 0) count_step(a, w->step - 1, w);
  count_window(a, w);
  rd_replace unused;
  if (have) resolve(a, p, at, got, &unused);
  if (a->set.warmup && !a->warmed) {
    // The first window has the run's fixed facts (the system prompt): the
    // server evaluates them now, while the first steps run.
    request q = snapshot(a, w);
    q.warm = 1;
    post(a, &q);
    a->warmed = 1;
  }
  // A decision point: the newest window replaces one the thread has not
  // taken yet (the model is still busy with an older one).
  if (w->step > 0 && p->period > 0 && w->step % p->period == 0) {
    for (int i = 0; i < a->num_past; i++)
      if (a->hist[i].applied && !a->hist[i].frozen && a->hist[i].after.steps > 0)
        a->hist[i].shown = a->hist[i].after, a->hist[i].frozen = 1;
    const request q = snapshot(a, w);
    post(a, &q);
  }
}

static void decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  agent *a = state;
  *out = (rd_replace){0};
  // Before the first step (the LOOKAHEAD rule's initial fill): the knobs a
  // menu agent starts from, and nothing else (not in the job's lock-step).
  if (w->step < 0) {
    if (a->set.menu) *out = a->knobs;
    return;
  }
  if (!a->job) {
    response got;
    const int have = take(a, &got);
    if (have && w->step - got.w.step <= a->set.max_age) *out = action_of(a, p, &got.reply);
    lead(a, p, w, have, &got, w->step);
    return;
  }
  // scope=job: one non-blocking gather per step, started here and completed
  // at the next step's decide. The leader's entry carries the decision that
  // every rank applies before that next step; the leader learns the job's
  // window from the others' entries one step late. Every rank calls decide
  // at every step (the prefetcher's contract when params.comm is set), and
  // by the next step all have passed this one (its exchange synchronised
  // them): completing the gather then waits for nobody.
  if (a->greq != MPI_REQUEST_NULL) {
    MPI_Wait(&a->greq, MPI_STATUS_IGNORE);
    if (a->slots[0].act) *out = a->slots[0].rep;
    if (a->leader) {
      const rd_window jw = job_window(a->slots, a->size);
      lead(a, p, &jw, a->sent_have, &a->sent_got, w->step);
    }
  }
  a->sent = (job_slot){.w = *w};
  // The last step's gather would complete after training: no answer rides
  // in it (drain logs one still waiting as too late).
  a->sent_have = a->leader && w->step + 1 < w->total_steps && take(a, &a->sent_got);
  if (a->sent_have && w->step + 1 - a->sent_got.w.step <= a->set.max_age) {
    a->sent.act = 1;
    a->sent.rep = action_of(a, p, &a->sent_got.reply);
  }
  MPI_Iallgather(&a->sent, (int)sizeof a->sent, MPI_BYTE, a->slots, (int)sizeof a->sent, MPI_BYTE, a->comm,
                 &a->greq);
}

// Training is over: an answer still on its way is waited for (the client's
// timeout bounds the wait) and logged as arrived too late, so that every
// question asked is in the results.
static int64_t drain(void *state, rd_decision **out) {
  agent *a = state;
  if (a->job && a->greq != MPI_REQUEST_NULL) {
    // Every rank drains at the same point of the run: the last gather ends
    // here, and its windows still count (no answer rode in it).
    MPI_Wait(&a->greq, MPI_STATUS_IGNORE);
    if (a->leader) {
      const rd_window jw = job_window(a->slots, a->size);
      if (jw.step > 0) count_step(a, jw.step - 1, &jw);
    }
  }
  pthread_mutex_lock(&a->mu);
  // A question that waited only for the warm-up is still asked (its answer
  // is logged as too late), as it would have been without one; one posted
  // while the model answered another is not: nobody will ask it now.
  if (a->busy == 2 && a->has_req && !a->req.warm)
    while (!a->has_resp && (a->busy || a->has_req)) pthread_cond_wait(&a->cv, &a->mu);
  const int64_t dropped = a->has_req && !a->req.warm ? a->req.w.step : -1;
  a->has_req = 0;
  while (a->busy && !a->has_resp) pthread_cond_wait(&a->cv, &a->mu);
  response got;
  const int have = a->has_resp;
  if (have) {
    got = a->resp;
    a->has_resp = 0;
  }
  pthread_mutex_unlock(&a->mu);
  if (have) {
    rd_replace unused;
    const rd_policy_params none = {0};
    resolve(a, &none, got.w.step + a->set.max_age + 1, &got, &unused);
  }
  if (dropped >= 0) log_superseded(a, dropped);
  const int64_t n = a->num_log;
  *out = a->log;
  a->log = NULL;
  a->num_log = a->cap_log = 0;
  return n;
}

void rd_llm_agent_stats(void *state, rd_llm_stats *out) { *out = ((agent *)state)->stats; }

int rd_llm_agent_render(void *state, const rd_window *w, char **system, char **user) {
  const request q = snapshot(state, w);
  return render(state, &q, system, user);
}

// llm: a larger model anywhere (a long timeout, a longer history, nothing
// a hosted API might refuse); slm: the local small model of
// scripts/setup_llm on llama-server (a short prompt and answer, the prompt
// cache warmed before the first question).
static const preset llm_preset = {
    .policy = "llm", .history = 8, .prompt = "rudder",
    .set = {.llm = {.endpoint = "http://127.0.0.1:8080", .model = "default", .dialect = RD_LLM_OPENAI,
                    .temperature = 0, .max_tokens = 256, .connect_timeout_ms = 2000, .timeout_ms = 60000},
            .mode = MODE_RUDDER, .history = -1, .max_age = -1, .scope_job = -1,
            .prompts = RUDDER_PROMPTS_DIR}};
static const preset slm_preset = {
    .policy = "slm", .history = 3, .prompt = "slm",
    .set = {.llm = {.endpoint = "http://127.0.0.1:8080", .model = "smollm2-135m-instruct",
                    .dialect = RD_LLM_OPENAI, .temperature = 0, .max_tokens = 48, .reason_chars = -1,
                    .cache_prompt = 1, .prefill = 1, .connect_timeout_ms = 1000, .timeout_ms = 60000},
            .mode = MODE_RUDDER, .history = -1, .max_age = -1, .scope_job = -1, .warmup = 1,
            .prompts = RUDDER_PROMPTS_DIR}};

static int create_llm(const rd_policy_params *p, void **state) { return create(&llm_preset, p, state); }
static int create_slm(const rd_policy_params *p, void **state) { return create(&slm_preset, p, state); }
static int create_menu(const preset *base, const char *name, const rd_policy_params *p, void **state) {
  preset pre = *base;
  pre.policy = name;
  pre.set.menu = 1;
  return create(&pre, p, state);
}
static int create_llm_menu(const rd_policy_params *p, void **state) {
  return create_menu(&llm_preset, "llm-menu", p, state);
}
static int create_slm_menu(const rd_policy_params *p, void **state) {
  return create_menu(&slm_preset, "slm-menu", p, state);
}

const rd_policy_ops rd_policy_llm = {
    .name = "llm", .summary = "score-rule replacement when an LLM agent says so (any OpenAI/Ollama server)",
    .uses_buffer = 1, .init = RD_INIT_DEGREE, .rule = RD_RULE_SCORE, .flags = RD_POLICY_SERVER | RD_POLICY_SCORES, .create = create_llm,
    .decide = decide, .destroy = destroy, .drain = drain};
const rd_policy_ops rd_policy_slm = {
    .name = "slm", .summary = "the llm agent on the local small model (scripts/setup_llm)",
    .uses_buffer = 1, .init = RD_INIT_DEGREE, .rule = RD_RULE_SCORE, .flags = RD_POLICY_SERVER | RD_POLICY_SCORES, .create = create_slm,
    .decide = decide, .destroy = destroy, .drain = drain};
// The menu agents drive the lookahead policy's rule (baselines/lookahead.c):
// its start (empty), the sample-ahead window (--lookahead K), and the knobs.
const rd_policy_ops rd_policy_llm_menu = {
    .name = "llm-menu", .summary = "the lookahead rule with its knobs chosen by an LLM agent from a menu",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LOOKAHEAD,
    .flags = RD_POLICY_SERVER | RD_POLICY_FUTURE | RD_POLICY_VIP | RD_POLICY_SCORES, .create = create_llm_menu, .decide = decide,
    .destroy = destroy, .drain = drain};
const rd_policy_ops rd_policy_slm_menu = {
    .name = "slm-menu", .summary = "the lookahead rule with its knobs chosen by the local small model",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LOOKAHEAD,
    .flags = RD_POLICY_SERVER | RD_POLICY_FUTURE | RD_POLICY_VIP | RD_POLICY_SCORES, .create = create_slm_menu, .decide = decide,
    .destroy = destroy, .drain = drain};
