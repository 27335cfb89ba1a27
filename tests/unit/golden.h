/* Shared plumbing for the golden-file unit tests (tests/data/<module>/<case>/): reading files,
 * the log a case wrote, its want_log.txt lines, and running every case directory in name
 * order. Each test file keeps its own run_case(), which knows its modifiers. */
#ifndef RH_TEST_GOLDEN_H
#define RH_TEST_GOLDEN_H

#include <jansson.h>
#include <stddef.h>

/* The file's text (at most 4 MiB), or NULL when it cannot be read. Caller frees. */
char *golden_slurp (const char *path);
/* Parse a JSON file (duplicates refused, NUL bytes allowed); fails the test when it cannot. */
json_t *golden_load_json (const char *path);
/* Everything written so far to the log file fd. Caller frees. */
char *golden_read_log (int fd);
/* 1 (and an error printed) when a non-empty line of want_log_path is missing from logtext;
 * 0 when all are there or the file does not exist. */
int golden_check_log (const char *name, const char *logtext, const char *want_log_path);
/* Run run_case on every subdirectory of dir, sorted by name; fails the test when there are
 * fewer than min_cases or any case failed. */
void golden_run_all (const char *dir, int (*run_case) (const char *name), size_t min_cases);
/* qsort comparator for an array of C strings. */
int golden_cmp_str (const void *a, const void *b);

#endif
