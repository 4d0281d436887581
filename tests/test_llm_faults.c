// The LLM client and agent under the faults a real server cannot be made to
// produce on cue: malformed JSON, an answer that is not the decision object,
// an out-of-range fraction, HTTP 500, a hang past the timeout, a refused
// connection, and a late answer. Each must yield its own error status, the
// fallback action, a count and a log record with the raw answer, while
// decide() keeps returning at once. Also: both dialects' request formats,
// the API key kept out of logs, option and template errors, shutdown with
// a request in flight.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llm/client.h"
#include "llm_common.h"

// ---- fault injector --------------------------------------------------------
// A tiny HTTP/1.1 server on 127.0.0.1 (a thread, one connection at a time,
// "Connection: close") that answers every request with the reply the test
// chose. It is NOT a model server: it exists only to inject faults.

typedef enum fault { FAULT_OK, FAULT_MALFORMED, FAULT_NOT_DECISION, FAULT_RANGE, FAULT_HTTP500, FAULT_HANG, FAULT_SLOW_OK } fault;

typedef struct fake {
  int fd, port;
  pthread_t thread;
  atomic_int fault, stop, received, served;  // requests read / answered or closed
  double delay;  // FAULT_SLOW_OK: seconds before the answer
  pthread_mutex_t mu;
  char last[65536];  // the last request, headers and body
} fake;

static const char *const GOOD = "{\"decision\":\"replace\",\"fraction\":0.25,\"reason\":\"stale slots\"}";

// Waits until the peer closes (or the test stops); 1 if it closed.
static int wait_close(fake *f, int c, double seconds) {
  const double end = rd_now() + seconds;
  char b[256];
  while (!atomic_load(&f->stop) && rd_now() < end) {
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 20) > 0 && recv(c, b, sizeof b, 0) <= 0) return 1;
  }
  return 0;
}

static int read_request(int c, char *buf, size_t cap) {
  size_t len = 0, need = 0;
  while (len < cap - 1 && (!need || len < need)) {
    const ssize_t n = recv(c, buf + len, cap - 1 - len, 0);
    if (n <= 0) return -1;
    buf[len += (size_t)n] = 0;
    const char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length:");
    if (end && !need) need = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
  }
  return 0;
}

static void send_reply(int c, int status, const char *body) {
  char head[256];
  const int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                         status, status == 200 ? "OK" : "Internal Server Error", strlen(body));
  send(c, head, (size_t)n, MSG_NOSIGNAL);
  send(c, body, strlen(body), MSG_NOSIGNAL);
}

// A well-formed chat reply of the request's dialect carrying `content`.
static void send_chat(int c, const char *request, const char *content) {
  char esc[512], body[1024];
  size_t k = 0;
  for (const char *p = content; *p && k < sizeof esc - 2; p++) {
    if (*p == '"' || *p == '\\') esc[k++] = '\\';
    esc[k++] = *p;
  }
  esc[k] = 0;
  if (!strncmp(request, "POST /api/chat", 14))
    snprintf(body, sizeof body, "{\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},\"done\":true,"
             "\"prompt_eval_count\":120,\"eval_count\":20}", esc);
  else
    snprintf(body, sizeof body, "{\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":"
             "{\"role\":\"assistant\",\"content\":\"%s\"}}],\"usage\":{\"prompt_tokens\":120,"
             "\"completion_tokens\":20}}", esc);
  send_reply(c, 200, body);
}

static void *fake_main(void *arg) {
  fake *f = arg;
  static char req[sizeof f->last];
  while (!atomic_load(&f->stop)) {
    struct pollfd p = {f->fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    const int c = accept(f->fd, NULL, NULL);
    if (c < 0) continue;
    if (read_request(c, req, sizeof req) == 0) {
      atomic_fetch_add(&f->received, 1);
      pthread_mutex_lock(&f->mu);
      memcpy(f->last, req, sizeof req);
      pthread_mutex_unlock(&f->mu);
      switch ((fault)atomic_load(&f->fault)) {
        case FAULT_OK: send_chat(c, req, GOOD); break;
        case FAULT_MALFORMED: send_reply(c, 200, "{\"choices\": [ oops"); break;
        case FAULT_NOT_DECISION: send_chat(c, req, "Yes, evict."); break;
        case FAULT_RANGE: send_chat(c, req, "{\"decision\":\"replace\",\"fraction\":1.5,\"reason\":\"more\"}"); break;
        case FAULT_HTTP500: send_reply(c, 500, "{\"error\":{\"message\":\"boom\"}}"); break;
        case FAULT_HANG: wait_close(f, c, 60); break;
        case FAULT_SLOW_OK:
          if (!wait_close(f, c, f->delay)) send_chat(c, req, GOOD);
          break;
      }
      atomic_fetch_add(&f->served, 1);
    }
    close(c);
  }
  return NULL;
}

static int listen_any(int *port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0,
        "cannot listen on 127.0.0.1");
  *port = ntohs(a.sin_port);
  return fd;
}

static void fake_start(fake *f) {
  memset(f, 0, sizeof *f);
  f->fd = listen_any(&f->port);
  pthread_mutex_init(&f->mu, NULL);
  CHECK(pthread_create(&f->thread, NULL, fake_main, f) == 0, "fault injector thread");
}

static void fake_stop(fake *f) {
  atomic_store(&f->stop, 1);
  pthread_join(f->thread, NULL);
  close(f->fd);
  pthread_mutex_destroy(&f->mu);
}

static void fake_last(fake *f, char *out, size_t cap) {
  pthread_mutex_lock(&f->mu);
  snprintf(out, cap, "%s", f->last);
  pthread_mutex_unlock(&f->mu);
}

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

// A port that refuses: bound, then closed, so nothing listens there.
static void make_closed_url(void) {
  int port;
  close(listen_any(&port));
  snprintf(closed_url, sizeof closed_url, "http://127.0.0.1:%d", port);
}

static void client_statuses(fake *f) {
  setenv("RUDDER_TEST_LLM_KEY", "sekret-value", 1);
  for (int d = 0; d < 2; d++) {
    const rd_llm_config cfg = {.endpoint = url, .model = "m", .dialect = d ? RD_LLM_OLLAMA : RD_LLM_OPENAI,
                               .api_key_env = "RUDDER_TEST_LLM_KEY", .max_tokens = 64,
                               .connect_timeout_ms = 400, .timeout_ms = 400, .want_fraction = 1};
    rd_llm_client *c = rd_llm_client_new(&cfg);
    CHECK(c, "%s", rd_error());
    rd_llm_reply r;
    atomic_store(&f->fault, FAULT_OK);
    CHECK(rd_llm_ask(c, "sys", "user", NULL, &r) == RD_LLM_OK, "%s", r.message);
    CHECK(r.replace == 1 && r.fraction == 0.25 && !strcmp(r.reason, "stale slots"), "answer parsed");
    CHECK(r.prompt_tokens == 120 && r.completion_tokens == 20, "token counts");
    rd_llm_reply_free(&r);
    char last[sizeof f->last];
    fake_last(f, last, sizeof last);
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
      atomic_store(&f->fault, cases[i].fault);
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
static void agent_fallbacks(fake *f) {
  for (int i = 0; i <= NCASES; i++) {
    const int refused = i == NCASES;
    const rd_llm_status want = refused ? RD_LLM_ERR_CONNECT : cases[i].status;
    if (!refused) atomic_store(&f->fault, cases[i].fault);
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
  atomic_store(&f->fault, FAULT_HTTP500);
  llm_policy p = llm_open(&rd_policy_llm, 1000, 0.3, opts(url, ""));
  const llm_run run = llm_steps(&p, 1000, 0.002, 5);
  CHECK(run.applied_step > 1000 && run.action.replace == 0, "keep fallback");
  p.ops->destroy(p.state);
}

static void agent_answers(fake *f) {
  atomic_store(&f->fault, FAULT_OK);
  llm_policy p = llm_open(&rd_policy_llm, 1000, 0.3, opts(url, ""));
  const llm_run run = llm_steps(&p, 1000, 0.002, 5);
  CHECK(run.applied_step > 1000 && run.action.replace == 1 && run.action.fraction == 0.25, "answer applied");
  // Applied once: the next steps keep the buffer.
  rd_replace out;
  const rd_window w = llm_window(run.applied_step + 1);
  p.ops->decide(p.state, &p.params, &w, &out);
  CHECK(out.replace == 0, "an answer acts on one step only");
  rd_decision *d;
  CHECK(p.ops->drain(p.state, &d) == 1 && d[0].valid && !d[0].fallback && !strcmp(d[0].raw, GOOD),
        "valid decision logged with its answer");
  llm_free_decisions(d, 1);
  // The next prompt shows the decision and its measured effect.
  char *system, *user;
  CHECK(rd_llm_agent_render(p.state, &w, &system, &user) == 0, "render");
  CHECK(strstr(user, "- step 1000: replace 25% -> hit rate +0.0 pts"), "history line: %s", user);
  CHECK(strstr(system, "2500 of the 10000 remote nodes"), "buffer facts: %s", system);
  free(system);
  free(user);
  p.ops->destroy(p.state);

  // An out-of-range answer in paper mode is no error: the paper's agent is
  // not asked for a fraction (and a replace covers every stale slot).
  atomic_store(&f->fault, FAULT_RANGE);
  p = llm_open(&rd_policy_llm, 1000, 0.3, opts(url, "mode=paper"));
  const llm_run paper = llm_steps(&p, 1000, 0.002, 5);
  CHECK(paper.applied_step > 1000 && paper.action.replace == 1 && paper.action.fraction == 0, "paper: yes");
  char last[sizeof f->last];
  fake_last(f, last, sizeof last);
  CHECK(!strstr(last, "\"fraction\":{"), "the paper's schema asks for no fraction");
  p.ops->destroy(p.state);
}

// Answers later than max_age steps are dropped; windows the model had no
// time for are superseded by newer ones.
static void agent_staleness(fake *f) {
  f->delay = 0.3;  // published to the injector's thread by the atomic store below
  atomic_store(&f->fault, FAULT_SLOW_OK);
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
static void shutdown_in_flight(fake *f) {
  atomic_store(&f->fault, FAULT_HANG);
  char o[256];
  snprintf(o, sizeof o, "endpoint=%s,timeout_ms=30000", url);
  llm_policy p = llm_open(&rd_policy_llm, 10, 0, o);
  const int received = atomic_load(&f->received);
  rd_replace out;
  const rd_window w = llm_window(10);
  p.ops->decide(p.state, &p.params, &w, &out);
  // Destroy only once the request hangs in the server (a loaded machine may
  // take a while to get it there).
  for (int i = 0; i < 1000 && atomic_load(&f->received) == received; i++) llm_sleep(0.01);
  CHECK(atomic_load(&f->received) == received + 1, "the request never reached the server");
  // Read only now: the injector takes one connection at a time, so every
  // earlier request (a slow one of the previous case may still have been
  // open above) is counted, and only the hung one is outstanding.
  const int served = atomic_load(&f->served);
  const double t0 = rd_now();
  p.ops->destroy(p.state);
  CHECK(rd_now() - t0 < 10, "destroy waited %.1f s for a hung request", rd_now() - t0);
  for (int i = 0; i < 1000 && atomic_load(&f->served) == served; i++) llm_sleep(0.01);
  CHECK(atomic_load(&f->served) == served + 1, "the hung connection was closed");
}

static void option_errors(void) {
  static const struct { const char *options, *error; } bad[] = {
      {"bogus=1", "unknown 'bogus=1'"},
      {"temperature=hot", "temperature=hot is not a number"},
      {"history=99", "history=99 is not an integer in [0, 16]"},
      {"dialect=grpc", "unknown LLM dialect 'grpc'"},
      {"mode=fast", "unknown 'mode=fast'"},
      {"endpoint", "'endpoint' is not key=value"},
      {"endpoint=ftp://host", "not an http:// or https:// URL"},
      {"prompts=/nonexistent", "/nonexistent/rudder.txt: cannot open"},
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
  fake f;
  fake_start(&f);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
  make_closed_url();
  client_statuses(&f);
  agent_fallbacks(&f);
  agent_answers(&f);
  agent_staleness(&f);
  shutdown_in_flight(&f);
  option_errors();
  fake_stop(&f);
  printf("test_llm_faults: all checks passed\n");
  return 0;
}
