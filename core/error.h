// One error channel for the whole library: a failing function returns -1 (or
// NULL) after rd_error_set(); the caller that talks to the user prints
// rd_error(). Messages name the file, line or field at fault.
#ifndef RUDDER_ERROR_H
#define RUDDER_ERROR_H

#define RD_ERROR_LEN 1024

// printf-style; returns -1 so that `return rd_error_set(...)` reads naturally.
int rd_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Prepends "prefix: " to the current message (adds context while unwinding).
int rd_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *rd_error(void);

#endif
