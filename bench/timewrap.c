/* timewrap: run a program and append how long it took to a CSV, for bench/breakdown.sh.
 *
 *   timewrap CSV LABEL PROGRAM [ARG]...      (built with the three baked in: see breakdown.sh)
 *
 * The row is "LABEL-STEP,0,MICROSECONDS,STATUS", STEP being the first runtime subcommand or hook
 * command found among the arguments. The program gets this process's argv[1..] (argv[0] is
 * replaced), so it runs exactly as if exec'd; the timer adds one fork. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TW_CSV
#error "build with -DTW_CSV=... -DTW_LABEL=... -DTW_PROGRAM=..."
#endif

static long long
now_us (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

int
main (int argc, char **argv)
{
  static const char *const steps[] = { "create", "start", "delete", "state", "kill", "createRuntime", "poststop", NULL };
  const char *step = "other";
  long long t0 = now_us ();
  int status = 0;
  pid_t pid;
  FILE *f;

  for (int i = 1; i < argc && strcmp (step, "other") == 0; i++)
    for (int k = 0; steps[k]; k++)
      if (strcmp (argv[i], steps[k]) == 0)
        step = steps[k];
  pid = fork ();
  if (pid == 0)
    {
      argv[0] = (char *) TW_PROGRAM;
      execv (TW_PROGRAM, argv);
      _exit (127);
    }
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    return 127;
  f = fopen (TW_CSV, "a");
  if (f)
    {
      fprintf (f, "%s-%s,0,%lld,%d\n", TW_LABEL, step, now_us () - t0, status);
      fclose (f);
    }
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}
