/*
 * internal.h — declarations shared by the files of gdbstub/, not public.
 *
 * Layers, one file each:
 *   conn.c     listening address parsing, TCP/Unix listen and accept
 *   packet.c   framing: $data#cs, acks, no-ack mode, RLE, 0x03 interrupts
 *   hex.c      hex and binary-escape codecs shared by framing and packets
 *   dispatch.c packet table, parameter schemas, uniform error replies
 *   cmd_*.c    the packet handlers (rows of the table); cmd_file.c serves
 *              the guest kernel ELF to gdb (exec-file, vFile)
 *   regs.c     register marshalling and the target description XML
 *   server.c   server API, client sessions, resume
 *   watch.c    the thread that catches Ctrl-C and hang-ups during a resume
 */
#ifndef RRVM_GDBSTUB_INTERNAL_H
#define RRVM_GDBSTUB_INTERNAL_H

#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/gdbstub.h"

#define GDB_DEFAULT_PACKET_SIZE 16384
#define GDB_MIN_PACKET_SIZE 2048
#define GDB_PAGE_SIZE 4096u
#define GDB_MAX_FILES 4

/* ---- logging ---- */

struct gdb_log {
	void (*fn)(void *ctx, enum gdb_log_level level, const char *msg);
	void *ctx;
};

void gdb_logf(const struct gdb_log *log, enum gdb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- hex.c: codecs ---- */

int gdb_hex_digit(int c);			/* 0-15 or -1 */
/* Decode 2*n hex chars into n bytes; -EINVAL on a non-hex char. */
int gdb_hex_decode(const char *hex, size_t n, uint8_t *out);
/* Encode n bytes as 2*n lowercase hex chars (no NUL). */
void gdb_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parse 1-16 hex digits exactly spanning [s, s+len); -EINVAL otherwise. */
int gdb_hex_u64(const char *s, size_t len, uint64_t *out);
/*
 * Binary escaping: '#', '$', '}' and '*' become '}' followed by c ^ 0x20.
 * gdb_bin_escape writes at most cap bytes and returns how many input bytes
 * it consumed (*out_len set to the bytes written).
 */
size_t gdb_bin_escape(const uint8_t *in, size_t n, char *out, size_t cap, size_t *out_len);
/* Undo escaping; in-place use (out == in) is allowed. -EINVAL on a lone '}'. */
int gdb_bin_unescape(const char *in, size_t n, uint8_t *out, size_t *out_len);
/*
 * Expand run-length encoding ("c*N": N - 29 more copies of c) from in into
 * out (cap bytes). -EINVAL if malformed ('*' first, bad count char),
 * -E2BIG if the expansion does not fit.
 */
int gdb_rle_decode(const char *in, size_t n, char *out, size_t cap, size_t *out_len);
uint8_t gdb_checksum(const char *data, size_t n);

/* ---- packet.c: framing over a connected socket ---- */

struct gdb_io {
	int fd;
	bool noack;
	size_t max;			/* largest packet data accepted/sent */
	struct gdb_log log;
	uint8_t in[4096];		/* bytes read from fd, not yet consumed */
	size_t in_pos, in_len;
	char *raw;			/* max bytes: packet as received */
	char *pkt;			/* max + 1 bytes: RLE-expanded, NUL-terminated */
	size_t pkt_len;
	char *frame;			/* max + 4 bytes: outgoing "$data#cs" */
};

enum gdb_io_event {
	GDB_IO_PACKET = 1,		/* io->pkt holds a checked, expanded packet */
	GDB_IO_INTERRUPT,		/* 0x03 outside a packet */
	GDB_IO_BADPACKET,		/* checksum fine but too long or bad RLE: reply E22 */
};

int gdb_io_init(struct gdb_io *io, int fd, size_t max, const struct gdb_log *log);
void gdb_io_fini(struct gdb_io *io);
/* Next packet or interrupt. -ECONNRESET when the peer closed, or -errno. */
int gdb_io_read(struct gdb_io *io);
/* Frame and send data (already escaped where needed); waits for '+' unless no-ack. */
int gdb_io_send(struct gdb_io *io, const char *data, size_t len);
/* Write raw bytes (acks). */
int gdb_io_write(struct gdb_io *io, const void *buf, size_t len);
/*
 * Without blocking, what has the peer sent while we were busy: 0 nothing
 * (acks and noise are skipped), GDB_IO_INTERRUPT (the 0x03, consumed),
 * GDB_IO_PACKET (a '$' starts a packet; left for gdb_io_read), or
 * -ECONNRESET / -errno.
 */
int gdb_io_poll(struct gdb_io *io);

/* ---- regs.c ---- */

struct gdb_regdesc {
	const char *name;
	uint16_t bits;
	uint16_t offset;		/* in struct gdb_x86_regs */
	const char *type;
	const char *group;		/* NULL: default */
	uint8_t feature;
};

extern const struct gdb_regdesc gdb_x86_regdesc[GDB_X86_NREGS];
/* Size in bytes of the full g packet payload (binary). */
size_t gdb_regs_size(void);
/* Serialise regs into out (gdb_regs_size() bytes) in description order. */
void gdb_regs_pack(const struct gdb_x86_regs *regs, uint8_t *out);
void gdb_regs_unpack(struct gdb_x86_regs *regs, const uint8_t *in, size_t len);
/* One register's bytes: pointer into regs, size in *len. NULL if n is bad. */
uint8_t *gdb_reg_ptr(struct gdb_x86_regs *regs, unsigned n, size_t *len);
/* Build target.xml into a malloc'd string; NULL if out of memory. */
char *gdb_target_xml(size_t *len);

/* ---- watch.c: Ctrl-C while the target runs ---- */

struct gdb_session;

/* One thread per server, made at the first resume, armed for each. */
struct gdb_watcher {
	struct gdb_server *srv;
	pthread_t tid;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wake[2];			/* a byte here ends the watch of a resume */
	struct gdb_session *session;	/* armed for this session, or NULL */
	unsigned long arming;		/* counts arms; the thread serves each once */
	bool monitor;			/* armed for a monitor command: a packet interrupts */
	bool busy;			/* the thread is watching the session's socket */
	bool hangup;			/* the client went away while armed */
	bool ctrlc;			/* it sent a 0x03 (consumed) */
	bool packet;			/* monitor mode: it sent a packet (left in place) */
	bool quit;
};

/* What the watcher saw while armed. */
struct gdb_watch_seen {
	bool hangup, ctrlc, packet;
};

void gdb_watcher_init(struct gdb_watcher *w);
/* Stop and join the thread, if it was made. */
void gdb_watcher_fini(struct gdb_watcher *w);
/*
 * Watch s's socket until disarm (the target is about to run): a 0x03, a
 * hang-up and in monitor mode a packet call target->interrupt(). The
 * serving thread must not touch s->io until disarm. 0 or -errno.
 */
__attribute__((warn_unused_result))
int gdb_watcher_arm(struct gdb_watcher *w, struct gdb_server *srv, struct gdb_session *s,
		    bool monitor);
/* The target stopped: give the socket back; *seen says what came meanwhile. */
void gdb_watcher_disarm(struct gdb_watcher *w, struct gdb_watch_seen *seen);
/* What it saw so far, leaving it armed. */
void gdb_watcher_peek(struct gdb_watcher *w, struct gdb_watch_seen *seen);

/* ---- server.c / dispatch.c: sessions ---- */

struct gdb_server {
	struct gdb_target target;
	struct gdb_log log;
	size_t packet_size;
	int listen_fd;
	int listen_family;
	char *unix_path;		/* to unlink on destroy */
	char *xml;
	size_t xml_len;
	char *exec_file;		/* our copy of target.exec_file */
	struct gdb_stop last_stop;
	_Atomic bool resuming;		/* inside target->resume (read by signal handlers) */
	struct gdb_watcher watcher;
};

/* ---- refuse.c: clients beyond the first ---- */

/* While one client is served, a thread accepts every further connection
 * on the listener and refuses it at once with a clear error packet. */
struct gdb_refuser {
	struct gdb_server *srv;
	int session_fd;			/* the client being served */
	int handoff_fd;			/* the next client, accepted early, or -1 */
	int wake[2];
	pthread_t tid;
	bool started;
};

/* Start refusing while session_fd is served (0 or -errno; on failure
 * further clients just wait). */
int gdb_refuser_start(struct gdb_refuser *r, struct gdb_server *srv, int session_fd);
/* Stop; r->handoff_fd is then the next client to serve (blocking), or -1. */
void gdb_refuser_stop(struct gdb_refuser *r);

/* Reply under construction. */
struct gdb_buf {
	char *data;
	size_t len, cap;
	bool overflow;
};

struct gdb_session {
	struct gdb_server *srv;
	struct gdb_io io;
	struct gdb_buf reply;
	bool gdb_swbreak, gdb_hwbreak;	/* gdb said swbreak+/hwbreak+ */
	bool noack_pending;		/* switch to no-ack once the OK is acked */
	bool hangup;			/* the client vanished during a resume */
	int files[GDB_MAX_FILES];	/* host fds opened by vFile:open, or -1 */
	int end;			/* 0, or the enum gdb_serve_end to return */
	bool extended;			/* gdb sent '!' (target extended-remote) */
	int end_on_close;		/* extended: what to return when gdb goes */
	char why[256];			/* a handler's reason for its error reply */
};

void gdb_buf_reset(struct gdb_buf *b);
void gdb_buf_add(struct gdb_buf *b, const char *s, size_t n);
void gdb_buf_puts(struct gdb_buf *b, const char *s);
void gdb_buf_printf(struct gdb_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gdb_buf_hex(struct gdb_buf *b, const uint8_t *data, size_t n);

/* What a handler returns, besides a negative errno (→ error reply). */
enum {
	GDB_H_REPLY = 0,		/* send s->reply */
	GDB_H_DONE = 1,			/* the handler already replied (or must not) */
};

/* Parsed packet parameters (see dispatch.c for the schema language). */
struct gdb_arg {
	bool present;
	uint64_t num;			/* 'x' */
	char *str;			/* 's', 'h', 'b': start (decoded in place) */
	size_t len;
};

#define GDB_MAX_ARGS 6

struct gdb_args {
	int n;
	struct gdb_arg v[GDB_MAX_ARGS];
};

typedef int (*gdb_handler_fn)(struct gdb_session *s, struct gdb_args *a);

struct gdb_packet_def {
	const char *name;
	const char *schema;
	gdb_handler_fn fn;
};

/* Handler tables, one per cmd_*.c file, ended by a NULL name. */
extern const struct gdb_packet_def gdb_state_packets[];
extern const struct gdb_packet_def gdb_query_packets[];
extern const struct gdb_packet_def gdb_exec_packets[];
extern const struct gdb_packet_def gdb_file_packets[];

/* Close the files a session opened (cmd_file.c). */
void gdb_session_close_files(struct gdb_session *s);

/* Parse params against schema; 0 or -EINVAL. Exposed for unit tests. */
int gdb_parse_args(const char *schema, char *params, size_t len, struct gdb_args *a);

/* Handle one packet in s->io.pkt; 0 to go on, or -errno for a dead connection. */
int gdb_dispatch(struct gdb_session *s, char *pkt, size_t len);
int gdb_errno_to_code(int err);
/*
 * Thread id: "-1" (all) gives -1, "0" (any) 0, hex N gives N; the
 * multiprocess form "pPID.TID" gives TID ("pPID" alone: -1). -EINVAL else.
 */
int gdb_parse_thread(const char *s, size_t len, int64_t *tid);
int gdb_send_reply(struct gdb_session *s);

/* Resume the target, watch for Ctrl-C, send the stop reply (server.c). */
int gdb_session_resume(struct gdb_session *s, enum gdb_resume how);
/* Format the stop reply for stop into b. */
void gdb_stop_reply(const struct gdb_session *s, const struct gdb_stop *stop, struct gdb_buf *b);

/* ---- conn.c ---- */

struct gdb_listen_addr {
	int family;			/* AF_INET, AF_INET6 or AF_UNIX */
	char host[256];
	unsigned port;
	char path[108];
};

/* Parse an address form accepted by gdb_server_listen. 0 or -EINVAL. */
int gdb_parse_listen_addr(const char *addr, struct gdb_listen_addr *out);
/* Listen; returns the fd or -errno. Logs a warning if not loopback. */
int gdb_conn_listen(const struct gdb_listen_addr *a, const struct gdb_log *log);
/* Accept one client (blocking); fd or -errno. */
int gdb_conn_accept(int listen_fd, const struct gdb_log *log);
/* A client was accepted on fd (by accept or by the refuser): make it
 * blocking, set TCP_NODELAY on TCP, log who it is. */
void gdb_conn_accepted(int fd, const struct gdb_log *log);
int gdb_conn_port(int listen_fd);

#endif
