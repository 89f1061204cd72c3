/*
 * packet.c — framing of the remote serial protocol over a connected socket.
 *
 * Incoming: bytes outside a packet are acks or noise and are skipped, except
 * 0x03 (interrupt). A packet is "$data#cs"; a '$' inside a packet means the
 * sender started over (or we joined mid-stream), so we resynchronise there.
 * A bad checksum gets '-' (gdb resends), a good one '+', unless no-ack mode
 * is on. Data beyond the packet size limit is counted but not stored, so an
 * overlong packet costs no memory and is answered with E22 once its end is
 * seen. Run-length encoding is expanded after the checksum is verified,
 * since the checksum covers the encoded form.
 *
 * Outgoing: "$data#cs", then (ack mode) wait for '+', resending on '-'.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub/internal.h"

/* gdb resends on '-' forever; we give up on a peer that NAKs this often. */
#define GDB_MAX_RESENDS 16

int gdb_io_init(struct gdb_io *io, int fd, size_t max, const struct gdb_log *log)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->max = max;
	if (log)
		io->log = *log;
	io->raw = malloc(max);
	io->pkt = malloc(max + 1);
	io->frame = malloc(max + 4);
	if (!io->raw || !io->pkt || !io->frame) {
		gdb_io_fini(io);
		return -ENOMEM;
	}
	return 0;
}

void gdb_io_fini(struct gdb_io *io)
{
	free(io->raw);
	free(io->pkt);
	free(io->frame);
	io->raw = io->pkt = io->frame = NULL;
}

static int io_fill(struct gdb_io *io)
{
	ssize_t n;

	do
		n = recv(io->fd, io->in, sizeof(io->in), 0);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	io->in_pos = 0;
	io->in_len = (size_t)n;
	return 0;
}

static int io_getc(struct gdb_io *io)
{
	if (io->in_pos == io->in_len) {
		int r = io_fill(io);

		if (r)
			return r;
	}
	return io->in[io->in_pos++];
}

int gdb_io_write(struct gdb_io *io, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(io->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EPIPE ? -ECONNRESET : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read the rest of a packet after its '$'. Returns an event, 0 when the
 * packet was dropped (bad checksum), or -errno.
 */
static int read_frame(struct gdb_io *io)
{
	size_t len, total;
	uint8_t sum;
	int c, hi, lo, r;

restart:
	len = 0;
	total = 0;
	sum = 0;
	for (;;) {
		c = io_getc(io);
		if (c < 0)
			return c;
		if (c == '$') {
			gdb_logf(&io->log, GDB_LOG_WARN,
				 "gdb: packet restarted after %zu bytes; resynchronising", total);
			goto restart;
		}
		if (c == '#')
			break;
		sum = (uint8_t)(sum + c);
		total++;
		if (len < io->max)
			io->raw[len++] = (char)c;
	}
	c = io_getc(io);
	if (c < 0)
		return c;
	if (c == '$')
		goto restart;
	hi = gdb_hex_digit(c);
	c = io_getc(io);
	if (c < 0)
		return c;
	if (c == '$')
		goto restart;
	lo = gdb_hex_digit(c);
	if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != sum) {
		gdb_logf(&io->log, GDB_LOG_WARN,
			 "gdb: bad checksum on a %zu-byte packet (computed %02x)", total, sum);
		if (!io->noack) {
			r = gdb_io_write(io, "-", 1);
			if (r)
				return r;
		}
		return 0;
	}
	if (!io->noack) {
		r = gdb_io_write(io, "+", 1);
		if (r)
			return r;
	}
	if (total > io->max) {
		gdb_logf(&io->log, GDB_LOG_WARN,
			 "gdb: packet of %zu bytes exceeds the packet size %zu; refused",
			 total, io->max);
		return GDB_IO_BADPACKET;
	}
	r = gdb_rle_decode(io->raw, len, io->pkt, io->max, &io->pkt_len);
	if (r) {
		gdb_logf(&io->log, GDB_LOG_WARN, "gdb: %s run-length encoding in a %zu-byte packet",
			 r == -E2BIG ? "oversized" : "malformed", len);
		return GDB_IO_BADPACKET;
	}
	io->pkt[io->pkt_len] = '\0';
	return GDB_IO_PACKET;
}

int gdb_io_read(struct gdb_io *io)
{
	for (;;) {
		int c = io_getc(io), r;

		if (c < 0)
			return c;
		if (c == 0x03)
			return GDB_IO_INTERRUPT;
		if (c != '$')
			continue;	/* an ack, or noise between packets */
		r = read_frame(io);
		if (r != 0)
			return r;
	}
}

int gdb_io_poll(struct gdb_io *io)
{
	for (;;) {
		ssize_t n;

		while (io->in_pos < io->in_len) {
			uint8_t c = io->in[io->in_pos];

			if (c == '$')
				return GDB_IO_PACKET;
			io->in_pos++;
			if (c == 0x03)
				return GDB_IO_INTERRUPT;
		}
		n = recv(io->fd, io->in, sizeof(io->in), MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		io->in_pos = 0;
		io->in_len = (size_t)n;
	}
}

int gdb_io_send(struct gdb_io *io, const char *data, size_t len)
{
	uint8_t sum;
	int r;

	if (len > io->max)
		return -E2BIG;
	sum = gdb_checksum(data, len);
	io->frame[0] = '$';
	memcpy(io->frame + 1, data, len);
	io->frame[len + 1] = '#';
	gdb_hex_encode(&sum, 1, io->frame + len + 2);

	for (int tries = 0; tries < GDB_MAX_RESENDS; tries++) {
		r = gdb_io_write(io, io->frame, len + 4);
		if (r)
			return r;
		if (io->noack)
			return 0;
		for (;;) {
			int c = io_getc(io);

			if (c < 0)
				return c;
			if (c == '+')
				return 0;
			if (c == '-')
				break;
			if (c == '$' || c == 0x03) {
				/* The peer moved on without acking: keep its byte. */
				io->in_pos--;
				return 0;
			}
		}
	}
	gdb_logf(&io->log, GDB_LOG_ERROR, "gdb: reply refused %d times; dropping the client",
		 GDB_MAX_RESENDS);
	return -EPROTO;
}
