// The LLM agents as buffer policies.
//
//  * "llm": any chat server: llama.cpp's llama-server, vLLM, a hosted
//    OpenAI-compatible API, or Ollama (dialect=ollama); DEGREE start, SCORE
//    rule: the answer says when to replace and how much;
//  * "slm": the same agent with defaults for the local small model that
//    scripts/setup_llm installs and agents/llm/rudder_llm_server serves;
//  * "llm-menu", "slm-menu": the lookahead policy's rule and start
//    (baselines/lookahead.c, --lookahead K); the answer keeps the rule's
//    knobs or tunes them from a menu listed in the schema: window 0, K/4,
//    K/2, K; prior vip, count, degree; margin 0, 0.1, 0.25, 0.5, 1; pinned
//    share 0, 0.05, 0.1, 0.25, 0.5 (prompts/menu.txt).
//
// decide() never waits for the model: at every decision point (steps that
// are multiples of `period`) it posts the window to the agent's thread and
// returns; an answer is applied at the first step after
// it arrives, unless it is older than max_age steps (then it is dropped and
// counted). A failure (no connection, timeout, HTTP error, a reply that is
// not the schema's JSON, a value out of range) applies the fallback action
// and is logged with the raw reply. Every answer becomes an rd_decision,
// and so does every window posted and never asked (superseded by a newer
// one while the model was busy, or left at the end): step_applied -1, valid
// 0, fallback 0, raw "superseded: ...".
//
// Options ("key=value,..." in rd_policy_params.options):
//   endpoint=URL      base URL or full chat URL (http://127.0.0.1:8080)
//   model=NAME        sent as "model" (llama-server ignores it)
//   dialect=D         openai (llama-server, vLLM, hosted, Ollama /v1) | ollama (/api/chat)
//   api_key_env=VAR   name of the variable holding a bearer key (the key is never logged)
//   temperature=T     0 (deterministic, with the run's seed)
//   max_tokens=N      answer budget
//   timeout_ms=MS     whole request; connect_timeout_ms=MS the connection alone
//   history=K         past decisions shown, with their measured effect (0..16)
//   mode=M            rudder (decision + fraction, windowed metrics) | paper
//                     (the paper's agent: yes/no over all stale slots,
//                     cumulative integer hit rate, comm_volume = misses,
//                     last 5 decisions, one in-context example)
//   fallback=F        keep | periodic (replace, as the periodic policy would)
//   max_age=STEPS     answers older than this are dropped (default: period)
//   scope=S           job (default; mode=paper: rank): in a live run rank 0
//                     asks once for the whole job, on the job's window (every
//                     rank's summed; rates weighted by accesses), and every
//                     rank applies the decision before the same step: one
//                     non-blocking MPI_Iallgather per step, completed at the
//                     next, carries the windows and the decision (so an
//                     answer applies one step after it arrived). rank: one agent per rank (the paper). A
//                     replay has one rank: job = rank there.
//   warmup=0|1        slm: 1. Send the prompt once with a one-token answer,
//                     so that the server's prompt cache holds the fixed part
//                     (the system message) before the first question; a
//                     question then costs its new tokens. A system message
//                     that names nothing of the run's window (slm.txt,
//                     menu.txt) is sent when the agent is created, before
//                     the first step; any other at the first window.
//   cache_prompt=0|1  slm: 1. Ask llama-server to keep each slot's prompt.
//   prefill=0|1       slm: 1. Open the assistant's message with the answer's
//                     first key and constrain the rest with a GBNF grammar
//                     (llama-server's "grammar"), not a JSON schema: 3-12
//                     answer tokens instead of 30-40 (client.h).
//   prompt=NAME       the template DIR/NAME.txt (default: rudder; slm: slm,
//                     the short one; mode=paper: paper; menu agents: menu)
//   reason_chars=N    the reason's maxLength in the schema (llm 160; slm 0:
//                     no reason asked, the shortest answer: a 135M model's
//                     reasons are noise, and each token costs on a CPU)
//   (slm: timeout_ms 60000, max_tokens 48: a loaded 2-core machine may
//   answer in tens of seconds, and an answer that arrives is still applied.)
//   prompts=DIR       where MODE.txt lives (default: $RUDDER_PROMPTS, else
//                     the source tree's agents/prompts)
//
// An API key (api_key_env) goes only over https or to a loopback address;
// any other endpoint is refused at creation, with the reason.
//
// Larger models (the option string is the trainer's --policy-options):
//   Ollama:  --policy llm --policy-options endpoint=http://127.0.0.1:11434,dialect=ollama,model=gemma3:4b
//   vLLM:    --policy llm --policy-options endpoint=http://HOST:8000,model=meta-llama/Llama-3.2-3B-Instruct
//   hosted:  --policy llm --policy-options endpoint=https://HOST,model=NAME,api_key_env=MY_KEY_VAR
// Set timeout_ms and max_age to what a step takes there: an answer later
// than max_age steps does nothing (it is counted as stale).
//
// History: each past decision with what its replacement did (slots
// refilled; paper: nodes evicted and empty slots filled, as the step after
// it measured) and its effect: rows fetched per step and hit rate from when
// it was applied to the next question, against the span before it.
// Consecutive applied decisions cut the run into spans that do not overlap.
// A line, once shown, never changes, so the server's prompt cache keeps it.
//
// Prompt templates (agents/prompts/MODE.txt): a "[system]" and a "[user]"
// section; lines starting with "%%" are comments; {{name}} is replaced by
// a value of the window or the history:
//   step total_steps steps_left steps_left_pct steps_since_replace
//   capacity halo_size occupancy occupancy_pct stale stale_pct window
//   hit_rate hit_rate_prev hit_rate_change remote_per_step misses_per_step
//   rows_fetched_per_step evicted_per_step fetch_ms step_ms
//   cum_hit_rate (integer %, access-weighted since the start) comm_volume
//   (misses per step, integer) history (one line per past decision)
//   candidates cand_5 cand_10 cand_25 cand_50 cand_100 stale_age_p50
//   stale_age_max (what a replacement would trade: core/buffer/scores.h)
//   known_25 known_50 known_100 known_missing (menu agents: buffered rows
//   first used within a quarter, half, all of the K known steps; the nodes
//   those steps use that the buffer does not hold)
#ifndef RUDDER_LLM_AGENT_H
#define RUDDER_LLM_AGENT_H

#include <stdint.h>

#include "buffer/policy.h"
#include "llm/client.h"

extern const rd_policy_ops rd_policy_llm, rd_policy_slm, rd_policy_llm_menu, rd_policy_slm_menu;

typedef struct rd_llm_stats {
  int64_t posted;      // windows posted at decision points
  int64_t superseded;  // posted windows the model never saw: replaced by a newer one, or
                       // still waiting when training ended
  int64_t answered;    // valid answers that arrived
  int64_t applied;     // answers or fallbacks applied to a step
  int64_t stale;       // arrived more than max_age steps late: dropped
  int64_t fallbacks;   // fallback actions applied
  int64_t errors[RD_LLM_NSTATUS];  // failures by status (errors[RD_LLM_OK] stays 0)
} rd_llm_stats;

// Counters of an agent created by rd_policy_llm / rd_policy_slm; call it
// from the thread that calls decide.
void rd_llm_agent_stats(void *state, rd_llm_stats *out);

// The messages the agent would send for window `w` now (malloc'ed), to
// inspect a template; -1 with rd_error() when out of memory.
int rd_llm_agent_render(void *state, const rd_window *w, char **system, char **user);

#endif
