/* Fuzz the runc grammar (runtime-wrapper/cli.c): the input is argv, NUL-separated. Every parse
 * must either succeed with a well-formed runsc argv (subcommand first, the container id right
 * after a "--") or fail with a message; never crash, leak or read out of bounds. The exec
 * process builder and the detach guard run on whatever parsed. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *buf, *argv[256];
  int argc = 0;
  struct rh_cli cli;
  struct rh_cli_env env = { .cwd = "/fuzz/cwd", .stdin_is_tty = size % 2 == 0 };
  rh_error err;

  if (size > 64 * 1024)
    return 0;
  buf = rh_xmalloc0 (size + 1);
  memcpy (buf, data, size);
  argv[argc++] = "runc";
  for (char *p = buf; p < buf + size && argc < 255; p += strlen (p) + 1)
    argv[argc++] = p;
  argv[argc] = NULL;

  if (rh_cli_parse (argc, argv, &env, &cli, &err) == 0)
    {
      if (cli.sub_args)
        {
          size_t n = rh_strv_len (cli.sub_args);
          if (cli.id && (n < 2 || !rh_strv_contains (cli.sub_args, "--")))
            abort ();
          rh_cli_check_exec_detach (cli.sub_args, &err);
        }
      if (cli.exec_synth_process)
        {
          json_t *spec = json_pack ("{s:[s], s:[s], s:s, s:{s:i, s:i}}", "args", "/init", "env", "A=1", "cwd", "/",
                                    "user", "uid", 0, "gid", 0);
          json_t *out = NULL;
          if (rh_cli_exec_process (spec, &cli, &out, &err) == 0)
            json_decref (out);
          json_decref (spec);
        }
    }
  else if (err.msg[0] == '\0')
    abort ();
  rh_cli_free (&cli);
  free (buf);
  return 0;
}
