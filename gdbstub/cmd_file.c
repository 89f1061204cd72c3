/*
 * cmd_file.c — lets gdb find the guest kernel's symbols by itself, the way
 * gdbserver names a process's executable: qXfer:exec-file:read returns the
 * target's exec_file path, and a read-only subset of the host I/O packets
 * (vFile:setfs, open, pread, close) lets gdb read that one file through
 * the connection. Any other path is refused, so a client cannot use the
 * stub to read arbitrary host files. Without exec_file, open is refused and
 * exec-file is not advertised (gdb then wants a "file" command).
 *
 * Host I/O replies are "F<result>[,<errno>][;<data>]" with hex numbers and
 * errno values in gdb's File-I/O numbering (equal to Linux for the ones
 * used here).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdbstub/internal.h"

/* gdb File-I/O open flags. */
#define FILEIO_O_ACCMODE 0x3
#define FILEIO_O_CREAT 0x200
#define FILEIO_O_TRUNC 0x400
#define FILEIO_EUNKNOWN 9999

static int fileio_errno(int err)
{
	switch (err) {
	case EPERM: case ENOENT: case EINTR: case EBADF: case EACCES: case EFAULT:
	case EBUSY: case EEXIST: case ENODEV: case ENOTDIR: case EISDIR: case EINVAL:
	case ENFILE: case EMFILE: case EFBIG: case ENOSPC: case ESPIPE: case EROFS:
	case ENAMETOOLONG:
		return err;
	default:
		return FILEIO_EUNKNOWN;
	}
}

static int file_error(struct gdb_session *s, int err)
{
	gdb_buf_printf(&s->reply, "F-1,%x", fileio_errno(err));
	return GDB_H_REPLY;
}

void gdb_session_close_files(struct gdb_session *s)
{
	for (int i = 0; i < GDB_MAX_FILES; i++) {
		if (s->files[i] >= 0)
			close(s->files[i]);
		s->files[i] = -1;
	}
}

static int h_exec_file(struct gdb_session *s, struct gdb_args *a)
{
	const char *path = s->srv->target.exec_file;
	struct gdb_buf *b = &s->reply;
	uint64_t off = a->v[1].num, want = a->v[2].num;
	size_t len, avail, used, taken;

	if (!path)
		return GDB_H_REPLY;	/* empty: not supported */
	if (want == 0)
		return -EINVAL;
	/* The annex is a process id, or empty; there is only one "process". */
	len = strlen(path);
	if (off >= len) {
		gdb_buf_puts(b, "l");
		return GDB_H_REPLY;
	}
	avail = len - (size_t)off < want ? len - (size_t)off : (size_t)want;
	taken = gdb_bin_escape((const uint8_t *)path + off, avail, b->data + 1, b->cap - 1, &used);
	b->data[0] = off + taken < len ? 'm' : 'l';
	b->len = used + 1;
	return GDB_H_REPLY;
}

static int h_setfs(struct gdb_session *s, struct gdb_args *a)
{
	gdb_buf_puts(&s->reply, "F0");	/* one file system: the host's, for one file */
	return GDB_H_REPLY;
}

static int h_open(struct gdb_session *s, struct gdb_args *a)
{
	const char *exec_file = s->srv->target.exec_file;
	char *path = a->v[0].str;
	uint64_t flags = a->v[1].num;
	int slot = -1, fd;

	if (memchr(path, '\0', a->v[0].len))
		return file_error(s, EINVAL);
	path[a->v[0].len] = '\0';	/* room: hex decoding shrank it in place */
	if (!exec_file || strcmp(path, exec_file) != 0)
		return file_error(s, ENOENT);
	if ((flags & FILEIO_O_ACCMODE) != 0 || (flags & (FILEIO_O_CREAT | FILEIO_O_TRUNC)))
		return file_error(s, EACCES);
	for (int i = 0; i < GDB_MAX_FILES && slot < 0; i++)
		if (s->files[i] < 0)
			slot = i;
	if (slot < 0)
		return file_error(s, EMFILE);
	fd = open(exec_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return file_error(s, errno);
	s->files[slot] = fd;
	gdb_buf_printf(&s->reply, "F%x", slot);
	return GDB_H_REPLY;
}

static int slot_fd(struct gdb_session *s, uint64_t slot)
{
	return slot < GDB_MAX_FILES ? s->files[slot] : -1;
}

static int h_pread(struct gdb_session *s, struct gdb_args *a)
{
	struct gdb_buf *b = &s->reply;
	int fd = slot_fd(s, a->v[0].num);
	size_t count = (size_t)a->v[1].num, used, taken, head;
	uint64_t off = a->v[2].num;
	uint8_t *data;
	ssize_t n;

	if (fd < 0)
		return file_error(s, EBADF);
	if (off > INT64_MAX)
		return file_error(s, EINVAL);
	/* Escaping can double the data; keep the reply within one packet. */
	if (count > (b->cap - 32) / 2)
		count = (b->cap - 32) / 2;
	data = malloc(count ? count : 1);
	if (!data)
		return file_error(s, ENOMEM);
	n = pread(fd, data, count, (off_t)off);
	if (n < 0) {
		free(data);
		return file_error(s, errno);
	}
	gdb_buf_printf(b, "F%zx;", (size_t)n);
	head = b->len;
	taken = gdb_bin_escape(data, (size_t)n, b->data + head, b->cap - head, &used);
	free(data);
	if (taken != (size_t)n)
		return -EIO;	/* cannot happen with the cap above */
	b->len = head + used;
	return GDB_H_REPLY;
}

static int h_close(struct gdb_session *s, struct gdb_args *a)
{
	int fd = slot_fd(s, a->v[0].num);

	if (fd < 0)
		return file_error(s, EBADF);
	close(fd);
	s->files[a->v[0].num] = -1;
	gdb_buf_puts(&s->reply, "F0");
	return GDB_H_REPLY;
}

const struct gdb_packet_def gdb_file_packets[] = {
	{ "qXfer:exec-file:read", ":s:x,x", h_exec_file },
	{ "vFile:setfs", ":x", h_setfs },
	{ "vFile:open", ":h,x,x", h_open },
	{ "vFile:pread", ":x,x,x", h_pread },
	{ "vFile:close", ":x", h_close },
	{ NULL, NULL, NULL },
};
