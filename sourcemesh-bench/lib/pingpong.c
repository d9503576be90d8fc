// One keep-alive HTTP/1.1 connection, one request at a time (wrk -c1's ping-pong), recording each
// request's start and latency on CLOCK_MONOTONIC: the JVM's -Xlog timenanos clock, so a slow request
// can be set beside what the proxy's JVM did at that moment. Used by tail.sh.
//   pingpong HOST PORT SECONDS OUT   ->  OUT: "start_ns latency_ns" per request; a summary on stdout
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *) a, y = *(const long long *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: pingpong HOST PORT SECONDS OUT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || connect(fd, (struct sockaddr *) &a, sizeof a)) {
        perror("connect");
        return 1;
    }
    const char *req = "GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: pingpong\r\nAccept: */*\r\n\r\n";
    int rl = strlen(req);
    size_t cap = 8000000, n = 0;
    long long *st = malloc(cap * sizeof *st), *lat = malloc(cap * sizeof *lat);
    char buf[8192];
    long long end = now() + (long long) (atof(argv[3]) * 1e9);
    for (;;) {
        long long s = now();
        if (s > end || n >= cap) break;
        if (write(fd, req, rl) != rl) { perror("write"); return 1; }
        int got = 0;
        long need = -1;
        for (;;) { // the response's head, then its Content-Length body
            int r = read(fd, buf + got, sizeof buf - got);
            if (r <= 0) { perror("read"); return 1; }
            got += r;
            if (need < 0) {
                char *h = memmem(buf, got, "\r\n\r\n", 4);
                if (h) {
                    char *cl = strcasestr(buf, "content-length:");
                    need = (h + 4 - buf) + (cl && cl < h ? atol(cl + 15) : 0);
                }
            }
            if (need >= 0 && got >= need) break;
        }
        st[n] = s;
        lat[n] = now() - s;
        n++;
    }
    FILE *f = fopen(argv[4], "w");
    if (!f) { perror(argv[4]); return 1; }
    for (size_t i = 0; i < n; i++) fprintf(f, "%lld %lld\n", st[i], lat[i]);
    fclose(f);
    if (n == 0) return 1;
    qsort(lat, n, sizeof *lat, cmp);
    printf("%zu requests, %.0f req/s, p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n", n, n / atof(argv[3]),
           lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, lat[n * 999 / 1000] / 1e3, lat[n - 1] / 1e3);
    return 0;
}
