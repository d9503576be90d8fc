#!/usr/bin/env python3
"""Constant-rate HTTP/1.1 load generator for mesh.sh (Python 3 standard library only).

    rate.py HOST PORT --rate R --conns C --duration S [--warmup S] [--path /]

Request i is scheduled at t0 + i/R and sent on keep-alive connection i mod C (each connection
carries R/C requests a second, staggered). A request whose connection is still busy with an
earlier one is sent as soon as that one is answered, and its latency is still counted from its
*scheduled* start: the latencies are corrected for coordinated omission, as wrk2's are (a stall
shows up in every request that should have been sent during it, not in one). The uncorrected
service time (from the actual send) is printed beside them.

Prints one JSON line: requests counted, requests sent (warm-up included), errors, rate, and
p50/p90/p99/p999/max in microseconds, corrected ("lat_") and from the actual send ("svc_"). Requests scheduled during --warmup are sent
but not counted.
"""
import argparse
import asyncio
import json
import math
import sys
import time


def percentile(sorted_xs, p):
    if not sorted_xs:
        return 0
    k = max(0, math.ceil(p / 100.0 * len(sorted_xs)) - 1)  # nearest rank
    return sorted_xs[k]


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def connection(k, a, t0, end, warm_end, out):
    reader, writer = await asyncio.open_connection(a.host, a.port)
    req = (f"GET {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nUser-Agent: sourcemesh-bench-rate\r\n\r\n").encode()
    period = a.conns / a.rate
    loop = asyncio.get_running_loop()
    j = 0
    try:
        while True:
            scheduled = t0 + (k / a.rate) + j * period
            if scheduled >= end:
                break
            j += 1
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = loop.time()
            out["sent"] += 1
            writer.write(req)
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                out["errors"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(a.host, a.port)
                continue
            done = loop.time()
            if scheduled < warm_end:
                continue
            if status != 200:
                out["errors"] += 1
                continue
            out["lat"].append(done - scheduled)
            out["svc"].append(done - sent)
    finally:
        writer.close()


async def main_async(a):
    loop = asyncio.get_running_loop()
    out = {"lat": [], "svc": [], "errors": 0, "sent": 0}
    t0 = loop.time() + 0.2  # every connection opened before the first request is due
    warm_end = t0 + a.warmup
    end = warm_end + a.duration
    await asyncio.gather(*(connection(k, a, t0, end, warm_end, out) for k in range(a.conns)))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--rate", type=float, required=True, help="requests per second, all connections together")
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds sent first and not counted")
    p.add_argument("--path", default="/")
    a = p.parse_args()
    out = asyncio.run(main_async(a))
    row = {"requests": len(out["lat"]), "sent": out["sent"], "errors": out["errors"],
           "rate": round(len(out["lat"]) / a.duration, 1)}
    for key in ("lat", "svc"):
        xs = sorted(out[key])
        for name, pct in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
            row[f"{key}_{name}_us"] = int(percentile(xs, pct) * 1e6)
        row[f"{key}_max_us"] = int((xs[-1] if xs else 0) * 1e6)
    print(json.dumps(row))
    return 0 if out["lat"] and not out["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
