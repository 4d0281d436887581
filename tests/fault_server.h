// A fault injector for the LLM client and agents: a tiny HTTP/1.1 server on
// 127.0.0.1 (one thread, one connection at a time, "Connection: close")
// that answers every request with the reply the test chose. It is NOT a
// model server: it exists only to produce, on cue, the faults a real server
// cannot be made to produce (malformed bodies, errors, hangs, late answers).
#ifndef RUDDER_TEST_FAULT_SERVER_H
#define RUDDER_TEST_FAULT_SERVER_H

#include <stddef.h>

typedef enum fault {
  FAULT_OK,            // a well-formed chat reply carrying FAULT_GOOD_ANSWER
  FAULT_MALFORMED,     // HTTP 200 whose body is not JSON
  FAULT_NOT_DECISION,  // a well-formed reply whose message is prose
  FAULT_RANGE,         // a decision object with fraction 1.5
  FAULT_HTTP500,       // HTTP 500 with an error body
  FAULT_HANG,          // accepts, reads the request, never answers
  FAULT_SLOW_OK,       // FAULT_OK after a delay (unless the client gave up)
  FAULT_COUNT
} fault;

// The decision FAULT_OK and FAULT_SLOW_OK answer.
#define FAULT_GOOD_ANSWER "{\"decision\":\"replace\",\"fraction\":0.25,\"reason\":\"stale slots\"}"
// The most of the last request fault_server_last keeps (headers and body).
#define FAULT_LAST_MAX 65536

typedef struct fault_server fault_server;

// Listens on a free 127.0.0.1 port and serves `f` until stopped; NULL (with
// errno) when no socket or thread could be had.
fault_server *fault_server_start(fault f);
int fault_server_port(const fault_server *s);
// The reply to every request from now on; `delay_s` is FAULT_SLOW_OK's wait.
void fault_server_set(fault_server *s, fault f, double delay_s);
// The message FAULT_OK answers from now on (NULL:
// FAULT_GOOD_ANSWER again), at most 511 bytes.
void fault_server_answer(fault_server *s, const char *content);
// Requests read in full, and those answered (or closed: FAULT_HANG,
// FAULT_SLOW_OK when the client left first). Any thread may read them.
int fault_server_received(const fault_server *s);
int fault_server_served(const fault_server *s);
// The last request read, headers and body, NUL-terminated into out[cap].
void fault_server_last(fault_server *s, char *out, size_t cap);
// Closes the connection in hand (a hang ends) and the socket, and frees.
void fault_server_stop(fault_server *s);

// "ok", "garbage" (FAULT_MALFORMED), "not-decision", "range", "http500",
// "hang", "slow-ok"; fault_parse returns -1 for any other name.
const char *fault_name(fault f);
int fault_parse(const char *name, fault *out);

#endif
