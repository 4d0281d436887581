// The fault injector of fault_server.h. Not a model server: it never looks
// at the prompt, it answers what the test chose.
#include "fault_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

struct fault_server {
  int fd, port;
  pthread_t thread;
  atomic_int fault, delay_ms, stop, received, served;
  pthread_mutex_t mu;       // guards `last` and `good`
  char last[FAULT_LAST_MAX];
  char good[512];           // FAULT_OK's answer
  char req[FAULT_LAST_MAX];  // the thread's own buffer
};

static const char *const names[FAULT_COUNT] = {
    [FAULT_OK] = "ok", [FAULT_MALFORMED] = "garbage", [FAULT_NOT_DECISION] = "not-decision",
    [FAULT_RANGE] = "range", [FAULT_HTTP500] = "http500", [FAULT_HANG] = "hang",
    [FAULT_SLOW_OK] = "slow-ok"};

const char *fault_name(fault f) { return f >= 0 && f < FAULT_COUNT ? names[f] : "unknown"; }

int fault_parse(const char *name, fault *out) {
  for (int i = 0; i < FAULT_COUNT; i++)
    if (!strcmp(name, names[i])) {
      *out = (fault)i;
      return 0;
    }
  return -1;
}

// Waits until the peer closes (or the server stops); 1 if it closed.
static int wait_close(fault_server *s, int c, double seconds) {
  const double end = rd_now() + seconds;
  char b[256];
  while (!atomic_load(&s->stop) && rd_now() < end) {
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 20) > 0 && recv(c, b, sizeof b, 0) <= 0) return 1;
  }
  return 0;
}

// Headers and the body Content-Length announces; -1 if the peer left first.
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

static void answer(fault_server *s, int c, const char *req) {
  switch ((fault)atomic_load(&s->fault)) {
    case FAULT_OK: {
      char good[sizeof s->good];
      pthread_mutex_lock(&s->mu);
      memcpy(good, s->good, sizeof good);
      pthread_mutex_unlock(&s->mu);
      send_chat(c, req, good);
      break;
    }
    case FAULT_MALFORMED: send_reply(c, 200, "{\"choices\": [ oops"); break;
    case FAULT_NOT_DECISION: send_chat(c, req, "Yes, evict."); break;
    case FAULT_RANGE: send_chat(c, req, "{\"decision\":\"replace\",\"fraction\":1.5,\"reason\":\"more\"}"); break;
    case FAULT_HTTP500: send_reply(c, 500, "{\"error\":{\"message\":\"boom\"}}"); break;
    // A minute is longer than any client timeout in the tests; stop ends it sooner.
    case FAULT_HANG: wait_close(s, c, 60); break;
    case FAULT_SLOW_OK:
      if (!wait_close(s, c, atomic_load(&s->delay_ms) / 1e3)) send_chat(c, req, FAULT_GOOD_ANSWER);
      break;
    case FAULT_COUNT: break;
  }
}

static void *serve(void *arg) {
  fault_server *s = arg;
  while (!atomic_load(&s->stop)) {
    // Polled, not a blocking accept, so that stop is seen within 20 ms.
    struct pollfd p = {s->fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    const int c = accept(s->fd, NULL, NULL);
    if (c < 0) continue;
    if (read_request(c, s->req, sizeof s->req) == 0) {
      atomic_fetch_add(&s->received, 1);
      pthread_mutex_lock(&s->mu);
      memcpy(s->last, s->req, sizeof s->req);
      pthread_mutex_unlock(&s->mu);
      answer(s, c, s->req);
      atomic_fetch_add(&s->served, 1);
    }
    close(c);
  }
  return NULL;
}

fault_server *fault_server_start(fault f) {
  fault_server *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  atomic_store(&s->fault, f);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 8) ||
      getsockname(s->fd, (struct sockaddr *)&a, &len)) {
    const int e = errno;
    if (s->fd >= 0) close(s->fd);
    free(s);
    errno = e;
    return NULL;
  }
  s->port = ntohs(a.sin_port);
  snprintf(s->good, sizeof s->good, "%s", FAULT_GOOD_ANSWER);
  pthread_mutex_init(&s->mu, NULL);
  const int rc = pthread_create(&s->thread, NULL, serve, s);
  if (rc) {
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
    errno = rc;
    return NULL;
  }
  return s;
}

int fault_server_port(const fault_server *s) { return s->port; }

void fault_server_set(fault_server *s, fault f, double delay_s) {
  atomic_store(&s->delay_ms, (int)(delay_s * 1e3 + 0.5));
  atomic_store(&s->fault, f);
}

void fault_server_answer(fault_server *s, const char *content) {
  pthread_mutex_lock(&s->mu);
  snprintf(s->good, sizeof s->good, "%s", content ? content : FAULT_GOOD_ANSWER);
  pthread_mutex_unlock(&s->mu);
}

int fault_server_received(const fault_server *s) { return atomic_load(&s->received); }
int fault_server_served(const fault_server *s) { return atomic_load(&s->served); }

void fault_server_last(fault_server *s, char *out, size_t cap) {
  pthread_mutex_lock(&s->mu);
  snprintf(out, cap, "%s", s->last);
  pthread_mutex_unlock(&s->mu);
}

void fault_server_stop(fault_server *s) {
  atomic_store(&s->stop, 1);
  pthread_join(s->thread, NULL);
  close(s->fd);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
