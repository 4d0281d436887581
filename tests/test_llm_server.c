// The LLM agent against the real local llama-server (test_llm_server.sh
// starts it and passes its URL): the client gets a schema-valid decision
// for a rendered window; four agents (four ranks sharing the server's four
// slots) answer within their timeout while decide() keeps returning before
// the answers arrive; the paper-mode prompt carries the paper's fields and
// the model answers it. Latencies are printed, never asserted.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/client.h"
#include "llm_common.h"

enum { RANKS = 4 };
static char options[512];

static void client_decision(const char *url) {
  // The llm's prompt: the one that asks for a reason, as this client does.
  llm_policy p = llm_open(&rd_policy_llm, 25, 0, options);
  const rd_window w = llm_window(25);
  char *system, *user;
  CHECK(rd_llm_agent_render(p.state, &w, &system, &user) == 0, "render");
  const rd_llm_config cfg = {.endpoint = url, .model = "slm", .max_tokens = 96, .seed = 7,
                             .connect_timeout_ms = 2000, .timeout_ms = 120000, .want_fraction = 1};
  rd_llm_client *c = rd_llm_client_new(&cfg);
  CHECK(c, "%s", rd_error());
  rd_llm_reply r;
  const rd_llm_status s = rd_llm_ask(c, system, user, NULL, &r);
  CHECK(s == RD_LLM_OK, "real server: %s: %s; body: %.500s", rd_llm_status_name(s), r.message,
        r.raw ? r.raw : "(none)");
  CHECK(r.fraction >= 0 && r.fraction <= 1 && r.reason[0], "a schema-valid answer");
  printf("client: %s fraction %.2f (\"%s\") in %.2f s, %d prompt + %d answer tokens\n",
         r.replace ? "replace" : "keep", r.fraction, r.reason, r.seconds, r.prompt_tokens, r.completion_tokens);
  rd_llm_reply_free(&r);
  rd_llm_client_free(c);
  free(system);
  free(user);
  p.ops->destroy(p.state);
}

// The slm's prefilled answers on the real server: llama-server accepts the
// grammar the client writes for each kind of answer (a grammar it cannot
// parse is an HTTP 400), and the answer is the compact JSON it allows.
static void prefilled_decisions(const char *url) {
  static const rd_llm_menu menu = {.num_windows = 3, .windows = {0, 4, 8}, .num_priors = 3,
                                   .priors = {"vip", "count", "degree"}, .num_margins = 2, .margins = {0, 0.5},
                                   .num_pinned = 2, .pinned = {0, 0.25}};
  static const struct { const char *kind; int want_fraction, reason_chars; const rd_llm_menu *menu; } kinds[] = {
      {"replace + fraction", 1, -1, NULL}, {"yes/no + reason", 0, 40, NULL}, {"menu", 0, -1, &menu}};
  llm_policy p = llm_open(&rd_policy_slm, 25, 0, options);
  const rd_window w = llm_window(25);
  char *system, *user;
  CHECK(rd_llm_agent_render(p.state, &w, &system, &user) == 0, "render");
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    const rd_llm_config cfg = {.endpoint = url, .max_tokens = 96, .seed = 7, .connect_timeout_ms = 2000,
                               .timeout_ms = 120000, .cache_prompt = 1, .prefill = 1,
                               .want_fraction = kinds[i].want_fraction, .reason_chars = kinds[i].reason_chars,
                               .menu = kinds[i].menu};
    rd_llm_client *c = rd_llm_client_new(&cfg);
    CHECK(c, "%s", rd_error());
    rd_llm_reply r;
    const rd_llm_status st = rd_llm_ask(c, system, user, NULL, &r);
    CHECK(st == RD_LLM_OK, "prefilled %s: %s: %s; body: %.500s", kinds[i].kind, rd_llm_status_name(st), r.message,
          r.raw ? r.raw : "(none)");
    // No whitespace outside the reason: the grammar allows none.
    const char *why = strstr(r.content, "\"reason\":");
    const size_t head = why ? (size_t)(why - r.content) : strlen(r.content);
    CHECK(strcspn(r.content, " \n\t") >= head, "prefilled %s: whitespace in '%s'", kinds[i].kind, r.content);
    printf("prefilled %s: %s in %.2f s, %d answer tokens\n", kinds[i].kind, r.content, r.seconds,
           r.completion_tokens);
    rd_llm_reply_free(&r);
    rd_llm_client_free(c);
  }
  free(system);
  free(user);
  p.ops->destroy(p.state);
}

// Four ranks post at the same decision point and go on stepping; each
// rank's answer is applied at its first step after it arrives. (Period
// 1000: no second decision point adds load while they wait.)
static void ranks_in_parallel(void) {
  llm_policy p[RANKS];
  for (int r = 0; r < RANKS; r++) p[r] = llm_open(&rd_policy_slm, 1000, 0, options);
  double longest = 0;
  int resolved = 0, done[RANKS] = {0};
  int64_t step = 1000;
  const double t_end = rd_now() + 300;
  for (; resolved < RANKS && rd_now() < t_end; step++) {
    for (int r = 0; r < RANKS; r++) {
      if (done[r]) continue;  // (its next decision points are not this test's)
      rd_window w = llm_window(step);
      w.hit_rate = 0.1 + 0.2 * r;  // ranks see different trends
      w.stale = 1800 - 400 * r;
      rd_replace out;
      const double t0 = rd_now();
      p[r].ops->decide(p[r].state, &p[r].params, &w, &out);
      const double dt = rd_now() - t0;
      longest = dt > longest ? dt : longest;
      rd_llm_stats st;
      rd_llm_agent_stats(p[r].state, &st);
      // Property: the steps right after posting went on before any answer.
      if (step == 1001) CHECK(st.answered + st.applied == 0, "rank %d: decide waited for the model", r);
      if (st.applied + st.stale > 0) done[r] = 1, resolved++;
    }
    llm_sleep(0.01);
  }
  CHECK(longest < 0.2, "the longest decide() took %.3f s", longest);
  double lat[RANKS];
  int valid = 0;
  for (int r = 0; r < RANKS; r++) {
    rd_llm_stats st;
    rd_llm_agent_stats(p[r].state, &st);
    rd_decision *all;
    const int64_t total = p[r].ops->drain(p[r].state, &all);
    // The windows never asked (superseded while the model was busy with the
    // first) are records too; of the questions asked, the first is the
    // answer applied, and one asked later may follow (drain waits for a
    // question still in flight and logs it as too late).
    rd_decision asked[RANKS * 4];
    int64_t n = 0;
    for (int64_t i = 0; i < total; i++)
      if (strncmp(all[i].raw, "superseded: ", 12) && n < RANKS * 4) asked[n++] = all[i];
    const rd_decision *d = asked;
    CHECK(n >= 1 && n <= 2, "rank %d: %lld questions asked after %lld steps", r, (long long)n,
          (long long)(step - 1000));
    // The server's grammar holds the model to the schema: every answer is
    // a valid decision (a parse or range error counts here too).
    int64_t errors = 0;
    for (int e = 0; e < RD_LLM_NSTATUS; e++) errors += st.errors[e];
    CHECK(errors == 0 && st.answered >= 1 && d[0].valid && d[0].step_applied > 1000,
          "rank %d: the model answered validly in time: %s", r, d[0].raw);
    printf("rank %d: %s %.2f after %.2f s, valid %d: %s\n", r, d[0].replace ? "replace" : "keep",
           d[0].fraction, d[0].latency_seconds, d[0].valid, d[0].raw);
    lat[r] = d[0].latency_seconds;
    valid += d[0].valid;
    llm_free_decisions(all, total);
    p[r].ops->destroy(p[r].state);
  }
  double lo = lat[0], hi = lat[0];
  for (int r = 1; r < RANKS; r++) lo = lat[r] < lo ? lat[r] : lo, hi = lat[r] > hi ? lat[r] : hi;
  CHECK(valid == RANKS, "%d of %d answers valid", valid, RANKS);
  printf("%d ranks on %d slots: decision latency %.2f-%.2f s, %d of %d valid; longest decide() %.1f us\n",
         RANKS, RANKS, lo, hi, valid, RANKS, 1e6 * longest);
}

static void paper_mode(void) {
  char o[600];
  snprintf(o, sizeof o, "%s,mode=paper", options);
  llm_policy p = llm_open(&rd_policy_llm, 25, 0, o);
  const rd_window w = llm_window(25);
  char *system, *user;
  CHECK(rd_llm_agent_render(p.state, &w, &system, &user) == 0, "render");
  static const char *const want_system[] = {
      "deciding whether to evict", "cache capacity 2500 nodes", "4000 minibatches in total",
      "You must evict if HR is 0", "fewer than 5% of the minibatches remain",
      "Example: Latest Metrics: {\"minibatch\": 50, \"remaining_minibatches\": 950, \"hitrate\": 0"};
  for (size_t i = 0; i < sizeof want_system / sizeof *want_system; i++)
    CHECK(strstr(system, want_system[i]), "paper system prompt lacks '%s':\n%s", want_system[i], system);
  // The paper's metrics: cumulative hit rate as an integer %, comm_volume = misses.
  CHECK(strstr(user, "### Data Provided ###\nLatest Metrics: {\"minibatch\": 25, \"remaining_minibatches\": "
                     "3975, \"hitrate\": 12, \"comm_volume\": 900}\nEviction History (oldest first):\n"
                     "(no evictions yet)"),
        "paper user prompt:\n%s", user);
  free(system);
  free(user);
  const llm_run run = llm_steps(&p, 25, 0.01, 300);
  CHECK(run.applied_step > 25, "paper mode: no answer");
  rd_decision *d;
  const int64_t n = p.ops->drain(p.state, &d);
  // The first question asked (windows posted while the model answered it
  // were superseded, and are records too).
  int64_t a = 0;
  while (a < n && !strncmp(d[a].raw, "superseded: ", 12)) a++;
  CHECK(a < n && d[a].valid, "paper-mode answer is schema-valid: %s", a < n ? d[a].raw : "(none)");
  CHECK(d[a].fraction == 0, "paper mode ignores any fraction");
  printf("paper: %s after %.2f s: %s\n", d[a].replace ? "Yes, evict." : "No, do not evict.",
         d[a].latency_seconds, d[a].raw);
  const int replaced = d[a].replace;
  llm_free_decisions(d, n);
  const rd_window later = llm_window(50);
  CHECK(rd_llm_agent_render(p.state, &later, &system, &user) == 0, "render");
  CHECK(strstr(user, replaced ? "- minibatch 25: Yes, evict." : "- minibatch 25: No, do not evict."),
        "paper history: %s", user);
  free(system);
  free(user);
  p.ops->destroy(p.state);
}

int main(int argc, char **argv) {
  CHECK(argc == 2, "usage: test_llm_server URL (run by test_llm_server.sh)");
  // A long timeout and age limit: on 2 loaded cores an answer may take many
  // seconds, and what is checked here is that it comes, not how fast.
  snprintf(options, sizeof options, "endpoint=%s,timeout_ms=240000,max_age=1000000", argv[1]);
  client_decision(argv[1]);
  prefilled_decisions(argv[1]);
  ranks_in_parallel();
  paper_mode();
  printf("test_llm_server: all checks passed\n");
  return 0;
}
