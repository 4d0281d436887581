// The LLM client and agent under the faults a real server cannot be made to
// produce on cue: malformed JSON, an answer that is not the decision object,
// an out-of-range fraction, HTTP 500, a hang past the timeout, a refused
// connection, and a late answer. Each must yield its own error status, the
// fallback action, a count and a log record with the raw answer, while
// decide() keeps returning at once. Also: both dialects' request formats,
// the API key kept out of logs, option and template errors, shutdown with
// a request in flight.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault_server.h"
#include "llm/client.h"
#include "llm_common.h"

// ---- the cases -------------------------------------------------------------

typedef struct fault_case {
  fault fault;
  rd_llm_status status;
  const char *raw;  // must appear in the logged answer
} fault_case;

static const fault_case cases[] = {
    {FAULT_MALFORMED, RD_LLM_ERR_BODY, "oops"},
    {FAULT_NOT_DECISION, RD_LLM_ERR_ANSWER, "Yes, evict."},  // the reference would have evicted
    {FAULT_RANGE, RD_LLM_ERR_RANGE, "1.5"},
    {FAULT_HTTP500, RD_LLM_ERR_HTTP, "boom"},
    {FAULT_HANG, RD_LLM_ERR_TIMEOUT, "within 400 ms"},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static char url[64], closed_url[64];

// A port that refuses: an injector's, once it is stopped, so nothing listens there.
static void make_closed_url(void) {
  fault_server *s = fault_server_start(FAULT_OK);
  CHECK(s, "cannot start the fault injector");
  snprintf(closed_url, sizeof closed_url, "http://127.0.0.1:%d", fault_server_port(s));
  fault_server_stop(s);
}

static void client_statuses(fault_server *f) {
  setenv("RUDDER_TEST_LLM_KEY", "sekret-value", 1);
  for (int d = 0; d < 2; d++) {
    const rd_llm_config cfg = {.endpoint = url, .model = "m", .dialect = d ? RD_LLM_OLLAMA : RD_LLM_OPENAI,
                               .api_key_env = "RUDDER_TEST_LLM_KEY", .max_tokens = 64,
                               .connect_timeout_ms = 400, .timeout_ms = 400, .want_fraction = 1};
    rd_llm_client *c = rd_llm_client_new(&cfg);
    CHECK(c, "%s", rd_error());
    rd_llm_reply r;
    fault_server_set(f, FAULT_OK, 0);
    CHECK(rd_llm_ask(c, "sys", "user", NULL, &r) == RD_LLM_OK, "%s", r.message);
    CHECK(r.replace == 1 && r.fraction == 0.25 && !strcmp(r.reason, "stale slots"), "answer parsed");
    CHECK(r.prompt_tokens == 120 && r.completion_tokens == 20, "token counts");
    rd_llm_reply_free(&r);
    char last[FAULT_LAST_MAX];
    fault_server_last(f, last, sizeof last);
    CHECK(strstr(last, "Authorization: Bearer sekret-value"), "the key is sent as a bearer token");
    if (d) {
      CHECK(!strncmp(last, "POST /api/chat ", 15), "ollama path: %.40s", last);
      CHECK(strstr(last, "\"format\":{") && strstr(last, "\"num_predict\":64") &&
                strstr(last, "\"stream\":false"), "ollama request: %s", last);
    } else {
      CHECK(!strncmp(last, "POST /v1/chat/completions ", 26), "openai path: %.40s", last);
      CHECK(strstr(last, "\"response_format\":{\"type\":\"json_schema\"") && strstr(last, "\"max_tokens\":64") &&
                strstr(last, "\"enum\":[\"replace\",\"keep\"]"), "openai request: %s", last);
    }
    for (int i = 0; i < NCASES; i++) {
      fault_server_set(f, cases[i].fault, 0);
      CHECK(rd_llm_ask(c, "sys", "user", NULL, &r) == cases[i].status, "fault %d: got %s (%s)",
            cases[i].fault, rd_llm_status_name(r.status), r.message);
      CHECK(r.message[0] && !strstr(r.message, "sekret"), "a message, without the key");
      rd_llm_reply_free(&r);
    }
    rd_llm_client_free(c);
  }
  const rd_llm_config refused = {.endpoint = closed_url, .max_tokens = 64, .connect_timeout_ms = 400,
                                 .timeout_ms = 400};
  rd_llm_client *c = rd_llm_client_new(&refused);
  rd_llm_reply r;
  CHECK(rd_llm_ask(c, "s", "u", NULL, &r) == RD_LLM_ERR_CONNECT && !r.raw, "refused: %s", r.message);
  rd_llm_reply_free(&r);
  rd_llm_client_free(c);
}

static char *opts(const char *endpoint, const char *extra) {
  static char s[512];
  snprintf(s, sizeof s, "endpoint=%s,timeout_ms=400,connect_timeout_ms=400,max_age=100000%s%s", endpoint,
           *extra ? "," : "", extra);
  return s;
}

// One decision point per fault through the agent: the fallback is applied,
// counted and logged with the raw answer, and decide() never waited.
static void agent_fallbacks(fault_server *f) {
  for (int i = 0; i <= NCASES; i++) {
    const int refused = i == NCASES;
    const rd_llm_status want = refused ? RD_LLM_ERR_CONNECT : cases[i].status;
    if (!refused) fault_server_set(f, cases[i].fault, 0);
    llm_policy p = llm_open(&rd_policy_llm, 1000, 0.3, opts(refused ? closed_url : url, "fallback=periodic"));
    const llm_run run = llm_steps(&p, 1000, 0.002, 5);
    CHECK(run.applied_step > 1000, "%s: the fallback was applied after the decision point",
          rd_llm_status_name(want));
    CHECK(run.action.replace == 1 && run.action.fraction == 0.3, "periodic fallback: replace 30%%");
    // Property, not a benchmark: decide returned while the server was busy.
    if (want == RD_LLM_ERR_TIMEOUT) CHECK(run.calls > 10, "decide kept returning during the hang");
    CHECK(run.longest < 0.2, "decide took %.3f s", run.longest);
    rd_llm_stats st;
    rd_llm_agent_stats(p.state, &st);
    CHECK(st.errors[want] == 1 && st.fallbacks == 1 && st.applied == 1 && st.answered == 0,
          "%s counted", rd_llm_status_name(want));
    rd_decision *d;
    CHECK(p.ops->drain(p.state, &d) == 1, "one decision logged");
    CHECK(d[0].step_posted == 1000 && d[0].step_applied == run.applied_step && d[0].replace == 1 &&
              d[0].valid == 0 && d[0].fallback == 1, "decision record");
    CHECK(!strncmp(d[0].raw, rd_llm_status_name(want), strlen(rd_llm_status_name(want))) &&
              strstr(d[0].raw, refused ? "cannot connect" : cases[i].raw),
          "raw answer logged: %s", d[0].raw);
    llm_free_decisions(d, 1);
    p.ops->destroy(p.state);
  }
  // fallback=keep (the default): the step goes on without a replacement.
  fault_server_set(f, FAULT_HTTP500, 0);
  llm_policy p = llm_open(&rd_policy_llm, 1000, 0.3, opts(url, ""));
  const llm_run run = llm_steps(&p, 1000, 0.002, 5);
  CHECK(run.applied_step > 1000 && run.action.replace == 0, "keep fallback");
  p.ops->destroy(p.state);
}

static void agent_answers(fault_server *f) {
  fault_server_set(f, FAULT_OK, 0);
  llm_policy p = llm_open(&rd_policy_llm, 1000, 0.3, opts(url, ""));
  const llm_run run = llm_steps(&p, 1000, 0.002, 5);
  CHECK(run.applied_step > 1000 && run.action.replace == 1 && run.action.fraction == 0.25, "answer applied");
  // Applied once: the next steps keep the buffer.
  rd_replace out;
  // The step it was applied to refilled 625 slots (600 evicted) and moved
  // those rows beside its 900 misses.
  rd_window w = llm_window(run.applied_step + 1);
  w.last_filled = 625;
  w.last_evicted = 600;
  w.last_rows_fetched = 1525;
  w.last_hits = 300;
  p.ops->decide(p.state, &p.params, &w, &out);
  CHECK(out.replace == 0, "an answer acts on one step only");
  rd_decision *d;
  CHECK(p.ops->drain(p.state, &d) == 1 && d[0].valid && !d[0].fallback && !strcmp(d[0].raw, FAULT_GOOD_ANSWER),
        "valid decision logged with its answer");
  llm_free_decisions(d, 1);
  // The next prompt shows the decision and its measured effect.
  char *system, *user;
  CHECK(rd_llm_agent_render(p.state, &w, &system, &user) == 0, "render");
  // Its effect is measured on spans that do not overlap: the steps before
  // it was applied (900 rows, 12% hits each) against the one after.
  char want[160];
  snprintf(want, sizeof want, "- step 1000: replace 25%% (625 refilled): rows/step 900 -> 1525 (+69%%), hit rate "
           "12%% -> 30%% over 1 steps");
  CHECK(strstr(user, want), "history line: want '%s' in:\n%s", want, user);
  CHECK(strstr(system, "2500 of the 10000 remote nodes"), "buffer facts: %s", system);
  free(system);
  free(user);
  // The next question freezes the effect it shows (2 steps measured by
  // then): later steps leave the line as it was, so the server's prompt
  // cache still holds it, and the span shown is one no later decision shares.
  fault_server_set(f, FAULT_HANG, 0);
  w = llm_window(2000);
  p.ops->decide(p.state, &p.params, &w, &out);
  char line[2][200];
  for (int k = 0; k < 2; k++) {
    w = llm_window(2001 + k);
    w.last_rows_fetched = 5000;
    p.ops->decide(p.state, &p.params, &w, &out);
    CHECK(rd_llm_agent_render(p.state, &w, &system, &user) == 0, "render");
    const char *at = strstr(user, "- step 1000: ");
    CHECK(at, "history: %s", user);
    snprintf(line[k], sizeof line[k], "%.*s", (int)strcspn(at, "\n"), at);
    free(system);
    free(user);
  }
  CHECK(!strcmp(line[0], line[1]) && strstr(line[0], "over 2 steps"), "a frozen effect: '%s' then '%s'", line[0],
        line[1]);
  p.ops->destroy(p.state);

  // An out-of-range answer in paper mode is no error: the paper's agent is
  // not asked for a fraction (and a replace covers every stale slot).
  fault_server_set(f, FAULT_RANGE, 0);
  p = llm_open(&rd_policy_llm, 1000, 0.3, opts(url, "mode=paper"));
  const llm_run paper = llm_steps(&p, 1000, 0.002, 5);
  CHECK(paper.applied_step > 1000 && paper.action.replace == 1 && paper.action.fraction == 0, "paper: yes");
  char last[FAULT_LAST_MAX];
  fault_server_last(f, last, sizeof last);
  CHECK(!strstr(last, "\"fraction\":{"), "the paper's schema asks for no fraction");
  // The history says what the eviction did, as the next step measured it:
  // with nothing stale it filled empty slots (no "no candidates found"),
  // and the effect compares spans that do not overlap.
  rd_window pw = llm_window(paper.applied_step + 1);
  pw.stale = 0;
  pw.last_filled = 300;
  pw.last_evicted = 0;
  pw.last_misses = 600;
  pw.last_hits = 400;
  p.ops->decide(p.state, &p.params, &pw, &out);
  CHECK(rd_llm_agent_render(p.state, &pw, &system, &user) == 0, "render");
  CHECK(strstr(user, "- minibatch 1000: Yes, evict. 0 nodes evicted, 300 empty slots filled (12% of cache). "
                     "Since then: HR +28 pts, comm_volume -300 (-33%).") && !strstr(user, "Skipped"),
        "paper history: %s", user);
  free(system);
  free(user);
  p.ops->destroy(p.state);
}

// Answers later than max_age steps are dropped; windows the model had no
// time for are superseded by newer ones.
static void agent_staleness(fault_server *f) {
  fault_server_set(f, FAULT_SLOW_OK, 0.3);
  char o[256];
  snprintf(o, sizeof o, "endpoint=%s,timeout_ms=2000,max_age=3", url);
  llm_policy p = llm_open(&rd_policy_llm, 1000, 0.3, o);
  const llm_run run = llm_steps(&p, 1000, 0.005, 5);
  rd_llm_stats st;
  rd_llm_agent_stats(p.state, &st);
  CHECK(run.applied_step == -1 && st.stale == 1 && st.applied == 0 && st.answered == 1, "late answer dropped");
  rd_decision *d;
  CHECK(p.ops->drain(p.state, &d) == 1 && d[0].step_applied == -1 && d[0].replace == 0 && d[0].valid,
        "dropped decision logged");
  llm_free_decisions(d, 1);
  p.ops->destroy(p.state);

  // Period 2 with a 300 ms model: while it answers the window of step 2,
  // steps 4 and 6 post; the newer replaces the older (both are replaced
  // when the thread was slow to take the first).
  snprintf(o, sizeof o, "endpoint=%s,timeout_ms=2000", url);
  p = llm_open(&rd_policy_llm, 2, 0.3, o);
  for (int64_t s = 1; s <= 7; s++) {
    rd_replace out;
    const rd_window w = llm_window(s);
    p.ops->decide(p.state, &p.params, &w, &out);
    llm_sleep(0.005);
  }
  rd_llm_agent_stats(p.state, &st);
  CHECK(st.posted == 3 && st.superseded >= 1, "posted %lld, superseded %lld", (long long)st.posted,
        (long long)st.superseded);
  p.ops->destroy(p.state);
}

// Destroying an agent whose request hangs returns without waiting for the
// request's timeout.
static void shutdown_in_flight(fault_server *f) {
  fault_server_set(f, FAULT_HANG, 0);
  char o[256];
  snprintf(o, sizeof o, "endpoint=%s,timeout_ms=30000", url);
  llm_policy p = llm_open(&rd_policy_llm, 10, 0, o);
  const int received = fault_server_received(f);
  rd_replace out;
  const rd_window w = llm_window(10);
  p.ops->decide(p.state, &p.params, &w, &out);
  // Destroy only once the request hangs in the server (a loaded machine may
  // take a while to get it there).
  for (int i = 0; i < 1000 && fault_server_received(f) == received; i++) llm_sleep(0.01);
  CHECK(fault_server_received(f) == received + 1, "the request never reached the server");
  // Read only now: the injector takes one connection at a time, so every
  // earlier request (a slow one of the previous case may still have been
  // open above) is counted, and only the hung one is outstanding.
  const int served = fault_server_served(f);
  const double t0 = rd_now();
  p.ops->destroy(p.state);
  CHECK(rd_now() - t0 < 10, "destroy waited %.1f s for a hung request", rd_now() - t0);
  for (int i = 0; i < 1000 && fault_server_served(f) == served; i++) llm_sleep(0.01);
  CHECK(fault_server_served(f) == served + 1, "the hung connection was closed");
}

// Menu answers: the schema lists every knob's values; an answer on the menu
// is taken, a number between listed values is clamped to the nearest, one
// outside them or an unknown prior is a range error, a missing knob an
// answer error.
static void menu_answers(fault_server *f) {
  static const rd_llm_menu menu = {.num_windows = 3, .windows = {0, 4, 8}, .num_priors = 3,
                                   .priors = {"vip", "count", "degree"}, .num_margins = 3,
                                   .margins = {0, 0.25, 1}, .num_pinned = 2, .pinned = {0, 0.5}};
  const rd_llm_config cfg = {.endpoint = url, .max_tokens = 64, .connect_timeout_ms = 400, .timeout_ms = 400,
                             .menu = &menu};
  rd_llm_client *c = rd_llm_client_new(&cfg);
  CHECK(c, "%s", rd_error());
  fault_server_set(f, FAULT_OK, 0);
  static const struct {
    const char *answer;
    rd_llm_status status;
    int tune, window, prior, clamped;
    double margin, pinned;
  } cases[] = {
      {"{\"decision\":\"tune\",\"window\":4,\"prior\":\"count\",\"margin\":0.25,\"pinned\":0.5,\"reason\":\"r\"}",
       RD_LLM_OK, 1, 4, 1, 0, 0.25, 0.5},
      {"{\"decision\":\"keep\",\"window\":0,\"prior\":\"vip\",\"margin\":0,\"pinned\":0,\"reason\":\"r\"}",
       RD_LLM_OK, 0, 0, 0, 0, 0, 0},
      {"{\"decision\":\"tune\",\"window\":7,\"prior\":\"degree\",\"margin\":0.3,\"pinned\":0.1,\"reason\":\"r\"}",
       RD_LLM_OK, 1, 8, 2, 1, 0.25, 0},
      {"{\"decision\":\"tune\",\"window\":9,\"prior\":\"vip\",\"margin\":0,\"pinned\":0,\"reason\":\"r\"}",
       RD_LLM_ERR_RANGE, 0, 0, 0, 0, 0, 0},
      {"{\"decision\":\"tune\",\"window\":4,\"prior\":\"lru\",\"margin\":0,\"pinned\":0,\"reason\":\"r\"}",
       RD_LLM_ERR_RANGE, 0, 0, 0, 0, 0, 0},
      {"{\"decision\":\"replace\",\"window\":4,\"prior\":\"vip\",\"margin\":0,\"pinned\":0,\"reason\":\"r\"}",
       RD_LLM_ERR_RANGE, 0, 0, 0, 0, 0, 0},
      {"{\"decision\":\"tune\",\"window\":4,\"margin\":0,\"pinned\":0,\"reason\":\"r\"}",
       RD_LLM_ERR_ANSWER, 0, 0, 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    fault_server_answer(f, cases[i].answer);
    rd_llm_reply r;
    const rd_llm_status st = rd_llm_ask(c, "s", "u", NULL, &r);
    CHECK(st == cases[i].status, "menu answer %zu: %s (%s)", i, rd_llm_status_name(st), r.message);
    if (st == RD_LLM_OK)
      CHECK(r.replace == cases[i].tune && r.window == cases[i].window && r.prior == cases[i].prior &&
                r.margin == cases[i].margin && r.pinned == cases[i].pinned && r.clamped == cases[i].clamped,
            "menu answer %zu: tune %d window %d prior %d margin %g pinned %g clamped %d", i, r.replace, r.window,
            r.prior, r.margin, r.pinned, r.clamped);
    rd_llm_reply_free(&r);
  }
  char last[FAULT_LAST_MAX];
  fault_server_last(f, last, sizeof last);
  CHECK(strstr(last, "\"enum\":[\"keep\",\"tune\"]") && strstr(last, "\"window\":{\"type\":\"integer\",\"enum\":[0,4,8]}") &&
            strstr(last, "\"prior\":{\"type\":\"string\",\"enum\":[\"vip\",\"count\",\"degree\"]}") &&
            strstr(last, "\"pinned\":{\"type\":\"number\",\"enum\":[0,0.5]}") && !strstr(last, "\"fraction\""),
        "menu schema: %s", last);
  fault_server_answer(f, NULL);
  rd_llm_client_free(c);
}

// Prefilled answers (slm on llama-server): the request opens the
// assistant's message with the decision's key and constrains the rest by a
// GBNF grammar of the same choices, not a JSON schema; a reply that returns
// only the continuation is completed; a "keep" needs nothing else.
static void prefilled_answers(fault_server *f) {
  static const rd_llm_menu menu = {.num_windows = 2, .windows = {0, 8}, .num_priors = 2,
                                   .priors = {"vip", "degree"}, .num_margins = 2, .margins = {0, 0.5},
                                   .num_pinned = 2, .pinned = {0, 0.25}};
  fault_server_set(f, FAULT_OK, 0);
  char last[FAULT_LAST_MAX];
  static const struct {
    int menu;
    const char *answer;
    rd_llm_status status;
    int replace;
    double fraction;
  } cases[] = {
      {0, "keep\"}", RD_LLM_OK, 0, 0},
      {0, "{\"decision\":\"replace\",\"fraction\":0.25}", RD_LLM_OK, 1, 0.25},
      {0, "replace\",\"fraction\":0.1}", RD_LLM_OK, 1, 0.1},
      {0, "replace\"}", RD_LLM_ERR_ANSWER, 0, 0},
      {1, "keep\"}", RD_LLM_OK, 0, 0},
      {1, "tune\",\"window\":8,\"prior\":\"degree\",\"margin\":0.5,\"pinned\":0}", RD_LLM_OK, 1, 0},
      {1, "tune\"}", RD_LLM_ERR_ANSWER, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const rd_llm_config cfg = {.endpoint = url, .max_tokens = 64, .connect_timeout_ms = 400, .timeout_ms = 400,
                               .prefill = 1, .reason_chars = -1, .want_fraction = !cases[i].menu,
                               .menu = cases[i].menu ? &menu : NULL};
    rd_llm_client *c = rd_llm_client_new(&cfg);
    CHECK(c, "%s", rd_error());
    fault_server_answer(f, cases[i].answer);
    rd_llm_reply r;
    const rd_llm_status st = rd_llm_ask(c, "s", "u", NULL, &r);
    CHECK(st == cases[i].status && (st || (r.replace == cases[i].replace && r.fraction == cases[i].fraction)),
          "prefilled answer %zu '%s': %s (%s) replace %d fraction %g", i, cases[i].answer, rd_llm_status_name(st),
          r.message, r.replace, r.fraction);
    CHECK(st || !strncmp(r.content, "{\"decision\":\"", 13), "the whole answer is logged: %s", r.content);
    rd_llm_reply_free(&r);
    fault_server_last(f, last, sizeof last);
    CHECK(strstr(last, "{\"role\":\"assistant\",\"content\":\"{\\\"decision\\\":\\\"\"}") &&
              strstr(last, "\"grammar\":\"root ::= ") && !strstr(last, "response_format"),
          "a prefilled request: %s", last);
    CHECK(cases[i].menu ? strstr(last, "window ::= \\\"0\\\" | \\\"8\\\"") &&
                              strstr(last, "prior ::= \\\"vip\\\" | \\\"degree\\\"") != NULL
                        : strstr(last, "fraction ::= \\\"0.05\\\" | \\\"0.1\\\" | \\\"0.25\\\"") != NULL,
          "the grammar's choices: %s", last);
    rd_llm_client_free(c);
  }
  fault_server_answer(f, NULL);
}

// A key goes over https or to this machine, never over plain http elsewhere.
static void key_safety(void) {
  setenv("RUDDER_TEST_LLM_KEY", "sekret-value", 1);
  static const struct { const char *url; int ok; } cases[] = {
      {"https://api.example.com", 1}, {"http://127.0.0.1:8080", 1}, {"http://127.3.2.1", 1},
      {"http://localhost:11434/api/chat", 1}, {"http://[::1]:8080", 1},
      {"http://api.example.com", 0}, {"http://10.0.0.5:8000", 0}, {"http://127.0.0.1.example.com", 0},
      {"http://localhost.example.com", 0}, {"http://user@10.1.1.1", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const rd_llm_config cfg = {.endpoint = cases[i].url, .api_key_env = "RUDDER_TEST_LLM_KEY", .max_tokens = 16,
                               .connect_timeout_ms = 100, .timeout_ms = 100};
    rd_llm_client *c = rd_llm_client_new(&cfg);
    CHECK(!c == !cases[i].ok, "%s with a key: %s", cases[i].url, c ? "accepted" : rd_error());
    if (!c)
      CHECK(strstr(rd_error(), "refusing to send the API key of RUDDER_TEST_LLM_KEY over plain http") &&
                !strstr(rd_error(), "sekret"), "the reason, without the key: %s", rd_error());
    rd_llm_client_free(c);
  }
  // Without a key any endpoint is fine; through the policy the refusal is an option error.
  const rd_llm_config open = {.endpoint = "http://api.example.com", .max_tokens = 16};
  rd_llm_client *c = rd_llm_client_new(&open);
  CHECK(c, "no key, plain http: %s", rd_error());
  rd_llm_client_free(c);
  const rd_policy_params params = {.period = 10, .options = "endpoint=http://10.0.0.5:8000,api_key_env=RUDDER_TEST_LLM_KEY"};
  void *state = NULL;
  CHECK(rd_policy_llm.create(&params, &state) == -1 && strstr(rd_error(), "policy llm") &&
            strstr(rd_error(), "refusing to send the API key"), "policy: %s", rd_error());
}

static void option_errors(void) {
  static const struct { const char *options, *error; } bad[] = {
      {"bogus=1", "unknown 'bogus=1'"},
      {"temperature=hot", "temperature=hot is not a number"},
      {"history=99", "history=99 is not an integer in [0, 16]"},
      {"dialect=grpc", "unknown LLM dialect 'grpc'"},
      {"mode=fast", "unknown 'mode=fast'"},
      {"scope=node", "unknown 'scope=node'"},
      {"reason_chars=1000", "reason_chars=1000 is not an integer in [0, 400]"},
      {"endpoint", "'endpoint' is not key=value"},
      {"endpoint=ftp://host", "not an http:// or https:// URL"},
      {"prompts=/nonexistent", "/nonexistent/rudder.txt: cannot open"},
      {"prompt=../etc/x", "prompt=../etc/x is not a template name"},
      {"prompt=nosuch", "/nosuch.txt: cannot open"},
      {"prefill=1,dialect=ollama", "prefill=1 needs llama-server's openai dialect"},
      {"prefill=2", "prefill=2 is not an integer in [0, 1]"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const rd_policy_params params = {.period = 10, .options = bad[i].options};
    void *state = NULL;
    CHECK(rd_policy_llm.create(&params, &state) == -1 && strstr(rd_error(), bad[i].error),
          "options '%s': error '%s'", bad[i].options, rd_error());
  }
  // A template with an unknown placeholder is refused at creation, by line.
  char dir[] = "/tmp/rudder-prompts-XXXXXX", path[64];
  CHECK(mkdtemp(dir), "mkdtemp");
  snprintf(path, sizeof path, "%s/rudder.txt", dir);
  FILE *t = fopen(path, "w");
  fputs("%% test\n[system]\nBuffer {{capacity}}\n[user]\nstep {{step}} {{nonsense}}\n", t);
  fclose(t);
  char o[128];
  snprintf(o, sizeof o, "prompts=%s", dir);
  const rd_policy_params params = {.period = 10, .options = o};
  void *state = NULL;
  CHECK(rd_policy_llm.create(&params, &state) == -1 && strstr(rd_error(), "rudder.txt:5: unknown placeholder {{nonsense}}"),
        "template error: %s", rd_error());
  remove(path);
  rmdir(dir);
}

int main(void) {
  fault_server *f = fault_server_start(FAULT_OK);
  CHECK(f, "cannot start the fault injector on 127.0.0.1");
  snprintf(url, sizeof url, "http://127.0.0.1:%d", fault_server_port(f));
  make_closed_url();
  client_statuses(f);
  agent_fallbacks(f);
  agent_answers(f);
  agent_staleness(f);
  shutdown_in_flight(f);
  option_errors();
  key_safety();
  menu_answers(f);
  prefilled_answers(f);
  fault_server_stop(f);
  printf("test_llm_faults: all checks passed\n");
  return 0;
}
