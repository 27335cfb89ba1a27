#!/usr/bin/env python3
"""SIGKILL runsc-host at random points of `create`, many times, and check after each kill that
the bundle's config.json is byte for byte either the client's original or the complete rewrite
(never a mix, never truncated), and that a retried create then succeeds and gives the rewrite.

    fault_kill.py --bundle DIR --rewritten FILE --count N [--seed S] -- CMD...

CMD is the full runsc-host create command line (run as given, in its own process group so the
kill also reaches a runsc it may already have exec'd). --rewritten holds the bytes a complete
create produces. Even iterations start from a fresh bundle (the original config.json, no
config.json.orig); odd ones keep whatever the previous kill and retry left, so the retry path
(config.json already marked, .orig present) is killed as well.

Prints one summary line: kills, how many found the original and how many the rewrite, how many
landed after the process had already finished, leftover temp files; exits 1 on any violation."""
import argparse
import os
import random
import signal
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--rewritten", required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    rnd = random.Random(seed)
    cfg = os.path.join(a.bundle, "config.json")
    orig_path = cfg + ".orig"
    with open(cfg, "rb") as f:
        original = f.read()
    with open(a.rewritten, "rb") as f:
        rewritten = f.read()
    if original == rewritten:
        sys.exit("fault_kill: the original and the rewrite are identical; nothing to tell apart")

    def run_full():
        t = time.monotonic()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=60)
        return p.returncode, time.monotonic() - t, p.stderr.decode(errors="replace")

    def reset():
        with open(cfg + ".reset", "wb") as f:
            f.write(original)
        os.rename(cfg + ".reset", cfg)
        if os.path.exists(orig_path):
            os.unlink(orig_path)

    # How long a whole create takes here.
    durations = []
    for _ in range(5):
        reset()
        rc, d, err = run_full()
        if rc != 0:
            sys.exit("fault_kill: a create without faults failed (%d): %s" % (rc, err))
        durations.append(d)
    # Adapted as it goes: a kill that came too late shortens the span, one that came in time
    # lengthens it, so the kills keep landing inside create whatever the machine's load.
    span = min(durations)

    seen = {"original": 0, "rewrite": 0, "finished": 0}
    bad = []
    for i in range(a.count):
        if i % 2 == 0:
            reset()
        delay = rnd.uniform(0, span)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if p.poll() is not None:
            seen["finished"] += 1
            span *= 0.95
        else:
            span *= 1.02
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p.wait()
        with open(cfg, "rb") as f:
            now = f.read()
        if now == original:
            seen["original"] += 1
        elif now == rewritten:
            seen["rewrite"] += 1
        else:
            bad.append("kill %d (after %.2f ms): config.json is neither (%d bytes)" % (i, delay * 1e3, len(now)))
            reset()
            continue
        rc, _, err = run_full()
        with open(cfg, "rb") as f:
            now = f.read()
        if rc != 0 or now != rewritten:
            bad.append("kill %d (after %.2f ms): retried create: status %d, config.json %s: %s"
                       % (i, delay * 1e3, rc, "is the rewrite" if now == rewritten else "differs", err.strip()))
    leftovers = sorted(n for n in os.listdir(a.bundle)
                       if n.lstrip(".").startswith("config.json") and n not in ("config.json", "config.json.orig"))
    print("kills %d (seed %d, spread over 0..%.1f ms at the end): config.json was the original %d times, the whole "
          "rewrite %d times, process already done %d times; violations %d; leftover temp files %d %s"
          % (a.count, seed, span * 1e3, seen["original"], seen["rewrite"], seen["finished"],
             len(bad), len(leftovers), " ".join(leftovers[:5])))
    for b in bad[:20]:
        print("VIOLATION " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
