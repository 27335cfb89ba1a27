/* Replays every file in the given directories (or files) through LLVMFuzzerTestOneInput, so the
 * fuzz corpus runs as a regression test under ctest without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
replay_file (const char *path)
{
  char *buf = NULL;
  size_t len = 0;
  rh_error err;

  if (rh_read_file_capped (path, 64u << 20, &buf, &len, &err) < 0)
    {
      fprintf (stderr, "replay: %s\n", err.msg);
      return -1;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
  free (buf);
  return 0;
}

int
main (int argc, char **argv)
{
  int n = 0;
  for (int i = 1; i < argc; i++)
    {
      struct stat st;
      if (stat (argv[i], &st) < 0)
        {
          fprintf (stderr, "replay: no corpus at %s\n", argv[i]);
          return 1;
        }
      if (S_ISDIR (st.st_mode))
        {
          DIR *d = opendir (argv[i]);
          struct dirent *de;
          while (d && (de = readdir (d)))
            {
              char path[4096];
              if (de->d_name[0] == '.')
                continue;
              snprintf (path, sizeof path, "%s/%s", argv[i], de->d_name);
              if (replay_file (path) < 0)
                return 1;
              n++;
            }
          if (d)
            closedir (d);
        }
      else if (replay_file (argv[i]) == 0)
        n++;
      else
        return 1;
    }
  printf ("replayed %d inputs\n", n);
  /* A corpus that is empty tests nothing. */
  return n > 0 ? 0 : 1;
}
