// One HTTP client for the two chat dialects the agents speak: the
// OpenAI-compatible /v1/chat/completions (llama.cpp's llama-server, vLLM,
// hosted services, Ollama's /v1) and Ollama's native /api/chat. A request
// asks for one replacement decision under a JSON schema (constrained
// decoding where the server has it); the answer is parsed and range-checked
// here, never substring-matched. Every failure has its own status, a
// message, and the raw body when one came.
#ifndef RUDDER_LLM_CLIENT_H
#define RUDDER_LLM_CLIENT_H

#include <stdatomic.h>
#include <stdint.h>

typedef enum rd_llm_dialect { RD_LLM_OPENAI, RD_LLM_OLLAMA } rd_llm_dialect;

// The menu of knobs an answer may set (menu agents): the schema lists each
// knob's allowed values, so a server with JSON-schema grammars can only
// produce them; a number elsewhere in range is clamped to the nearest
// listed value, anything else is a range error.
enum { RD_LLM_MENU_MAX = 8 };
typedef struct rd_llm_menu {
  int num_windows, num_priors, num_margins, num_pinned;
  int32_t windows[RD_LLM_MENU_MAX];           // lookahead steps that count
  const char *priors[RD_LLM_MENU_MAX];        // names, as rd_prior_name spells them
  double margins[RD_LLM_MENU_MAX], pinned[RD_LLM_MENU_MAX];
} rd_llm_menu;

// The fractions a prefilled answer may name (the schema takes any in [0, 1]).
#define RD_LLM_FRACTIONS {0.05, 0.1, 0.25, 0.5, 1}

typedef struct rd_llm_config {
  const char *endpoint;     // base URL ("http://127.0.0.1:8080") or a full chat URL
  const char *model;        // sent as "model"; llama-server ignores it
  rd_llm_dialect dialect;
  const char *api_key_env;  // NAME of the variable holding a bearer key, or NULL
  double temperature;
  int max_tokens;
  long connect_timeout_ms, timeout_ms;  // timeout_ms bounds the whole request
  uint64_t seed;
  int want_fraction;        // 0: the schema asks for decision and reason only
  int reason_chars;         // the reason's maxLength in the schema; 0: 160; < 0: no reason asked
  int cache_prompt;         // openai dialect: send llama-server's "cache_prompt": true
  // openai dialect on llama-server: the answer's opening `{"decision":"` is
  // written as the start of the assistant's message, and a GBNF grammar of
  // the same choices (fractions then from RD_LLM_FRACTIONS) replaces the
  // JSON schema. The model then generates only the choice and what follows
  // it, without the whitespace and code fence that the schema's grammar
  // allows: 3-30 tokens instead of 30-60, the whole answer on a CPU.
  int prefill;
  const rd_llm_menu *menu;  // non-NULL: the answer is "keep" or "tune" with the menu's knobs
} rd_llm_config;

typedef enum rd_llm_status {
  RD_LLM_OK,
  RD_LLM_ERR_CONNECT,    // refused, unreachable, unresolvable
  RD_LLM_ERR_TIMEOUT,    // connect or total timeout
  RD_LLM_ERR_TRANSPORT,  // any other transfer failure (reset, empty reply, too large)
  RD_LLM_ERR_HTTP,       // a status other than 2xx
  RD_LLM_ERR_BODY,       // the body is not the dialect's JSON reply
  RD_LLM_ERR_ANSWER,     // the message is not a decision object (not JSON, missing fields)
  RD_LLM_ERR_RANGE,      // a field outside its domain (decision, fraction in [0, 1])
  RD_LLM_ERR_CANCELLED,  // the caller's cancel flag was raised
  RD_LLM_NSTATUS
} rd_llm_status;

typedef struct rd_llm_reply {
  rd_llm_status status;
  long http_status;      // 0 when no response came
  char message[256];     // what went wrong (empty on success)
  char *raw;             // the response body, malloc'ed, NULL when none came
  char *content;         // the model's message text, malloc'ed, NULL when not reached
  int replace;           // the answer, valid when status == RD_LLM_OK
  double fraction;       // 0 unless the schema asked for it
  // Menu answers ("tune" is replace = 1): the knobs, validated against the
  // menu (index of the prior in menu->priors); `clamped` names any number
  // moved onto the menu.
  int32_t window;
  int prior;
  double margin, pinned;
  int clamped;
  char reason[256];
  int prompt_tokens, completion_tokens;  // as the server counted them, 0 if not said
  double seconds;        // wall time of the request
} rd_llm_reply;

typedef struct rd_llm_client rd_llm_client;

// NULL with rd_error() on a bad configuration (unknown scheme, no memory).
rd_llm_client *rd_llm_client_new(const rd_llm_config *cfg);
void rd_llm_client_free(rd_llm_client *c);

// One chat request (system + user message) asking for a decision; fills
// *r (free with rd_llm_reply_free) and returns r->status. `cancel` (may be
// NULL) aborts the transfer within about a second (libcurl's progress
// interval) of becoming non-zero. One client per thread.
rd_llm_status rd_llm_ask(rd_llm_client *c, const char *system, const char *user,
                         const atomic_int *cancel, rd_llm_reply *r);
void rd_llm_reply_free(rd_llm_reply *r);

// Sends system + user once with a one-token answer and no schema, so that
// a server with a prompt cache (llama-server's cache_prompt) evaluates the
// prompt's fixed prefix now rather than at the first question. Returns the
// status; the answer is discarded.
rd_llm_status rd_llm_warm(rd_llm_client *c, const char *system, const char *user,
                          const atomic_int *cancel, double *seconds);

const char *rd_llm_status_name(rd_llm_status s);
// "openai" / "ollama"; -1 with rd_error() for anything else.
int rd_llm_dialect_parse(const char *s, rd_llm_dialect *out);

#endif
