// rudder_fault_server: the tests' fault injector as a process, for live
// training runs (tests/test_slm_faults.sh). It is NOT a model server: it
// never reads the prompt, it answers every request with the chosen fault.
//   rudder_fault_server --fault hang|garbage|http500|not-decision|range|ok|slow-ok
//                       --port-file F [--delay S] [--answer TEXT]
// Listens on a free 127.0.0.1 port, writes the port to F (through F.tmp and
// a rename, so a reader never sees half a number) and serves until SIGTERM
// or SIGINT. Each change of its counters is printed as "received N served M"
// (flushed), so that a test can wait for the requests it expects.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault_server.h"

static int usage(void) {
  fprintf(stderr, "usage: rudder_fault_server --fault NAME --port-file F [--delay S] [--answer TEXT]\n"
                  "  NAME: ok garbage not-decision range http500 hang slow-ok (a fault injector,"
                  " not a model server)\n"
                  "  --answer TEXT: the message `ok` answers (default: a replace decision)\n");
  return 2;
}

static int write_port(const char *path, int port) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  const int bad = fprintf(f, "%d\n", port) < 0;
  if (fclose(f) || bad || rename(tmp, path)) {
    remove(tmp);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  fault kind = FAULT_COUNT;
  const char *port_file = NULL;
  const char *good = NULL;
  double delay = 0;
  if (argc % 2 == 0) return usage();  // options come in pairs
  for (int i = 1; i < argc; i += 2) {
    const char *opt = argv[i], *val = argv[i + 1];
    if (!strcmp(opt, "--fault")) {
      if (fault_parse(val, &kind)) return usage();
    } else if (!strcmp(opt, "--port-file")) port_file = val;
    else if (!strcmp(opt, "--delay")) delay = atof(val);
    else if (!strcmp(opt, "--answer")) good = val;
    else return usage();
  }
  if (kind == FAULT_COUNT || !port_file) return usage();
  // Blocked before the server's thread starts (it inherits the mask), so
  // that only sigtimedwait below ever sees them: no handler, no races.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  fault_server *s = fault_server_start(kind);
  if (!s) {
    fprintf(stderr, "rudder_fault_server: cannot listen on 127.0.0.1: %s\n", strerror(errno));
    return 1;
  }
  fault_server_set(s, kind, delay);
  if (good) fault_server_answer(s, good);
  if (write_port(port_file, fault_server_port(s))) {
    fprintf(stderr, "rudder_fault_server: cannot write %s: %s\n", port_file, strerror(errno));
    fault_server_stop(s);
    return 1;
  }
  printf("rudder_fault_server: fault %s on 127.0.0.1:%d\n", fault_name(kind), fault_server_port(s));
  fflush(stdout);
  int received = 0, served = 0;
  const struct timespec tick = {0, 50 * 1000 * 1000};
  for (;;) {
    const int sig = sigtimedwait(&stop, NULL, &tick);
    const int r = fault_server_received(s), v = fault_server_served(s);
    if (r != received || v != served) {
      printf("received %d served %d\n", received = r, served = v);
      fflush(stdout);
    }
    if (sig > 0) break;
  }
  printf("rudder_fault_server: stopping; received %d served %d\n", received, served);
  fault_server_stop(s);
  return 0;
}
