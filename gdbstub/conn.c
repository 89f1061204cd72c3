/*
 * conn.c — where the stub listens: parsing "HOST:PORT", ":PORT", "PORT",
 * "[V6]:PORT" and "unix:PATH", creating the listening socket and accepting
 * clients.
 *
 * Whoever reaches the socket controls the guest, so the default is
 * loopback, a wider address is logged as a warning, and a Unix socket is
 * private from the moment it exists: Linux gives the bound file the mode
 * of the socket inode (minus umask), so we fchmod the socket to 0600
 * before bind() instead of chmod()ing the path afterwards, which would
 * leave a window. The result is checked anyway.
 *
 * The listen backlog is the system's maximum, not 1: clients that connect
 * faster than they are accepted (a script's rapid reconnects) must queue,
 * not get EAGAIN from a non-blocking connect().
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gdbstub/internal.h"

#define GDB_LISTEN_BACKLOG SOMAXCONN

static int parse_port(const char *s, unsigned *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

int gdb_parse_listen_addr(const char *addr, struct gdb_listen_addr *out)
{
	const char *colon;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (!addr || !*addr)
		addr = GDB_DEFAULT_ADDR;
	if (strncmp(addr, "unix:", 5) == 0) {
		const char *path = addr + 5;

		if (!*path || strlen(path) >= sizeof(out->path))
			return -EINVAL;
		out->family = AF_UNIX;
		strcpy(out->path, path);
		return 0;
	}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':' || close == addr + 1)
			return -EINVAL;
		hlen = (size_t)(close - addr - 1);
		if (hlen >= sizeof(out->host))
			return -EINVAL;
		memcpy(out->host, addr + 1, hlen);
		out->family = AF_INET6;
		return parse_port(close + 2, &out->port);
	}
	colon = strchr(addr, ':');
	if (!colon) {
		strcpy(out->host, "127.0.0.1");
		out->family = AF_INET;
		return parse_port(addr, &out->port);
	}
	if (strchr(colon + 1, ':'))
		return -EINVAL;		/* a bare IPv6 address needs brackets */
	hlen = (size_t)(colon - addr);
	if (hlen >= sizeof(out->host))
		return -EINVAL;
	if (hlen == 0)
		strcpy(out->host, "127.0.0.1");
	else
		memcpy(out->host, addr, hlen);
	out->family = AF_UNSPEC;	/* a name: whatever it resolves to */
	if (hlen == 0 || inet_pton(AF_INET, out->host, &(struct in_addr){ 0 }) == 1)
		out->family = AF_INET;
	return parse_port(colon + 1, &out->port);
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

static int listen_unix(const char *path, const struct gdb_log *log)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			gdb_logf(log, GDB_LOG_ERROR, "gdb: %s exists and is not a socket", path);
			return -EEXIST;
		}
		/* A socket someone still accepts on is in use; a dead one is stale. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
		close(fd);
		if (r == 0) {
			gdb_logf(log, GDB_LOG_ERROR, "gdb: %s is in use by another server", path);
			return -EADDRINUSE;
		}
		if (r != ECONNREFUSED) {	/* not provably stale: leave it alone */
			gdb_logf(log, GDB_LOG_ERROR, "gdb: cannot probe existing socket %s: %s",
				 path, strerror(r));
			return -r;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	if (stat(path, &st) < 0)
		goto err_unlink;
	if (st.st_mode & 077) {
		gdb_logf(log, GDB_LOG_ERROR, "gdb: %s was created with mode %03o, not 0600",
			 path, (unsigned)(st.st_mode & 0777));
		errno = EPERM;
		goto err_unlink;
	}
	if (listen(fd, GDB_LISTEN_BACKLOG) < 0)
		goto err_unlink;
	gdb_logf(log, GDB_LOG_INFO, "gdb stub listening on unix:%s", path);
	return fd;

err_unlink:
	r = -errno;
	unlink(path);
	close(fd);
	return r;
err:
	r = -errno;
	close(fd);
	return r;
}

static void describe(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "(unknown address)");
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
}

static int listen_inet(const struct gdb_listen_addr *a, const struct gdb_log *log)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char port[8], where[NI_MAXHOST + NI_MAXSERV + 4];
	int fd = -1, r, one = 1;

	hints.ai_family = a->family;
	snprintf(port, sizeof(port), "%u", a->port);
	r = getaddrinfo(a->host, port, &hints, &res);
	if (r) {
		gdb_logf(log, GDB_LOG_ERROR, "gdb: cannot resolve listen host '%s': %s",
			 a->host, gai_strerror(r));
		return -EINVAL;
	}
	r = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, GDB_LISTEN_BACKLOG) == 0)
			break;
		r = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		gdb_logf(log, GDB_LOG_ERROR, "gdb: cannot listen on %s:%u: %s", a->host, a->port,
			 strerror(-r));
		return r;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	describe((struct sockaddr *)&bound, blen, where, sizeof(where));
	if (!is_loopback((struct sockaddr *)&bound))
		gdb_logf(log, GDB_LOG_WARN,
			 "gdb stub listening on %s: anyone who can reach this port controls the guest",
			 where);
	else
		gdb_logf(log, GDB_LOG_INFO, "gdb stub listening on %s", where);
	return fd;
}

int gdb_conn_listen(const struct gdb_listen_addr *a, const struct gdb_log *log)
{
	return a->family == AF_UNIX ? listen_unix(a->path, log) : listen_inet(a, log);
}

void gdb_conn_accepted(int fd, const struct gdb_log *log)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char where[NI_MAXHOST + NI_MAXSERV + 4];
	int one = 1, fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 &&
	    (peer.ss_family == AF_INET || peer.ss_family == AF_INET6)) {
		/* Packets are small and strictly request/reply: no Nagle delay. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		describe((struct sockaddr *)&peer, plen, where, sizeof(where));
	} else {
		snprintf(where, sizeof(where), "a unix socket");
	}
	gdb_logf(log, GDB_LOG_INFO, "gdb: client connected from %s", where);
}

int gdb_conn_accept(int listen_fd, const struct gdb_log *log)
{
	int fd;

	do
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd < 0)
		return -errno;
	gdb_conn_accepted(fd, log);
	return fd;
}

int gdb_conn_port(int listen_fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (listen_fd < 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0)
		return -EINVAL;
	if (sa.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&sa)->sin_port);
	if (sa.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
	return -EINVAL;
}
