// Constant-rate HTTP/1.1 load generator for mesh.sh: rate.py's schedule and output, without the
// Python event loop's lateness (rate.py sends a request ~0.6 ms after it is due at the median, which
// is most of what a mesh adds; this sends it within the kernel's timer latency).
//
//   rate HOST PORT --rate R --conns C --duration S [--warmup S] [--path /] [--dump FILE]
//
// Request i is due at t0 + i/R on keep-alive connection i mod C. A request whose connection is still
// busy is sent as soon as the earlier response is in, and its latency is still counted from when it was
// due (corrected for coordinated omission, as wrk2's); "svc_" counts from the actual send and "late_"
// is how long after it was due each request went out (the generator's own lateness). One thread, one
// epoll set, timeouts in nanoseconds (epoll_pwait2, timer slack 1 ns); responses need Content-Length.
// Prints one JSON line; requests due during --warmup are sent but not counted. Exit 1 on any error.
// --dump writes "due sent done" per counted request, CLOCK_MONOTONIC ns (the JVM's -Xlog timenanos clock).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    long long due;   // when its next request is due
    long long sent;  // when the request in flight went out; 0 when none is
    long long sched; // when the request in flight was due
    int got;         // bytes of the response read so far
    long need;       // the response's whole length once its head is in, else -1
    char buf[65536];
} Conn;

typedef struct { long long *v; size_t n, cap; } Series;

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void add(Series *s, long long x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) { perror("realloc"); exit(2); }
    }
    s->v[s->n++] = x;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *) a, y = *(const long long *) b;
    return x < y ? -1 : x > y;
}

// Nearest rank, as rate.py's percentile().
static long long pct(Series *s, double p) {
    if (!s->n) return 0;
    size_t k = (size_t) (p / 100.0 * s->n + 0.999999999);
    return s->v[k ? k - 1 : 0];
}

static struct sockaddr_in addr;
static int ep;

static int open_conn(Conn *c) {
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &addr, sizeof addr)) {
        perror("rate: connect");
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e)) { perror("rate: epoll_ctl"); return -1; }
    c->sent = 0;
    c->got = 0;
    c->need = -1;
    return 0;
}

// 1 once the head is in (c->need set to the whole response's length); 0 while it is not; -1 if it cannot be framed.
static int frame(Conn *c) {
    char *h = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (!h) return c->got == (int) sizeof c->buf ? -1 : 0;
    *h = 0;
    if (strncmp(c->buf, "HTTP/1.", 7) || strlen(c->buf) < 12) return -1;
    char *cl = strcasestr(c->buf, "\r\ncontent-length:");
    *h = '\r';
    if (!cl) return -1;
    c->need = (h + 4 - c->buf) + atol(cl + 17);
    return c->need <= (long) sizeof c->buf ? 1 : -1;
}

int main(int argc, char **argv) {
    double rate = 0, duration = 10, warmup = 1;
    int conns = 16;
    const char *path = "/", *dump = NULL;
    if (argc < 3) goto usage;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc) goto usage;
        if (!strcmp(argv[i], "--rate")) rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--conns")) conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[++i]);
        else if (!strcmp(argv[i], "--path")) path = argv[++i];
        else if (!strcmp(argv[i], "--dump")) dump = argv[++i];
        else goto usage;
    }
    if (rate <= 0 || conns <= 0 || duration <= 0 || warmup < 0) goto usage;
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "rate: not an IPv4 address: %s\n", argv[1]);
        return 2;
    }
    prctl(PR_SET_TIMERSLACK, 1UL);
    char req[1024];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: sourcemesh-bench-rate\r\n\r\n",
                      path, argv[1], argv[2]);
    ep = epoll_create1(EPOLL_CLOEXEC);
    Conn *cs = calloc(conns, sizeof *cs);
    long long period = (long long) (conns * 1e9 / rate);
    long long t0 = now() + 200000000LL; // every connection open before the first request is due
    long long warm_end = t0 + (long long) (warmup * 1e9), end = warm_end + (long long) (duration * 1e9);
    for (int k = 0; k < conns; k++) {
        if (open_conn(&cs[k])) return 1;
        cs[k].due = t0 + (long long) (k * 1e9 / rate);
    }
    Series done = {0}, late = {0}; // done: due, sent, answered per counted request
    long sent = 0, errors = 0;
    struct epoll_event evs[64];
    for (;;) {
        long long t = now(), next = -1;
        int busy = 0;
        for (int k = 0; k < conns; k++) { // every idle connection whose request is due sends it
            Conn *c = &cs[k];
            if (c->sent) { busy++; continue; }
            if (c->due >= end) continue;
            if (c->due <= t) {
                if (write(c->fd, req, rl) != rl) { perror("rate: write"); return 1; }
                c->sched = c->due;
                c->sent = now();
                if (c->sched >= warm_end) add(&late, c->sent - c->sched);
                c->due += period;
                sent++;
                busy++;
            } else if (next < 0 || c->due < next) {
                next = c->due;
            }
        }
        if (!busy && next < 0) break;
        if (next < 0 && now() > end + 10000000000LL) { // the last responses are 10 s overdue: give up on them
            fprintf(stderr, "rate: %d responses not in 10 s after the end\n", busy);
            errors += busy;
            break;
        }
        long long d = (next >= 0 ? next : end + 10000000001LL) - now();
        if (d < 0) d = 0;
        struct timespec to = {.tv_sec = d / 1000000000LL, .tv_nsec = d % 1000000000LL};
        int n = epoll_pwait2(ep, evs, 64, &to, NULL);
        if (n < 0 && errno != EINTR) { perror("rate: epoll_pwait2"); return 1; }
        for (int i = 0; i < n; i++) {
            Conn *c = evs[i].data.ptr;
            int r = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
            int framed = 0;
            if (r > 0) {
                c->got += r;
                framed = c->need >= 0 ? 1 : frame(c);
            }
            if (r <= 0 || framed < 0 || !c->sent) { // closed, reset, unframeable or unasked: count it, reconnect
                fprintf(stderr, "rate: %s\n", r < 0 ? strerror(errno) : r == 0 ? "connection closed" : "response not framed");
                errors++;
                close(c->fd);
                if (open_conn(c)) return 1;
                continue;
            }
            if (framed == 0 || c->got < c->need) continue;
            long long answered = now();
            if (c->got > c->need) { fprintf(stderr, "rate: bytes after the response\n"); errors++; }
            if (c->sched >= warm_end) {
                if (atoi(c->buf + 9) != 200) errors++;
                else { add(&done, c->sched); add(&done, c->sent); add(&done, answered); }
            }
            c->sent = 0;
            c->got = 0;
            c->need = -1;
        }
    }
    FILE *f = dump ? fopen(dump, "w") : NULL;
    if (dump && !f) { perror(dump); return 1; }
    Series lat = {0}, svc = {0};
    for (size_t i = 0; i + 2 < done.n; i += 3) {
        add(&lat, done.v[i + 2] - done.v[i]);
        add(&svc, done.v[i + 2] - done.v[i + 1]);
        if (f) fprintf(f, "%lld %lld %lld\n", done.v[i], done.v[i + 1], done.v[i + 2]);
    }
    if (f) fclose(f);
    qsort(lat.v, lat.n, sizeof *lat.v, cmp);
    qsort(svc.v, svc.n, sizeof *svc.v, cmp);
    qsort(late.v, late.n, sizeof *late.v, cmp);
    printf("{\"requests\": %zu, \"sent\": %ld, \"errors\": %ld, \"rate\": %.1f", lat.n, sent, errors, lat.n / duration);
    Series *ss[] = {&lat, &svc, &late};
    const char *names[] = {"lat", "svc", "late"};
    for (int s = 0; s < 3; s++) {
        printf(", \"%s_p50_us\": %lld, \"%s_p90_us\": %lld, \"%s_p99_us\": %lld, \"%s_p999_us\": %lld, \"%s_max_us\": %lld",
               names[s], pct(ss[s], 50) / 1000, names[s], pct(ss[s], 90) / 1000, names[s], pct(ss[s], 99) / 1000,
               names[s], pct(ss[s], 99.9) / 1000, names[s], ss[s]->n ? ss[s]->v[ss[s]->n - 1] / 1000 : 0);
    }
    printf("}\n");
    return lat.n && !errors ? 0 : 1;
usage:
    fprintf(stderr, "usage: rate HOST PORT --rate R --conns C --duration S [--warmup S] [--path /] [--dump FILE]\n");
    return 2;
}
