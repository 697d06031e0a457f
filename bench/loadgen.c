/*
 * loadgen: the closed-loop load of the issue-14 benches (bench/handoff-bench.sh,
 * bench/footprint-bench.sh). Built by the scripts themselves (bench/lib.sh build_loadgen):
 *   gcc -O2 -Wall -o loadgen bench/loadgen.c -lnghttp2
 *
 * Why C, one thread, epoll: the client shares the two cores with the system under test (nginx and
 * one or two Baton JVMs). A JVM client would compete with the JVMs being measured for the cores at
 * exactly the moments that matter (a new generation's JIT start-up), and its own GC pauses and JIT
 * would show up as stalls of the server. wrk has no `Connection: close`-aware keep-alive reconnect
 * accounting, no stall/timeline and no HTTP/2; h2load does not honour GOAWAY (design.md). This client
 * costs a few microseconds of CPU per request, never pauses, and measures all three load shapes with
 * the same clock, latency histogram, stall and timeline code. HTTP/2 is libnghttp2 (Debian
 * libnghttp2-dev, the library h2load and curl use): framing, HPACK, flow control and the GOAWAY
 * bookkeeping come from the reference implementation, not from this file.
 *
 * Modes (-m):
 *   ka     HTTP/1.1 keep-alive: each of -c connections sends a request, reads the response, sends the
 *          next. A response with `Connection: close` (what a draining Baton sends) makes it reconnect:
 *          counted as server_closes, not a failure.
 *   close  HTTP/1.1 with `Connection: close`: a new connection per request.
 *   h2c    HTTP/2 with prior knowledge: -c connections with -s streams each kept in flight. GOAWAY is
 *          honoured: no new stream on that connection, a new connection takes its place, the old one
 *          closes when its streams have ended. A stream the server provably never processed (above a
 *          GOAWAY's last-stream-id, RST_STREAM REFUSED_STREAM, or never sent) is sent again on
 *          another connection and counted apart (refused_*), never as a failure; a stream that fails
 *          after the server may have accepted it is a failure.
 *   idle   opens -c keep-alive connections (at most 256 connecting at a time), prints "open N", sends
 *          one request on each, prints "held N", then holds them idle until -d ends or SIGTERM.
 *
 * Counted: served (2xx, complete), failed by cause (connect, reset, eof = closed before the full
 * response, bad = unparsable, status = non-2xx, timeout, lost = h2 stream lost with its connection,
 * rst = h2 stream reset other than REFUSED_STREAM, unfinished = still in flight at the end of the
 * grace time). Latency of every served request, from the start of its attempt (the connect, when it
 * needs a new connection, so an accept stall shows) to the last byte of its response; exact
 * percentiles (every latency is kept and sorted at the end). The longest stall: the longest interval
 * of the run [t0, t0 + d] in which no request completed successfully on any connection (the start
 * and the end of the run bound the first and last intervals). Served and failed per 100 ms (-T FILE)
 * and every stall >= -g ms (-G FILE), for the dip around each handoff.
 *
 * The run: requests start during -d seconds; then no new request starts, those in flight get -w ms
 * (grace) to finish, and what is left counts as unfinished. SIGTERM or SIGINT ends the run early the
 * same way. Only 127.0.0.1 (or the -h address) and the -p port are ever connected to.
 *
 * Output: one line on stdout, `loadgen key=value ...` (parsed by the scripts), and a readable summary
 * on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#define BUCKET_NS 100000000LL /* timeline resolution: 100 ms */
#define RBUF 16384
#define MAX_RESPONSE 65536
#define MAX_STREAMS 256
#define CONNECT_PACE 256        /* idle mode: connections connecting at once */
#define RETRY_PAUSE_NS 10000000 /* after a connect error: 10 ms before the next attempt */

enum mode { M_KA, M_CLOSE, M_H2C, M_IDLE };

/* ---- options ------------------------------------------------------------------------------ */
static const char *o_host = "127.0.0.1";
static int o_port = 0;
static int o_conns = 64;
static int o_streams = 4;
static double o_duration_s = 20;
static enum mode o_mode = M_KA;
static const char *o_path = "/";
static long o_timeout_ms = 10000;
static long o_grace_ms = 5000;
static const char *o_timeline = NULL;
static const char *o_gaps = NULL;
static double o_gap_min_ms = 20;
static long o_pause_ms = 0; /* idle mode: hold the unused connections this long before the requests */

/* ---- clock, stats ------------------------------------------------------------------------- */
static int64_t t0, t_end, t_hard_end;
static struct timespec t0_real;
static volatile sig_atomic_t stop_requested = 0;
static bool stopping = false; /* no new request starts */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t served, started;
static uint64_t f_connect, f_reset, f_eof, f_eof_idle, f_bad, f_status, f_timeout, f_lost, f_rst, f_unfinished;
static uint64_t server_closes, connects, refused_goaway, refused_stream, not_sent, goaways;
static uint32_t *lat_us;
static size_t lat_n, lat_cap;
static uint32_t *tl_ok, *tl_fail;
static size_t tl_n;
static int64_t last_ok_ns, stall_ns, stall_at_ns;
static FILE *gaps_f;
static int64_t first_ok_ns = -1;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "loadgen: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void bucket(uint32_t *tl, int64_t t) {
  int64_t i = (t - t0) / BUCKET_NS;
  if (i >= 0 && (size_t)i < tl_n) tl[i]++;
}

/* A gap between successful completions, counted only inside the run window [t0, t_end]. */
static void note_gap(int64_t from, int64_t to) {
  if (to > t_end) to = t_end;
  if (to <= from) return;
  int64_t g = to - from;
  if (g > stall_ns) {
    stall_ns = g;
    stall_at_ns = from - t0;
  }
  if (gaps_f && g >= (int64_t)(o_gap_min_ms * 1e6))
    fprintf(gaps_f, "%.1f %.1f\n", (from - t0) / 1e6, g / 1e6);
}

static void record_ok(int64_t start, int64_t t) {
  served++;
  if (lat_n == lat_cap) {
    lat_cap = lat_cap ? lat_cap * 2 : 1 << 20;
    lat_us = realloc(lat_us, lat_cap * sizeof *lat_us);
    if (!lat_us) die("out of memory for latencies");
  }
  int64_t us = (t - start) / 1000;
  lat_us[lat_n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  bucket(tl_ok, t);
  if (first_ok_ns < 0) first_ok_ns = t - t0;
  if (t > last_ok_ns) {
    if (last_ok_ns < t_end) note_gap(last_ok_ns, t);
    last_ok_ns = t;
  }
}

/* The first few failures are described on stderr, with when they happened: a count alone does not
 * say whether it was the server, the client or the machine. */
static int errors_told;
static void tell(int64_t t, const char *fmt, ...) {
  if (errors_told++ >= 10) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "loadgen: at %.1f ms: ", (t - t0) / 1e6);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

static const char *cause_name(const uint64_t *cause);

static void record_fail(uint64_t *cause, int64_t t) {
  (*cause)++;
  bucket(tl_fail, t);
  bool sys = cause == &f_connect || cause == &f_reset || cause == &f_eof_idle;
  tell(t, "failed: %s%s%s", cause_name(cause), sys && errno ? ": " : "", sys && errno ? strerror(errno) : "");
}

static const char *cause_name(const uint64_t *c) {
  return c == &f_connect ? "connect" : c == &f_reset ? "reset" : c == &f_eof ? "closed before the full response"
       : c == &f_eof_idle ? "reused connection closed before any response byte" : c == &f_bad ? "bad response"
       : c == &f_status ? "non-2xx status" : c == &f_timeout ? "timeout" : c == &f_lost ? "h2 stream lost with its connection"
       : c == &f_rst ? "h2 stream reset" : "?";
}

/* ---- epoll -------------------------------------------------------------------------------- */
static int ep;

static void ep_set(int fd, uint32_t events, void *ptr, bool add) {
  struct epoll_event ev = {.events = events, .data.ptr = ptr};
  if (epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

static struct sockaddr_in target;

/* A non-blocking connect; -1 only when the client itself is out of resources (fatal). */
static int open_socket(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s (raise ulimit -n?)", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  connects++;
  if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* ================================ HTTP/1.1 ================================================== */
enum h1state { H1_IDLE, H1_SLEEP, H1_CONNECTING, H1_WRITING, H1_READING, H1_HELD, H1_DONE };

struct h1conn {
  int kind; /* 1 */
  int fd;
  enum h1state st;
  int64_t req_start;  /* start of the current request's attempt */
  int64_t wake;       /* H1_SLEEP: when to try again */
  bool reused;        /* a response was already read on this connection */
  bool in_flight;     /* the current request's bytes were (partly) written */
  uint32_t events;    /* the epoll interest registered for fd */
  size_t woff;
  size_t rlen;
  char *rbuf;
};

static char h1_req[512], h1_req_close[512];
static size_t h1_req_len, h1_req_close_len;
static struct h1conn *h1;
static int idle_open, idle_used, idle_connecting, idle_next, req_next;

static void h1_connect(struct h1conn *c, bool new_request);

static void h1_want(struct h1conn *c, uint32_t events) {
  if (c->events != events) {
    ep_set(c->fd, events, c, false);
    c->events = events;
  }
}

static void h1_write(struct h1conn *c);

static void h1_close_fd(struct h1conn *c) {
  if (c->fd >= 0) {
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
  }
  c->rlen = 0;
  c->reused = false;
  c->in_flight = false;
}

/* After a request ended (served or failed): the next one, or nothing once the run stops. */
static void h1_next(struct h1conn *c, bool keep) {
  int64_t t = now_ns();
  if (o_mode == M_IDLE) {
    if (keep) {
      c->st = H1_HELD;
      idle_used++;
    } else {
      h1_close_fd(c);
      c->st = H1_DONE;
    }
    return;
  }
  if (stopping) {
    h1_close_fd(c);
    c->st = H1_DONE;
    return;
  }
  if (keep && o_mode == M_KA) { /* the next request at once, on the same connection */
    c->req_start = t;
    c->woff = 0;
    c->rlen = 0;
    c->st = H1_WRITING;
    c->in_flight = true;
    started++;
    h1_write(c);
    return;
  }
  h1_close_fd(c);
  h1_connect(c, true);
}

static void h1_fail(struct h1conn *c, uint64_t *cause) {
  record_fail(cause, now_ns());
  h1_close_fd(c);
  if (o_mode == M_IDLE) {
    c->st = H1_DONE;
    return;
  }
  if (stopping) {
    c->st = H1_DONE;
    return;
  }
  h1_connect(c, true);
}

static void h1_connect(struct h1conn *c, bool new_request) {
  int64_t t = now_ns();
  if (new_request) c->req_start = t;
  c->fd = open_socket();
  if (c->fd < 0) {
    record_fail(&f_connect, t);
    c->st = o_mode == M_IDLE ? H1_DONE : H1_SLEEP;
    c->wake = t + RETRY_PAUSE_NS;
    return;
  }
  c->st = H1_CONNECTING;
  c->rlen = 0;
  c->reused = false;
  c->events = EPOLLOUT;
  ep_set(c->fd, EPOLLOUT, c, true);
}

/* Sends (the rest of) the request; then waits for the response. */
static void h1_write(struct h1conn *c) {
  const char *req = o_mode == M_CLOSE ? h1_req_close : h1_req;
  size_t len = o_mode == M_CLOSE ? h1_req_close_len : h1_req_len;
  ssize_t w = send(c->fd, req + c->woff, len - c->woff, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno == EAGAIN) {
      h1_want(c, EPOLLOUT);
      return;
    }
    /* the server closed a reused connection before it could see the request */
    h1_fail(c, (errno == EPIPE || errno == ECONNRESET) && c->reused ? &f_eof_idle : &f_reset);
    return;
  }
  c->woff += (size_t)w;
  if (c->woff < len) {
    h1_want(c, EPOLLOUT);
    return;
  }
  c->st = H1_READING;
  c->rlen = 0;
  h1_want(c, EPOLLIN);
}

/* Parses the response in c->rbuf. Returns 1 complete (status, closes set), 0 need more, -1 bad.
 * eof: the peer closed; a body without length then ends here. */
static int h1_parse(struct h1conn *c, bool eof, int *status, bool *closes) {
  char *b = c->rbuf;
  size_t n = c->rlen;
  char *end = memmem(b, n, "\r\n\r\n", 4);
  if (!end) return n >= MAX_RESPONSE ? -1 : 0;
  size_t hlen = (size_t)(end - b) + 4;
  if (n < 12 || memcmp(b, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(b + 9);
  if (*status < 100 || *status > 599) return -1;
  long clen = -1;
  bool chunked = false;
  *closes = false;
  for (char *line = memchr(b, '\n', hlen); line && line + 1 < b + hlen; line = memchr(line + 1, '\n', b + hlen - line - 1)) {
    char *h = line + 1;
    if (!strncasecmp(h, "content-length:", 15)) clen = strtol(h + 15, NULL, 10);
    else if (!strncasecmp(h, "transfer-encoding:", 18)) chunked = memmem(h, (size_t)(b + hlen - h), "chunked", 7) != NULL;
    else if (!strncasecmp(h, "connection:", 11)) {
      char *eol = memchr(h, '\r', (size_t)(b + hlen - h));
      size_t l = eol ? (size_t)(eol - h) : 0;
      for (size_t i = 11; i + 5 <= l; i++)
        if (!strncasecmp(h + i, "close", 5)) *closes = true;
    }
  }
  if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200)) clen = 0;
  if (chunked) {
    size_t p = hlen;
    for (;;) {
      char *crlf = memmem(b + p, n - p, "\r\n", 2);
      if (!crlf) return n >= MAX_RESPONSE ? -1 : 0;
      long sz = strtol(b + p, NULL, 16);
      if (sz < 0) return -1;
      p = (size_t)(crlf - b) + 2;
      if (sz == 0) {
        /* trailers, then an empty line */
        for (;;) {
          char *e = memmem(b + p, n - p, "\r\n", 2);
          if (!e) return n >= MAX_RESPONSE ? -1 : 0;
          if (e == b + p) return p + 2 == n ? 1 : -1;
          p = (size_t)(e - b) + 2;
        }
      }
      if (n < p + (size_t)sz + 2) return n >= MAX_RESPONSE ? -1 : 0;
      p += (size_t)sz + 2;
    }
  }
  if (clen >= 0) {
    if (n < hlen + (size_t)clen) return hlen + (size_t)clen > MAX_RESPONSE ? -1 : 0;
    return n == hlen + (size_t)clen ? 1 : -1; /* bytes beyond the response: nothing was pipelined */
  }
  /* no length: the body ends with the connection */
  *closes = true;
  return eof ? 1 : (n >= MAX_RESPONSE ? -1 : 0);
}

static void h1_event(struct h1conn *c) {
  if (c->st == H1_CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      if (o_mode == M_IDLE) idle_connecting--;
      errno = err;
      record_fail(&f_connect, now_ns());
      h1_close_fd(c);
      c->st = (o_mode == M_IDLE || stopping) ? H1_DONE : H1_SLEEP;
      c->wake = now_ns() + RETRY_PAUSE_NS;
      return;
    }
    if (o_mode == M_IDLE) {
      idle_connecting--;
      idle_open++;
      c->st = H1_HELD;
      h1_want(c, EPOLLIN); /* a close by the server while held is seen */
      return;
    }
    if (stopping) { /* nothing was sent yet: not a request */
      h1_close_fd(c);
      c->st = H1_DONE;
      return;
    }
    c->st = H1_WRITING;
    c->woff = 0;
    c->in_flight = true;
    started++;
  }
  if (c->st == H1_WRITING) {
    h1_write(c);
    return;
  }
  if (c->st == H1_HELD) { /* idle mode: the server closed (or sent something on) a held connection */
    char tmp[256];
    ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
      if (r == 0) errno = 0;
      record_fail(&f_eof_idle, now_ns());
      h1_close_fd(c);
      c->st = H1_DONE;
    }
    return;
  }
  if (c->st != H1_READING) return;
  for (;;) {
    if (c->rlen == MAX_RESPONSE) {
      h1_fail(c, &f_bad);
      return;
    }
    ssize_t r = recv(c->fd, c->rbuf + c->rlen, MAX_RESPONSE - c->rlen, 0);
    bool eof = r == 0;
    if (r < 0) {
      if (errno == EAGAIN) return;
      /* reset before any byte of the response on a reused connection: the server dropped it */
      h1_fail(c, c->rlen == 0 && c->reused ? &f_eof_idle : &f_reset);
      return;
    }
    c->rlen += (size_t)r;
    int status = 0;
    bool closes = false;
    int p = h1_parse(c, eof, &status, &closes);
    if (p < 0) {
      h1_fail(c, &f_bad);
      return;
    }
    if (p == 0) {
      if (eof) {
        errno = 0; /* an orderly close: no error to tell */
        h1_fail(c, c->rlen == 0 && c->reused ? &f_eof_idle : &f_eof);
      }
      if (eof) return;
      continue;
    }
    int64_t t = now_ns();
    c->in_flight = false;
    if (status >= 200 && status < 300) record_ok(c->req_start, t);
    else {
      record_fail(&f_status, t);
      tell(t, "status %d", status);
    }
    c->reused = true;
    if (closes && o_mode != M_CLOSE) server_closes++;
    h1_next(c, !closes && !eof && o_mode != M_CLOSE);
    return;
  }
}

/* ================================ HTTP/2 (h2c) ============================================== */
struct h2req {
  int64_t start;      /* first attempt: a request sent again keeps its start */
  int32_t stream_id;  /* on its current connection */
  int status;
  bool end_stream;
  bool sent;          /* its HEADERS went out on the current connection */
  struct h2req *next; /* in a slot's queue */
};

struct h2slot;

struct h2conn {
  int kind; /* 2 */
  int fd;
  nghttp2_session *s;
  struct h2slot *slot;
  bool connecting, active, goaway;
  int64_t open_at;
  int32_t last_sid;
  struct h2req *reqs[MAX_STREAMS];
  int nreq;
  uint8_t *out;
  size_t out_len, out_off;
  bool want_out;
  struct h2conn *next_old; /* connections that got GOAWAY and still finish streams */
};

struct h2slot {
  struct h2conn *cur;
  struct h2req *queue, *queue_tail; /* to send: refused ones first, then new */
  int outstanding;                  /* requests of this slot not yet ended */
  int64_t wake;
};

static struct h2slot *slots;
static struct h2conn *old_conns;
static char authority[64];

static void h2_fill(struct h2slot *sl);
static void h2_flush(struct h2conn *c);

static void h2_enqueue_front(struct h2slot *sl, struct h2req *r) {
  r->next = sl->queue;
  sl->queue = r;
  if (!sl->queue_tail) sl->queue_tail = r;
}

static struct h2req *h2_take(struct h2conn *c, int32_t sid) {
  for (int i = 0; i < c->nreq; i++) {
    if (c->reqs[i]->stream_id == sid) {
      struct h2req *r = c->reqs[i];
      c->reqs[i] = c->reqs[--c->nreq];
      return r;
    }
  }
  return NULL;
}

static struct h2req *h2_find(struct h2conn *c, int32_t sid) {
  for (int i = 0; i < c->nreq; i++)
    if (c->reqs[i]->stream_id == sid) return c->reqs[i];
  return NULL;
}

/* A request the server never processed: sent again, on the slot's current or next connection. */
static void h2_retry(struct h2conn *c, struct h2req *r, uint64_t *why) {
  (*why)++;
  r->stream_id = 0;
  r->sent = false;
  r->status = 0;
  r->end_stream = false;
  h2_enqueue_front(c->slot, r);
}

static void h2_end(struct h2conn *c, struct h2req *r, uint64_t *failure) {
  int64_t t = now_ns();
  if (failure) record_fail(failure, t);
  else record_ok(r->start, t);
  c->slot->outstanding--;
  free(r);
}

static ssize_t cb_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud) {
  (void)s; (void)data; (void)len; (void)flags; (void)ud;
  return NGHTTP2_ERR_WOULDBLOCK; /* unused: nghttp2_session_mem_send is used */
}

static int cb_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl, const uint8_t *value,
                     size_t vl, uint8_t flags, void *ud) {
  (void)s; (void)flags; (void)vl;
  struct h2conn *c = ud;
  if (f->hd.type == NGHTTP2_HEADERS && nl == 7 && !memcmp(name, ":status", 7)) {
    struct h2req *r = h2_find(c, f->hd.stream_id);
    if (r && !r->status) r->status = atoi((const char *)value);
  }
  return 0;
}

static int cb_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  (void)s;
  struct h2conn *c = ud;
  if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    struct h2req *r = h2_find(c, f->hd.stream_id);
    if (r) r->end_stream = true;
  } else if (f->hd.type == NGHTTP2_GOAWAY) {
    goaways++;
    /* Honour it: no new stream here. A fresh connection takes this one's place in its slot. */
    c->goaway = true;
    c->last_sid = f->goaway.last_stream_id;
    if (c->active) {
      c->active = false;
      if (c->slot->cur == c) c->slot->cur = NULL;
      c->next_old = old_conns;
      old_conns = c;
    }
  }
  return 0;
}

static int cb_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  (void)s;
  struct h2conn *c = ud;
  if (f->hd.type == NGHTTP2_HEADERS) {
    struct h2req *r = h2_find(c, f->hd.stream_id);
    if (r) r->sent = true;
  }
  return 0;
}

static int cb_not_send(nghttp2_session *s, const nghttp2_frame *f, int err, void *ud) {
  (void)s; (void)err;
  struct h2conn *c = ud;
  if (f->hd.type == NGHTTP2_HEADERS) {
    /* Never sent (the connection got GOAWAY first): the server never saw it. */
    struct h2req *r = h2_take(c, f->hd.stream_id);
    if (r) h2_retry(c, r, &not_sent);
  }
  return 0;
}

static int cb_stream_close(nghttp2_session *s, int32_t sid, uint32_t code, void *ud) {
  (void)s;
  struct h2conn *c = ud;
  struct h2req *r = h2_take(c, sid);
  if (!r) return 0; /* ended already (timed out, or sent again) */
  if (code == NGHTTP2_NO_ERROR && r->end_stream) {
    h2_end(c, r, (r->status >= 200 && r->status < 300) ? NULL : &f_status);
  } else if (code == NGHTTP2_REFUSED_STREAM) {
    /* nghttp2 closes the streams above a GOAWAY's last-stream-id with REFUSED_STREAM itself */
    if (!r->sent) h2_retry(c, r, &not_sent);
    else if (c->goaway && sid > c->last_sid) h2_retry(c, r, &refused_goaway);
    else h2_retry(c, r, &refused_stream);
  } else {
    h2_end(c, r, &f_rst);
  }
  return 0;
}

static nghttp2_session_callbacks *h2_callbacks;

static void h2_conn_free(struct h2conn *c) {
  if (c->fd >= 0) close(c->fd);
  if (c->s) nghttp2_session_del(c->s);
  free(c->out);
  free(c);
}

static void h2_unlink_old(struct h2conn *c) {
  for (struct h2conn **p = &old_conns; *p; p = &(*p)->next_old)
    if (*p == c) {
      *p = c->next_old;
      return;
    }
}

/* The connection is gone (EOF, error, or closed by us): its streams end according to what the
 * server may have seen. */
static void h2_conn_lost(struct h2conn *c) {
  struct h2slot *sl = c->slot;
  while (c->nreq > 0) {
    struct h2req *r = c->reqs[--c->nreq];
    if (!r->sent) h2_retry(c, r, &not_sent);
    else if (c->goaway && r->stream_id > c->last_sid) h2_retry(c, r, &refused_goaway);
    else h2_end(c, r, &f_lost);
  }
  if (sl->cur == c) sl->cur = NULL;
  if (!c->active) h2_unlink_old(c);
  h2_conn_free(c);
  h2_fill(sl);
}

static void h2_open(struct h2slot *sl) {
  struct h2conn *c = calloc(1, sizeof *c);
  if (!c) die("out of memory");
  c->kind = 2;
  c->slot = sl;
  c->fd = open_socket();
  if (c->fd < 0) {
    record_fail(&f_connect, now_ns());
    free(c);
    sl->wake = now_ns() + RETRY_PAUSE_NS;
    return;
  }
  if (nghttp2_session_client_new(&c->s, h2_callbacks, c) != 0) die("nghttp2_session_client_new");
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 2);
  c->connecting = true;
  c->open_at = now_ns();
  c->active = true;
  c->last_sid = INT32_MAX;
  sl->cur = c;
  ep_set(c->fd, EPOLLOUT, c, true);
}

/* Keeps o_streams requests of the slot in flight on its current connection. */
static void h2_fill(struct h2slot *sl) {
  if (!sl->cur) {
    if ((sl->queue || (!stopping)) && now_ns() >= sl->wake) h2_open(sl);
    return;
  }
  struct h2conn *c = sl->cur;
  if (c->connecting || !c->active) return;
  while (c->nreq < o_streams && c->nreq < MAX_STREAMS) {
    struct h2req *r = sl->queue;
    if (r) {
      sl->queue = r->next;
      if (!sl->queue) sl->queue_tail = NULL;
    } else {
      if (stopping) break;
      r = calloc(1, sizeof *r);
      if (!r) die("out of memory");
      r->start = now_ns();
      sl->outstanding++;
      started++;
    }
    nghttp2_nv hdrs[] = {
        {(uint8_t *)":method", (uint8_t *)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)":authority", (uint8_t *)authority, 10, strlen(authority), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)":path", (uint8_t *)o_path, 5, strlen(o_path), NGHTTP2_NV_FLAG_NONE},
    };
    int32_t sid = nghttp2_submit_request(c->s, NULL, hdrs, 4, NULL, r);
    if (sid < 0) { /* e.g. no stream ids left: this connection is done for new streams */
      h2_enqueue_front(sl, r);
      c->active = false;
      sl->cur = NULL;
      c->next_old = old_conns;
      old_conns = c;
      break;
    }
    r->stream_id = sid;
    c->reqs[c->nreq++] = r;
  }
  h2_flush(c);
}

static void h2_flush(struct h2conn *c) {
  for (;;) {
    if (c->out_off == c->out_len) {
      const uint8_t *data;
      ssize_t n = nghttp2_session_mem_send(c->s, &data);
      if (n < 0) die("nghttp2_session_mem_send: %s", nghttp2_strerror((int)n));
      if (n == 0) break;
      c->out = realloc(c->out, (size_t)n);
      memcpy(c->out, data, (size_t)n);
      c->out_len = (size_t)n;
      c->out_off = 0;
    }
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) break;
      c->out_off = c->out_len = 0;
      return; /* the read side sees the error */
    }
    c->out_off += (size_t)w;
  }
  bool want = c->out_off < c->out_len;
  if (want != c->want_out) {
    c->want_out = want;
    ep_set(c->fd, EPOLLIN | (want ? EPOLLOUT : 0), c, false);
  }
}

static void h2_event(struct h2conn *c, uint32_t ev) {
  if (c->connecting) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    struct h2slot *sl = c->slot;
    if (err) {
      errno = err;
      record_fail(&f_connect, now_ns());
      if (sl->cur == c) sl->cur = NULL;
      h2_conn_free(c);
      sl->wake = now_ns() + RETRY_PAUSE_NS;
      return;
    }
    c->connecting = false;
    c->want_out = false;
    ep_set(c->fd, EPOLLIN, c, false);
    h2_fill(sl); /* sends the preface, SETTINGS and the first streams */
    return;
  }
  if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    uint8_t buf[RBUF];
    for (;;) {
      ssize_t r = recv(c->fd, buf, sizeof buf, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        h2_conn_lost(c);
        return;
      }
      if (r < 0) break;
      ssize_t m = nghttp2_session_mem_recv(c->s, buf, (size_t)r);
      if (m < 0) { /* a protocol error: the streams on it are lost unless GOAWAY excluded them */
        fprintf(stderr, "loadgen: h2 protocol error: %s\n", nghttp2_strerror((int)m));
        h2_conn_lost(c);
        return;
      }
    }
  }
  if (!c->active && c->nreq == 0) { /* after GOAWAY, its last stream ended: close it */
    struct h2slot *sl = c->slot;
    h2_unlink_old(c);
    h2_conn_free(c);
    h2_fill(sl);
    return;
  }
  if (c->active) h2_fill(c->slot);
  else h2_flush(c);
  if (c->slot->cur == NULL) h2_fill(c->slot); /* a GOAWAY just arrived: open the replacement */
}

/* ================================ the loop ================================================== */
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen -p PORT [-h 127.0.0.1] [-m ka|close|h2c|idle] [-c CONNS] [-s STREAMS (h2c)] [-d SECONDS]\n"
          "               [-u PATH] [-t TIMEOUT_MS] [-w GRACE_MS] [-T TIMELINE_FILE] [-G GAPS_FILE] [-g GAP_MIN_MS]\n"
          "               [-P PAUSE_MS (idle: hold the unused connections this long, then one request on each)]\n");
  exit(2);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (lat_n == 0) return 0;
  size_t i = (size_t)(p * (double)lat_n);
  if (i >= lat_n) i = lat_n - 1;
  return lat_us[i] / 1000.0;
}

/* Timeouts, sleeps and (idle mode) pacing; runs every ~10 ms. */
/* Streams in flight longer than the timeout fail (and are cancelled). */
static void h2_timeouts(struct h2conn *c, int64_t t) {
  for (int j = 0; j < c->nreq;) {
    struct h2req *r = c->reqs[j];
    if (t - r->start > o_timeout_ms * 1000000LL) {
      c->reqs[j] = c->reqs[--c->nreq];
      if (r->sent) nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
      h2_end(c, r, &f_timeout);
    } else {
      j++;
    }
  }
}

static void housekeeping(int64_t t) {
  if (o_mode == M_H2C) {
    for (int i = 0; i < o_conns; i++) {
      struct h2slot *sl = &slots[i];
      struct h2conn *c = sl->cur;
      if (c && !c->connecting) {
        h2_timeouts(c, t);
        h2_flush(c);
      } else if (c && t - c->open_at > o_timeout_ms * 1000000LL) { /* a connect that never completes */
        record_fail(&f_connect, t);
        sl->cur = NULL;
        h2_conn_free(c);
      }
      /* requests waiting for a connection time out too */
      for (struct h2req **p = &sl->queue; *p;) {
        struct h2req *r = *p;
        if (t - r->start > o_timeout_ms * 1000000LL) {
          *p = r->next;
          record_fail(&f_timeout, t);
          sl->outstanding--;
          free(r);
        } else {
          p = &r->next;
        }
      }
      sl->queue_tail = NULL;
      for (struct h2req *r = sl->queue; r; r = r->next) sl->queue_tail = r;
      if (!sl->cur) h2_fill(sl);
      else if (!sl->cur->connecting) h2_fill(sl);
    }
    for (struct h2conn *c = old_conns; c;) {
      struct h2conn *next = c->next_old;
      h2_timeouts(c, t);
      if (c->nreq == 0) {
        struct h2slot *sl = c->slot;
        h2_unlink_old(c);
        h2_conn_free(c);
        h2_fill(sl);
      } else {
        h2_flush(c);
      }
      c = next;
    }
    return;
  }
  for (int i = 0; i < o_conns; i++) {
    struct h1conn *c = &h1[i];
    if (c->st == H1_SLEEP && t >= c->wake) {
      if (stopping) c->st = H1_DONE;
      else h1_connect(c, false);
    } else if ((c->st == H1_WRITING || c->st == H1_READING || (c->st == H1_CONNECTING && o_mode != M_IDLE)) &&
               t - c->req_start > o_timeout_ms * 1000000LL) {
      h1_fail(c, &f_timeout);
    }
  }
  if (o_mode == M_IDLE) {
    while (idle_next < o_conns && idle_connecting < CONNECT_PACE) {
      struct h1conn *c = &h1[idle_next++];
      idle_connecting++;
      h1_connect(c, true);
      if (c->st != H1_CONNECTING) idle_connecting--;
    }
  }
}

static bool all_done(void) {
  if (o_mode == M_H2C) {
    for (int i = 0; i < o_conns; i++)
      if (slots[i].outstanding > 0) return false;
    return true;
  }
  for (int i = 0; i < o_conns; i++)
    if (h1[i].st != H1_DONE && h1[i].st != H1_IDLE && h1[i].st != H1_SLEEP) return false;
  return true;
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "h:p:m:c:s:d:u:t:w:T:G:g:P:")) != -1) {
    switch (opt) {
      case 'h': o_host = optarg; break;
      case 'p': o_port = atoi(optarg); break;
      case 'm':
        if (!strcmp(optarg, "ka")) o_mode = M_KA;
        else if (!strcmp(optarg, "close")) o_mode = M_CLOSE;
        else if (!strcmp(optarg, "h2c")) o_mode = M_H2C;
        else if (!strcmp(optarg, "idle")) o_mode = M_IDLE;
        else usage();
        break;
      case 'c': o_conns = atoi(optarg); break;
      case 's': o_streams = atoi(optarg); break;
      case 'd': o_duration_s = atof(optarg); break;
      case 'u': o_path = optarg; break;
      case 't': o_timeout_ms = atol(optarg); break;
      case 'w': o_grace_ms = atol(optarg); break;
      case 'T': o_timeline = optarg; break;
      case 'G': o_gaps = optarg; break;
      case 'g': o_gap_min_ms = atof(optarg); break;
      case 'P': o_pause_ms = atol(optarg); break;
      default: usage();
    }
  }
  if (o_port <= 0 || o_port > 65535 || o_conns <= 0 || o_duration_s <= 0 || o_streams <= 0 || o_streams > MAX_STREAMS)
    usage();
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)o_port);
  if (inet_pton(AF_INET, o_host, &target.sin_addr) != 1) die("bad address %s", o_host);
  snprintf(authority, sizeof authority, "%s:%d", o_host, o_port);
  h1_req_len = (size_t)snprintf(h1_req, sizeof h1_req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: baton-loadgen\r\n\r\n",
                                o_path, authority);
  h1_req_close_len = (size_t)snprintf(h1_req_close, sizeof h1_req_close,
                                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: baton-loadgen\r\nConnection: close\r\n\r\n",
                                      o_path, authority);

  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)o_conns * 2 + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1: %s", strerror(errno));

  t0 = now_ns();
  clock_gettime(CLOCK_REALTIME, &t0_real);
  t_end = t0 + (int64_t)(o_duration_s * 1e9);
  t_hard_end = t_end + o_grace_ms * 1000000LL;
  last_ok_ns = t0;
  tl_n = (size_t)((t_hard_end - t0) / BUCKET_NS) + 2;
  tl_ok = calloc(tl_n, sizeof *tl_ok);
  tl_fail = calloc(tl_n, sizeof *tl_fail);
  if (o_gaps && !(gaps_f = fopen(o_gaps, "w"))) die("cannot write %s: %s", o_gaps, strerror(errno));

  if (o_mode == M_H2C) {
    nghttp2_session_callbacks_new(&h2_callbacks);
    nghttp2_session_callbacks_set_send_callback(h2_callbacks, cb_send);
    nghttp2_session_callbacks_set_on_header_callback(h2_callbacks, cb_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(h2_callbacks, cb_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(h2_callbacks, cb_frame_send);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(h2_callbacks, cb_not_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(h2_callbacks, cb_stream_close);
    slots = calloc((size_t)o_conns, sizeof *slots);
    for (int i = 0; i < o_conns; i++) h2_open(&slots[i]);
  } else {
    h1 = calloc((size_t)o_conns, sizeof *h1);
    for (int i = 0; i < o_conns; i++) {
      h1[i].kind = 1;
      h1[i].fd = -1;
      h1[i].st = H1_IDLE;
      h1[i].rbuf = malloc(MAX_RESPONSE);
    }
    if (o_mode != M_IDLE)
      for (int i = 0; i < o_conns; i++) h1_connect(&h1[i], true);
  }

  bool said_open = false, said_held = false, used_all = false;
  int64_t open_at = 0;
  int64_t last_hk = 0;
  struct epoll_event evs[256];
  for (;;) {
    int64_t t = now_ns();
    if (!stopping && (t >= t_end || stop_requested)) {
      stopping = true;
      if (stop_requested && t < t_end) t_end = t; /* the window ends here */
      t_hard_end = t + o_grace_ms * 1000000LL;
      if (o_mode == M_IDLE) {
        for (int i = 0; i < o_conns; i++)
          if (h1[i].st == H1_HELD) {
            h1_close_fd(&h1[i]);
            h1[i].st = H1_DONE;
          }
      }
    }
    if (stopping && (all_done() || t >= t_hard_end)) break;
    if (t - last_hk >= 10000000) {
      housekeeping(t);
      last_hk = t;
    }
    if (o_mode == M_IDLE && !stopping) {
      if (!said_open && idle_open + (int)f_connect >= o_conns && idle_next == o_conns && idle_connecting == 0) {
        printf("open %d\n", idle_open);
        fflush(stdout);
        said_open = true;
        open_at = t;
      }
      if (said_open && !used_all && t - open_at >= o_pause_ms * 1000000LL) {
        /* now one request on each (a used keep-alive connection, as a client leaves it), at most
         * CONNECT_PACE at a time: all at once would make the proxy open thousands of upstream
         * connections, which is not what idle connections cost */
        uint64_t ended = served + f_status + f_bad + f_eof + f_reset + f_timeout + f_eof_idle;
        while (req_next < o_conns && started - ended < CONNECT_PACE) {
          struct h1conn *c = &h1[req_next++];
          if (c->st != H1_HELD) continue;
          c->st = H1_WRITING;
          c->req_start = now_ns();
          c->woff = 0;
          c->in_flight = true;
          started++;
          h1_write(c);
          ended = served + f_status + f_bad + f_eof + f_reset + f_timeout + f_eof_idle;
        }
        if (req_next == o_conns) used_all = true;
      }
      if (used_all && !said_held && served + f_status + f_bad + f_eof + f_reset + f_timeout + f_eof_idle >= (uint64_t)idle_open) {
        printf("held %d\n", idle_used);
        fflush(stdout);
        said_held = true;
      }
    }
    int n = epoll_wait(ep, evs, 256, 10);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      int kind = *(int *)evs[i].data.ptr;
      if (kind == 1) h1_event(evs[i].data.ptr);
      else h2_event(evs[i].data.ptr, evs[i].events);
    }
  }
  int64_t t_stop = now_ns();
  /* what is still in flight after the grace time */
  if (o_mode == M_H2C) {
    for (int i = 0; i < o_conns; i++) {
      f_unfinished += (uint64_t)slots[i].outstanding;
    }
  } else {
    for (int i = 0; i < o_conns; i++)
      if (h1[i].in_flight && (h1[i].st == H1_WRITING || h1[i].st == H1_READING)) f_unfinished++;
  }
  note_gap(last_ok_ns, t_end); /* the interval from the last response to the end of the run */

  qsort(lat_us, lat_n, sizeof *lat_us, cmp_u32);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  uint64_t failed = f_connect + f_reset + f_eof + f_eof_idle + f_bad + f_status + f_timeout + f_lost + f_rst + f_unfinished;
  double window_s = (t_end - t0) / 1e9;
  const char *mname[] = {"ka", "close", "h2c", "idle"};
  printf("loadgen mode=%s conns=%d streams=%d window_s=%.3f t0_epoch_ms=%.3f started=%" PRIu64 " served=%" PRIu64
         " failed=%" PRIu64 " f_connect=%" PRIu64 " f_reset=%" PRIu64 " f_eof=%" PRIu64 " f_eof_idle=%" PRIu64 " f_bad=%" PRIu64
         " f_status=%" PRIu64 " f_timeout=%" PRIu64 " f_lost=%" PRIu64 " f_rst=%" PRIu64 " f_unfinished=%" PRIu64
         " server_closes=%" PRIu64 " connects=%" PRIu64 " refused_goaway=%" PRIu64 " refused_stream=%" PRIu64
         " not_sent=%" PRIu64 " goaways=%" PRIu64 " rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f"
         " stall_ms=%.1f stall_at_ms=%.1f first_ok_ms=%.1f cpu_s=%.2f\n",
         mname[o_mode], o_conns, o_mode == M_H2C ? o_streams : 1, window_s,
         t0_real.tv_sec * 1e3 + t0_real.tv_nsec / 1e6, started, served, failed, f_connect, f_reset, f_eof, f_eof_idle, f_bad,
         f_status, f_timeout, f_lost, f_rst, f_unfinished, server_closes, connects, refused_goaway, refused_stream, not_sent,
         goaways, served / window_s, pct(0.50), pct(0.90), pct(0.99), pct(0.999), lat_n ? lat_us[lat_n - 1] / 1000.0 : 0,
         stall_ns / 1e6, stall_at_ns / 1e6, first_ok_ns / 1e6, cpu_s);
  fprintf(stderr,
          "loadgen %s: %" PRIu64 " served in %.1f s (%.0f/s), %" PRIu64 " failed, p99 %.2f ms, max %.2f ms, longest stall %.1f ms"
          " at %.1f s, %" PRIu64 " reconnects after Connection: close, %" PRIu64 " GOAWAYs, %" PRIu64 " refused+not sent (sent again);"
          " client CPU %.2f s; %.2f s after the end of the window\n",
          mname[o_mode], served, window_s, served / window_s, failed, pct(0.99), lat_n ? lat_us[lat_n - 1] / 1000.0 : 0,
          stall_ns / 1e6, stall_at_ns / 1e9, server_closes, goaways, refused_goaway + refused_stream + not_sent, cpu_s,
          (t_stop - t_end) / 1e9);
  if (o_timeline) {
    FILE *f = fopen(o_timeline, "w");
    if (!f) die("cannot write %s: %s", o_timeline, strerror(errno));
    size_t last = (size_t)((t_stop - t0) / BUCKET_NS) + 1;
    for (size_t i = 0; i < tl_n && i < last; i++) fprintf(f, "%zu %u %u\n", i * 100, tl_ok[i], tl_fail[i]);
    fclose(f);
  }
  if (gaps_f) fclose(gaps_f);
  return 0;
}
