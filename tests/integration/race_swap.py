#!/usr/bin/env python3
"""The racer of tests/integration/race.bats: re-points a path in a tight loop until SIGTERM.

  race_swap.py link LINK TARGET_A TARGET_B
      LINK is a symlink that points alternately at TARGET_A and TARGET_B. Each flip is what
      `ln -sfn` does, made atomic: a fresh symlink beside LINK, renamed over it, so LINK always
      exists and always points at one of the two.
  race_swap.py exchange PATH_A PATH_B
      renameat2(RENAME_EXCHANGE) of PATH_A and PATH_B, e.g. a real directory and a symlink: a
      directory component of a mount source turns into a symlink and back, atomically.

On SIGTERM it prints the number of flips to stdout and exits 0. It only ever renames entries
inside the directories it was given (the test's own temp dir).
"""
import ctypes
import os
import signal
import sys

RENAME_EXCHANGE = 2
AT_FDCWD = -100

stop = False


def on_term(_sig, _frame):
    global stop
    stop = True


def main():
    signal.signal(signal.SIGTERM, on_term)
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    flips = 0
    if mode == "link" and len(sys.argv) == 5:
        link, targets = sys.argv[2], sys.argv[3:5]
        tmp = "%s.racer-%d" % (link, os.getpid())
        while not stop:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.symlink(targets[flips % 2], tmp)
            os.rename(tmp, link)
            flips += 1
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    elif mode == "exchange" and len(sys.argv) == 4:
        libc = ctypes.CDLL(None, use_errno=True)
        a, b = (os.fsencode(p) for p in sys.argv[2:4])
        while not stop:
            if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
                err = ctypes.get_errno()
                sys.stderr.write("renameat2: %s\n" % os.strerror(err))
                return 1
            flips += 1
    else:
        sys.stderr.write(__doc__)
        return 2
    print(flips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
