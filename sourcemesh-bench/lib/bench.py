#!/usr/bin/env python3
"""Helpers for sourcemesh-bench/run.sh (Python 3 standard library only).

Subcommands:
  check HOST PORT                 one HTTP/1.1 GET; exits 0 if 200 with a body, prints status and size
  stat PID                        "<rss_kb> <cpu_seconds>" summed over PID and all its descendants
  snap PID...                     wall time, machine-wide busy CPU seconds, then each PID tree's CPU seconds
  busy [SECONDS]                  cores the whole machine kept busy over SECONDS (default 1)
  descendants PID                 PIDs of all descendants of PID, one per line
  startup --host H --port P [--http] [--pidfile F] -- CMD...
                                  starts CMD, polls connect() every 1 ms until it succeeds (and, with
                                  --http, until a GET returns 200), prints
                                  "STARTUP connect_ms=... http_ms=...", then stops CMD and its children
  idle --host H --port P -n N     opens N keep-alive connections, one GET each, keeps them open;
                                  prints "READY ok=... failed=..." then holds until killed or --hold s
  report --raw TSV --machine TEXT --out MD [--note TEXT]
                                  renders the Markdown result block from run.sh's raw TSV
"""
import argparse
import asyncio
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

REQ = b"GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: sourcemesh-bench\r\n\r\n"


# ---------------------------------------------------------------------------------------------
# /proc helpers

def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        # the command name may hold spaces/parentheses: split after the last ')'
        rest = data[data.rfind(")") + 2:].split()
        ppid = int(rest[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def descendants(pid):
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def proc_stat(pid):
    """(rss_kb, cpu_seconds) of one process, or (0, 0.0) if it is gone."""
    rss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    break
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        rest = data[data.rfind(")") + 2:].split()
        ticks = int(rest[11]) + int(rest[12])  # utime + stime
        return rss, ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0, 0.0


def tree_stat(pid):
    rss, cpu = 0, 0.0
    for p in [pid] + descendants(pid):
        r, c = proc_stat(p)
        rss += r
        cpu += c
    return rss, cpu


def stop_tree(pid, grace=5.0):
    pids = [pid] + descendants(pid)
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        alive = [p for p in pids if os.path.exists(f"/proc/{p}") and not is_zombie(p)]
        if not alive:
            return
        time.sleep(0.02)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        return data[data.rfind(")") + 2] == "Z"
    except OSError:
        return True


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 response reading (enough for our origin: Content-Length or chunked)

def read_response_sync(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before headers")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if b"content-length" in headers:
        n = int(headers[b"content-length"])
        while len(body) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in body")
            body += chunk
        return status, headers, body[:n]
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in chunked body")
            body += chunk
        return status, headers, body
    return status, headers, body


async def read_response_async(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v.strip())
        elif k == b"transfer-encoding" and v.strip().lower() == b"chunked":
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


# ---------------------------------------------------------------------------------------------

def cmd_check(a):
    try:
        with socket.create_connection((a.host, a.port), timeout=5) as s:
            s.sendall(REQ)
            status, headers, body = read_response_sync(s)
    except OSError as e:
        print(f"check {a.host}:{a.port}: {e}")
        return 1
    xff = headers.get(b"x-forwarded-for", b"").decode()
    print(f"status={status} body_bytes={len(body)}" + (f" xff={xff}" if xff else ""))
    return 0 if status == 200 and body else 1


def cmd_stat(a):
    rss, cpu = tree_stat(a.pid)
    print(f"{rss} {cpu:.2f}")
    return 0


def sys_busy_seconds():
    """CPU seconds spent busy by the whole machine since boot (all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def cmd_snap(a):
    """wall-clock time, machine busy CPU seconds, then the CPU seconds of each PID's process tree"""
    vals = [sys_busy_seconds()] + [tree_stat(p)[1] for p in a.pids]
    print(f"{time.time():.3f} " + " ".join(f"{v:.2f}" for v in vals))
    return 0


def cmd_busy(a):
    """cores the whole machine kept busy over the next SECONDS"""
    t0, b0 = time.time(), sys_busy_seconds()
    time.sleep(a.seconds)
    print(f"{(sys_busy_seconds() - b0) / (time.time() - t0):.2f}")
    return 0


def cmd_descendants(a):
    for p in descendants(a.pid):
        print(p)
    return 0


def try_connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect((host, port))
        return s
    except OSError:
        s.close()
        return None


def cmd_startup(a):
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    log = open(a.log, "ab") if a.log else subprocess.DEVNULL
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{proc.pid}\n")
    connect_ms = http_ms = None
    try:
        deadline = t0 + a.timeout
        sock = None
        while time.monotonic() < deadline and proc.poll() is None:
            sock = try_connect(a.host, a.port)
            if sock:
                connect_ms = (time.monotonic() - t0) * 1000
                break
            time.sleep(0.001)
        if sock and a.http:
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if sock is None:
                        sock = try_connect(a.host, a.port)
                    if sock:
                        sock.sendall(REQ)
                        status, _, _ = read_response_sync(sock)
                        if status == 200:
                            http_ms = (time.monotonic() - t0) * 1000
                            break
                except OSError:
                    pass
                if sock:
                    sock.close()
                    sock = None
                time.sleep(0.001)
        if sock:
            sock.close()
    finally:
        stop_tree(proc.pid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    fmt = lambda v: "NA" if v is None else f"{v:.1f}"
    print(f"STARTUP connect_ms={fmt(connect_ms)} http_ms={fmt(http_ms)}")
    return 0 if connect_ms is not None else 1


def cmd_idle(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    writers = []
    counts = {"ok": 0, "failed": 0}

    async def one(sem):
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(a.host, a.port), timeout=10)
                writer.write(REQ)
                await writer.drain()
                status = await asyncio.wait_for(read_response_async(reader), timeout=10)
                if status != 200:
                    raise ConnectionError(f"status {status}")
                writers.append((reader, writer))
                counts["ok"] += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ConnectionError, ValueError):
                counts["failed"] += 1

    async def main():
        sem = asyncio.Semaphore(a.concurrency)
        await asyncio.gather(*(one(sem) for _ in range(a.n)))
        print(f"READY ok={counts['ok']} failed={counts['failed']}", flush=True)
        # hold: the connections stay open and idle until we are killed or --hold runs out
        await asyncio.sleep(a.hold)
        for _, w in writers:
            w.close()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main())
    return 0


# ---------------------------------------------------------------------------------------------
# report

TARGETS = ["direct", "nginx", "haproxy", "floor", "sourcemesh", "sourcemeshb"]
LABEL = {"direct": "direct (origin)", "nginx": "nginx 1w", "haproxy": "HAProxy 1t",
         "floor": "Netty floor 1w", "sourcemesh": "SourceMesh 1w", "sourcemeshb": "SourceMesh B 1w"}
SCEN = [("ka1", "1 keep-alive"), ("ka16", "16 keep-alive"), ("ka64", "64 keep-alive"),
        ("close16", "16 Connection: close")]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f_rps(v):
    if v is None:
        return "—"
    return f"{v / 1000:.1f}k"


def f_ms(us):
    return "—" if us is None else f"{us / 1000:.2f}"


def f_num(v, nd=1):
    return "—" if v is None else f"{v:.{nd}f}"


def ratio(x, y):
    return f"{x / y:.2f}" if x and y else "—"


def quiet_cell(xs):
    return f"{f_rps(med(xs))} ({len(xs)})" if xs else "—"


def cmd_report(a):
    rows = []
    with open(a.raw) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                rows.append(line.rstrip("\n").split("\t"))
    num = lambda s: None if s in ("", "NA") else float(s)
    out = []
    out.append(f"### SourceMesh bench — {a.stamp}\n")
    out.append(f"Machine: {a.machine}\n")
    if a.note:
        for n in a.note:
            out.append(f"{n}\n")
    out.append("")
    present = [t for t in TARGETS if any(r[2] == t for r in rows)]
    has_sm = "sourcemesh" in present
    has_b = "sourcemeshb" in present

    http = [r for r in rows if r[0] == "http"]
    if http:
        out.append("#### HTTP (wrk -t1; medians of rounds; p50/p99 in ms; server CPU = CPU time of the proxy's (for direct: the origin's) processes per request; "
                   "bg cores = CPU used by other processes on the machine during the run, highest round; "
                   f"quiet rounds = rounds with bg ≤ {a.max_bg} cores, median (count))\n")
        out.append("| connections | target | req/s | p50 ms | p99 ms | server CPU µs/req | errors | rounds | max bg cores | req/s, quiet rounds only |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        ratios = []
        b_ratios = []
        floor_ratios = []
        for key, label in SCEN:
            per = {}
            for t in TARGETS:
                rs = [r for r in http if r[1] == key and r[2] == t]
                if not rs:
                    continue
                per[t] = dict(
                    rps=med([num(r[4]) for r in rs]), p50=med([num(r[5]) for r in rs]),
                    p99=med([num(r[6]) for r in rs]),
                    err=sum(int(num(r[7]) or 0) + int(num(r[8]) or 0) for r in rs),
                    cpu=med([num(r[9]) for r in rs]), n=len(rs),
                    quiet=[num(r[4]) for r in rs if len(r) > 10 and num(r[10]) is not None
                           and num(r[10]) <= a.max_bg],
                    bg=max((num(r[10]) for r in rs if len(r) > 10 and num(r[10]) is not None),
                           default=None))
                p = per[t]
                out.append(f"| {label} | {LABEL[t]} | {f_rps(p['rps'])} | {f_ms(p['p50'])} | "
                           f"{f_ms(p['p99'])} | {f_num(p['cpu'])} | {p['err']} | {p['n']} | {f_num(p['bg'], 2)} | {quiet_cell(p['quiet'])} |")
            peers = [per[t] for t in ("nginx", "haproxy") if t in per and per[t]["rps"]]
            if peers:
                best_rps = max(p["rps"] for p in peers)
                best_p99 = min(p["p99"] for p in peers if p["p99"] is not None)
                if has_sm and "sourcemesh" in per and per["sourcemesh"]["rps"]:
                    sm = per["sourcemesh"]
                    ratios.append(f"| {label} | {sm['rps'] / best_rps:.2f} | "
                                  f"{sm['p99'] / best_p99:.2f} |")
                else:
                    ratios.append(f"| {label} | pending | pending |")
                b = per.get("sourcemeshb")
                if has_b and b and b["rps"]:
                    sm = per.get("sourcemesh")
                    ab = (f"{sm['rps'] / b['rps']:.2f} | {sm['p99'] / b['p99']:.2f}"
                          if sm and sm["rps"] and b["p99"] else "— | —")
                    b_ratios.append(f"| {label} | {b['rps'] / best_rps:.2f} | {b['p99'] / best_p99:.2f} | {ab} |")
                fl, sm = per.get("floor"), per.get("sourcemesh") or {}
                if fl and fl["rps"]:
                    floor_ratios.append(
                        f"| {label} | {ratio(fl['rps'], best_rps)} | {ratio(fl['p99'], best_p99)} | "
                        f"{ratio(sm.get('rps'), fl['rps'])} | {ratio(sm.get('p99'), fl['p99'])} | "
                        f"{ratio(sm.get('cpu'), fl['cpu'])} |")
        out.append("")
        out.append("Ratio SourceMesh / best peer (req/s: higher is better; p99: lower is better):\n")
        out.append("| connections | req/s ratio | p99 ratio |")
        out.append("|---|---|---|")
        out.extend(ratios)
        out.append("")
        if b_ratios:
            out.append("SourceMesh B / best peer, and SourceMesh / SourceMesh B (same run):\n")
            out.append("| connections | B req/s ratio | B p99 ratio | SourceMesh / B req/s | SourceMesh / B p99 |")
            out.append("|---|---|---|---|---|")
            out.extend(b_ratios)
            out.append("")
        if floor_ratios:
            out.append("The floor (a plain Netty 4.2 HTTP/1.1 proxy, sourcemesh-bench-floor, with the proxy's JVM flags): "
                       "floor / best peer, and SourceMesh / floor (same run):\n")
            out.append("| connections | floor req/s ratio | floor p99 ratio | SourceMesh / floor req/s | "
                       "SourceMesh / floor p99 | SourceMesh / floor CPU per request |")
            out.append("|---|---|---|---|---|---|")
            out.extend(floor_ratios)
            out.append("")

    tcp = [r for r in rows if r[0] == "tcp"]
    if tcp:
        out.append("#### Bulk TCP (iperf3, 1 stream; median GB/s received)\n")
        out.append("| target | GB/s | vs direct | rounds |")
        out.append("|---|---|---|---|")
        direct = med([num(r[4]) for r in tcp if r[2] == "direct"])
        best_peer = None
        vals = {}
        for t in TARGETS:
            rs = [r for r in tcp if r[2] == t]
            if not rs:
                continue
            v = med([num(r[4]) for r in rs])
            vals[t] = v
            rel = f"{v / direct:.2f}" if (v and direct and t != "direct") else "—"
            out.append(f"| {LABEL[t].replace(' (origin)', ' (iperf3 server)')} | {f_num(v, 2)} | {rel} | {len(rs)} |")
        peers = [vals[t] for t in ("nginx", "haproxy") if vals.get(t)]
        if peers:
            best_peer = max(peers)
            sm = vals.get("sourcemesh")
            out.append("")
            out.append(f"Ratio SourceMesh / best peer: "
                       f"{f'{sm / best_peer:.2f}' if sm else 'pending'}\n")
            b = vals.get("sourcemeshb")
            if b:
                out.append(f"Ratio SourceMesh B / best peer: {b / best_peer:.2f}; "
                           f"SourceMesh / SourceMesh B: {f'{sm / b:.2f}' if sm else '—'}\n")
        out.append("")

    mem = [r for r in rows if r[0] == "mem"]
    if mem:
        n = int(mem[0][3])
        out.append(f"#### Memory holding {n:,} idle keep-alive connections (RSS summed over the proxy's processes)\n")
        out.append("| target | idle RSS MB (1 s after the first request) | idle RSS MB (7 s after) | RSS with conns MB |"
                   " KB / connection (from the 1 s figure) | connections held |")
        out.append("|---|---|---|---|---|---|")
        for t in TARGETS:
            rs = [r for r in mem if r[2] == t]
            if not rs:
                continue
            r = rs[-1]
            base, loaded, ok = num(r[4]), num(r[5]), int(num(r[6]) or 0)
            per = (loaded - base) / ok if (base is not None and loaded is not None and ok) else None
            settled = num(r[8]) if len(r) > 8 else None
            out.append(f"| {LABEL[t]} | {f_num(base / 1024 if base else None)} | "
                       f"{f_num(settled / 1024 if settled else None)} | "
                       f"{f_num(loaded / 1024 if loaded else None)} | {f_num(per, 2)} | {ok:,} of {n:,} |")
        out.append("")

    st = [r for r in rows if r[0] == "startup"]
    if st:
        out.append("#### Start-up (process start → first accepted connect / first 200 through it; median ms)\n")
        out.append("| target | connect ms | first 200 ms | rounds |")
        out.append("|---|---|---|---|")
        for t in TARGETS:
            rs = [r for r in st if r[2] == t]
            if not rs:
                continue
            c = med([num(r[4]) for r in rs])
            h = med([num(r[5]) for r in rs])
            out.append(f"| {LABEL[t]} | {f_num(c)} | {f_num(h)} | {len(rs)} |")
        out.append("")

    text = "\n".join(out).rstrip() + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check"); c.add_argument("host"); c.add_argument("port", type=int)
    c.set_defaults(fn=cmd_check)
    c = sub.add_parser("stat"); c.add_argument("pid", type=int); c.set_defaults(fn=cmd_stat)
    c = sub.add_parser("snap"); c.add_argument("pids", type=int, nargs="*")
    c.set_defaults(fn=cmd_snap)
    c = sub.add_parser("busy"); c.add_argument("seconds", type=float, nargs="?", default=1.0)
    c.set_defaults(fn=cmd_busy)
    c = sub.add_parser("descendants"); c.add_argument("pid", type=int)
    c.set_defaults(fn=cmd_descendants)
    c = sub.add_parser("startup")
    c.add_argument("--host", required=True); c.add_argument("--port", type=int, required=True)
    c.add_argument("--http", action="store_true"); c.add_argument("--pidfile")
    c.add_argument("--log"); c.add_argument("--timeout", type=float, default=60.0)
    c.add_argument("cmd", nargs=argparse.REMAINDER); c.set_defaults(fn=cmd_startup)
    c = sub.add_parser("idle")
    c.add_argument("--host", required=True); c.add_argument("--port", type=int, required=True)
    c.add_argument("-n", type=int, required=True)
    c.add_argument("--concurrency", type=int, default=200)
    c.add_argument("--hold", type=float, default=300.0); c.set_defaults(fn=cmd_idle)
    c = sub.add_parser("report")
    c.add_argument("--raw", required=True); c.add_argument("--machine", required=True)
    c.add_argument("--out", required=True); c.add_argument("--stamp", default="")
    c.add_argument("--note", action="append"); c.add_argument("--max-bg", type=float, default=0.3)
    c.set_defaults(fn=cmd_report)
    a = p.parse_args()
    sys.exit(a.fn(a))


if __name__ == "__main__":
    main()
