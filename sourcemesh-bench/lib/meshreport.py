#!/usr/bin/env python3
"""Markdown tables for mesh.sh from its raw TSV (one line per measured run).

Each figure is the median over rounds; "added" is a mode's median minus the "none" median of the
same percentile. Per proxy: CPU = its utime+stime over the run per 1,000 requests sent at the
fixed rate (CPU seconds per 1,000 requests = vCPU at 1,000 req/s), or per request at max; memory = its RSS at the end.
"""
import argparse
import csv
import statistics
import sys

LABEL = {
    "none": "no sidecars (baseline)",
    "redirect": "2 SourceMesh sidecars, REDIRECT",
    "tproxy": "2 SourceMesh sidecars, TPROXY",
    "haproxy": "2 HAProxy hops (REDIRECT)",
    "redirect-client": "the client's SourceMesh sidecar alone, REDIRECT",
    "redirect-server": "the server's SourceMesh sidecar alone, REDIRECT",
    "haproxy-client": "the client's HAProxy hop alone (REDIRECT)",
    "haproxy-server": "the server's HAProxy hop alone (REDIRECT)",
}


def med(xs):
    return statistics.median(xs) if xs else None


def ms(us):
    return "—" if us is None else f"{us / 1000:.2f}"


def added(v, base):
    if v is None or base is None:
        return "—"
    d = (v - base) / 1000
    return f"{d:+.2f}"


def per_proxy(rows, fn):
    """[client, server] medians of fn(row, i) over rows, or [] when the mode has no proxies."""
    n = max((len(r["proxy_cpu_s"].split(";")) for r in rows if r["proxy_cpu_s"] not in ("", "-")), default=0)
    return [med([fn(r, i) for r in rows]) for i in range(n)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("raw")
    p.add_argument("--rate", type=int, required=True)
    p.add_argument("--conns", type=int, required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--access-log", type=int, default=0)
    a = p.parse_args()
    with open(a.raw) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    out = []
    out.append(f"Client pod → server pod, HTTP/1.1 keep-alive, {a.conns} connections, 1 KB responses; "
               f"{a.duration} s per point, {a.rounds} interleaved round(s), medians. Sidecars: 1 worker each, "
               f"access log {'on' if a.access_log else 'off'}.")
    for kind in ("fixed", "max"):
        kr = [r for r in rows if r["kind"] == kind]
        if not kr:
            continue
        base = {k: med([int(r[k]) for r in kr if r["mode"] == "none"]) for k in ("p50_us", "p90_us", "p99_us")}
        out.append("")
        if kind == "fixed":
            out.append(f"**Fixed rate, {a.rate} req/s** (latency from each request's scheduled start: corrected for "
                       "coordinated omission)")
            out.append("")
            out.append("| path | req/s offered | p50 ms | p90 ms | p99 ms | added p50 / p90 / p99 ms | p99 ms from the actual send "
                       "| generator late p99 ms | vCPU per proxy per 1,000 req/s (client / server) | RSS MB per proxy (client / server) | errors "
                       "| load avg |")
            out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        else:
            out.append(f"**Maximum rate** (wrk, {a.conns} connections, closed loop)")
            out.append("")
            out.append("| path | req/s | p50 ms | p90 ms | p99 ms | added p50 / p90 / p99 ms | CPU µs per request per proxy "
                       "(client / server) | RSS MB per proxy (client / server) | errors | load avg |")
            out.append("|---|---|---|---|---|---|---|---|---|---|")
        for m in modes:
            mr = [r for r in kr if r["mode"] == m]
            if not mr:
                continue
            rps = med([float(r["rps"]) for r in mr])
            pct = {k: med([int(r[k]) for r in mr]) for k in ("p50_us", "p90_us", "p99_us")}
            add = "—" if m == "none" else " / ".join(added(pct[k], base[k]) for k in ("p50_us", "p90_us", "p99_us"))

            def cpu(r, i):
                c = float(r["proxy_cpu_s"].split(";")[i])
                if kind == "fixed":  # CPU seconds per 1,000 requests sent = vCPU at 1,000 req/s
                    return c / (int(r["sent"]) / 1000)
                return c / (float(r["rps"]) * a.duration) * 1e6

            def rss(r, i):
                return int(r["proxy_rss_kb"].split(";")[i]) / 1024

            cpus = per_proxy(mr, cpu)
            rsss = per_proxy(mr, rss)
            cpu_cell = " / ".join((f"{c:.3f}" if kind == "fixed" else f"{c:.0f}") for c in cpus) or "—"
            rss_cell = " / ".join(f"{x:.0f}" for x in rsss) or "—"
            errors = sum(int(r["errors"]) for r in mr)
            loads = [float(r["load1"]) for r in mr]
            load = f"{min(loads):.2f}" if len(loads) == 1 else f"{min(loads):.2f}–{max(loads):.2f}"
            svc = (f" {ms(med([int(r['svc_p99_us']) for r in mr]))} | {ms(med([int(r['late_p99_us']) for r in mr]))} |"
                   if kind == "fixed" else "")
            out.append(f"| {LABEL.get(m, m)} | {rps:,.0f} | {ms(pct['p50_us'])} | {ms(pct['p90_us'])} | {ms(pct['p99_us'])} "
                       f"| {add} |{svc} {cpu_cell} | {rss_cell} | {errors} | {load} |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
