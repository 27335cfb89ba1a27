/* The runc-style flag scanner behind cli.c: flag tables, and the scan of one argv into flag
 * occurrences and positionals, spelled as urfave/cli on Go's flag package accepts them. What
 * each flag then means is cli.c's business. */
#ifndef RH_CLI_SCAN_H
#define RH_CLI_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum act
{
  MAP,     /* pass to runsc as --<runsc name> (same name when runsc is NULL) */
  DROP,    /* harmless for runsc: log and leave out */
  REFUSE,  /* dropping it would change the meaning: fail, naming the flag */
  SPECIAL, /* the subcommand's handler decides */
};

struct flag_def
{
  const char *name;  /* long name, without dashes */
  char short_name;   /* one-letter alias, or 0 */
  bool value;        /* takes a value (else boolean) */
  enum act act;
  const char *runsc; /* MAP: runsc's name, NULL = same */
  const char *why;   /* DROP/REFUSE: the reason, as logged or reported */
};

#define END_FLAGS { NULL, 0, false, MAP, NULL, NULL }

struct occ
{
  const struct flag_def *def;
  char *value;  /* value flags: the value; booleans: "true" or "false" */
};

struct scan
{
  struct occ *occ;
  size_t n_occ;
  char **pos;   /* positionals, in order */
};

void rh_cli_scan_free (struct scan *s);

/* Go's strconv.ParseBool, which is what urfave/cli uses for --flag=value. 0, or -1 when s is
 * none of its spellings. */
int rh_cli_parse_bool (const char *s, bool *out);

/* Is arg spelled like a flag (as Go's flag package sees it)? "-" alone is a positional. */
bool rh_cli_looks_like_flag (const char *arg);

/* Parse the one flag at argv[*i] (advancing *i past its value) into s. ctx prefixes errors.
 * Returns 1 when it was --help / -h and not in defs, 0 when scanned, -1 on an error. */
int rh_cli_scan_one (const char *ctx, const struct flag_def *defs, int argc, char *const *argv, int *i,
                     struct scan *s, rh_error *err);

/* Scan a subcommand's arguments argv[start..argc). stop_at_pos: flags end at the first
 * positional (exec, ps); else flags may follow positionals, as with runc's argument reordering.
 * Returns 1 for --help, 0 when scanned (s->pos is never NULL then), -1 on an error. */
int rh_cli_scan_args (const char *ctx, const struct flag_def *defs, bool stop_at_pos, int argc, char *const *argv,
                      int start, struct scan *s, rh_error *err);

#endif
