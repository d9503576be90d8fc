#!/usr/bin/env python3
"""Which single-connection requests were slow, and what the proxy's JVM was doing then (tail.sh).

  tail.py JVM_LOG THRESHOLD_US ROUND_FILE[:COMPILER_MS] ...

JVM_LOG is -Xlog:safepoint,deoptimization=debug,jit+compilation=debug with timenanos
(CLOCK_MONOTONIC, the clock pingpong's start times use). Each slow request is put in the first
class that applies: it overlaps a safepoint (a GC or other stop); it started in the round's first
second (a new connection: code the last close deoptimized runs in the interpreter until compiled
again); a JIT compilation or deoptimization was logged within the 50 ms before it ended (a compiler
thread taking a core on a small machine); else "other" (scheduling: the machine, not the proxy's
JVM, as far as these logs can tell).
"""
import bisect
import re
import sys

WINDOW = 50_000_000
FIRST = 1_000_000_000


def events(path):
    stops, jit = [], []
    for line in open(path, errors="replace"):
        m = re.match(r"\[(\d+)ns\]\[(\w+)(?:,(\w+))?\s*\]\s*(.*)", line)
        if not m:
            continue
        t, tag, sub, rest = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        if tag == "safepoint":
            total = re.search(r"Total: (\d+) ns", rest)
            if total:
                stops.append((t - int(total.group(1)), t))
        elif tag == "deoptimization" or (tag == "jit" and sub == "compilation"):
            jit.append((t, tag))
    return stops, sorted(jit)


def main():
    log, threshold = sys.argv[1], float(sys.argv[2]) * 1000
    stops, jit = events(log)
    jit_times = [t for t, _ in jit]
    print(f"slow = over {threshold / 1000:.0f} us; classes: safepoint / first second / JIT within 50 ms / other")
    for arg in sys.argv[3:]:
        path, _, compiler_ms = arg.partition(":")
        reqs = [tuple(map(int, l.split())) for l in open(path) if l.strip()]
        if not reqs:
            continue
        lat = sorted(r[1] for r in reqs)
        n = len(lat)
        t0, t1 = reqs[0][0], reqs[-1][0] + reqs[-1][1]
        counts = {"safepoint": 0, "first second": 0, "JIT": 0, "other": 0}
        for s, d in reqs:
            if d <= threshold:
                continue
            e = s + d
            if any(a < e and b > s for a, b in stops):
                counts["safepoint"] += 1
            elif s - t0 < FIRST:
                counts["first second"] += 1
            else:
                i = bisect.bisect_right(jit_times, e)
                counts["JIT" if i > 0 and e - jit_times[i - 1] <= WINDOW else "other"] += 1
        slow = sum(counts.values())
        in_round = [k for t, k in jit if t0 <= t <= t1]
        print(f"{path.rsplit('/', 1)[-1]}: {n} requests, p50 {lat[n // 2] / 1000:.0f} us, p99 {lat[n * 99 // 100] / 1000:.0f} us;"
              f" slow {slow} ({100 * slow / n:.2f}%): " + ", ".join(f"{k} {v}" for k, v in counts.items())
              + f"; in the round: {sum(1 for a, b in stops if t0 <= a <= t1)} safepoints,"
              f" {in_round.count('jit')} compilations, {in_round.count('deoptimization')} deoptimizations"
              + (f", compiler threads {compiler_ms} ms CPU" if compiler_ms else ""))


if __name__ == "__main__":
    main()
