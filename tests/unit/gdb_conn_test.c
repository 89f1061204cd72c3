/*
 * gdb_conn_test.c — where the stub listens and how it takes clients:
 * address parsing, TCP on a picked port, the warning for non-loopback
 * addresses, a Unix socket that is 0600 from birth (tested with umask 0),
 * refusing to clobber files, and serve() taking a new client after one
 * disconnects (even mid-packet) until one detaches or kills.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "gdbstub/internal.h"
#define GDB_FAKE_WITH_CLIENT
#include "tests/unit/gdb_fake.h"
#include "tests/unit/tap.h"

struct logbook {
	char text[8192];
	int warnings;
};

static void log_cb(void *ctx, enum gdb_log_level level, const char *msg)
{
	struct logbook *lb = ctx;
	size_t n = strlen(lb->text);

	if (level == GDB_LOG_WARN)
		lb->warnings++;
	snprintf(lb->text + n, sizeof(lb->text) - n, "%s\n", msg);
}

static void test_parse(void)
{
	struct gdb_listen_addr a;

	ok(gdb_parse_listen_addr("1234", &a) == 0 && a.family == AF_INET &&
		   strcmp(a.host, "127.0.0.1") == 0 && a.port == 1234,
	   "PORT means 127.0.0.1:PORT");
	ok(gdb_parse_listen_addr(":99", &a) == 0 && strcmp(a.host, "127.0.0.1") == 0 && a.port == 99,
	   ":PORT means 127.0.0.1:PORT");
	ok(gdb_parse_listen_addr(NULL, &a) == 0 && strcmp(a.host, "127.0.0.1") == 0 && a.port == 1234,
	   "default is 127.0.0.1:1234");
	ok(gdb_parse_listen_addr("0.0.0.0:5", &a) == 0 && strcmp(a.host, "0.0.0.0") == 0 && a.port == 5,
	   "HOST:PORT");
	ok(gdb_parse_listen_addr("localhost:7", &a) == 0 && a.family == AF_UNSPEC &&
		   strcmp(a.host, "localhost") == 0,
	   "host names resolve later");
	ok(gdb_parse_listen_addr("[::1]:8", &a) == 0 && a.family == AF_INET6 &&
		   strcmp(a.host, "::1") == 0 && a.port == 8,
	   "[V6]:PORT");
	ok(gdb_parse_listen_addr("unix:/tmp/x.sock", &a) == 0 && a.family == AF_UNIX &&
		   strcmp(a.path, "/tmp/x.sock") == 0,
	   "unix:PATH");
	is_int(gdb_parse_listen_addr("abc", &a), -EINVAL, "non-numeric port refused");
	is_int(gdb_parse_listen_addr("host:", &a), -EINVAL, "empty port refused");
	is_int(gdb_parse_listen_addr("host:65536", &a), -EINVAL, "port 65536 refused");
	is_int(gdb_parse_listen_addr("host:12a", &a), -EINVAL, "port with junk refused");
	is_int(gdb_parse_listen_addr("::1:5", &a), -EINVAL, "bare IPv6 refused");
	is_int(gdb_parse_listen_addr("[::1]", &a), -EINVAL, "[V6] without port refused");
	is_int(gdb_parse_listen_addr("[]:5", &a), -EINVAL, "empty [] refused");
	is_int(gdb_parse_listen_addr("unix:", &a), -EINVAL, "unix: without path refused");
	char longp[200] = "unix:/";
	memset(longp + 6, 'a', 150);
	is_int(gdb_parse_listen_addr(longp, &a), -EINVAL, "unix path too long refused");
}

struct served_srv {
	struct gdb_server *srv;
	int result;
	pthread_t tid;
};

static void *serve_main(void *arg)
{
	struct served_srv *s = arg;

	s->result = gdb_server_serve(s->srv);
	return NULL;
}

static int connect_tcp(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_tcp(void)
{
	struct gdb_fake f;
	struct gdb_target t;
	struct logbook lb = { "", 0 };
	struct gdb_server_options o = { .log = log_cb, .log_ctx = &lb };
	struct served_srv s;
	struct gdb_client c = { .fd = -1 };
	int port;

	fake_init(&f);
	t = fake_target(&f);
	s.srv = gdb_server_create(&t, &o);
	is_int(gdb_server_port(s.srv), -EINVAL, "no port before listen");
	is_int(gdb_server_serve(s.srv), -EINVAL, "serve before listen: -EINVAL");
	is_int(gdb_server_listen(s.srv, "no:such:addr"), -EINVAL, "bad address: -EINVAL");
	ok(strstr(lb.text, "bad listen address 'no:such:addr'") != NULL, "bad address is named in the log");
	is_int(gdb_server_listen(s.srv, "127.0.0.1:0"), 0, "listen on 127.0.0.1:0");
	port = gdb_server_port(s.srv);
	ok(port > 0, "picked port %d", port);
	is_int(lb.warnings, 0, "no warning for loopback");
	is_int(gdb_server_listen(s.srv, "127.0.0.1:0"), -EBUSY, "second listen: -EBUSY");
	pthread_create(&s.tid, NULL, serve_main, &s);

	c.fd = connect_tcp(port);
	ok(c.fd >= 0, "first client connected");
	is_str(cl_call(&c, "?"), "T05thread:1;", "first client served");
	{
		/* A second client meanwhile is refused at once (issue 14). */
		struct gdb_client c2 = { .fd = connect_tcp(port) };
		const char *r = c2.fd >= 0 ? cl_call(&c2, "qSupported") : NULL;

		ok(r && strncmp(r, "E.rrvm: another gdb is already connected", 40) == 0,
		   "a second client gets the E. refusal (%s)", r ? r : "nothing");
		if (c2.fd >= 0)
			close(c2.fd);
		is_str(cl_call(&c, "qC"), "QC1", "the first client is still served");
	}
	cl_send_raw(&c, "$m1000,", 7);	/* leave mid-packet */
	close(c.fd);

	c = (struct gdb_client){ .fd = connect_tcp(port) };
	ok(c.fd >= 0, "second client connected after the first left mid-packet");
	is_str(cl_call(&c, "qC"), "QC1", "second client served");
	is_str(cl_call(&c, "D"), "OK", "second client detaches");
	pthread_join(s.tid, NULL);
	is_int(s.result, GDB_SERVE_DETACHED, "serve returned DETACHED");
	close(c.fd);
	ok(strstr(lb.text, "client disconnected") != NULL, "disconnect logged");
	gdb_server_destroy(s.srv);

	/* All interfaces: allowed, but warned about. */
	lb = (struct logbook){ "", 0 };
	s.srv = gdb_server_create(&t, &o);
	is_int(gdb_server_listen(s.srv, "0.0.0.0:0"), 0, "listen on 0.0.0.0:0");
	is_int(lb.warnings, 1, "one warning for a non-loopback address");
	ok(strstr(lb.text, "gdb stub listening on 0.0.0.0:") &&
		   strstr(lb.text, "anyone who can reach this port controls the guest"),
	   "warning names the address and the risk");
	gdb_server_destroy(s.srv);
}

static void test_unix(void)
{
	char dir[] = "/tmp/gdb_conn_test.XXXXXX";
	char path[100], addr[110];
	struct gdb_fake f;
	struct gdb_target t;
	struct served_srv s;
	struct gdb_client c = { .fd = -1 };
	struct stat st;
	mode_t old;
	int fd;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/gdb.sock", dir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	fake_init(&f);
	t = fake_target(&f);

	/* A regular file at the path is never replaced. */
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	close(fd);
	s.srv = gdb_server_create(&t, NULL);
	is_int(gdb_server_listen(s.srv, addr), -EEXIST, "regular file at the path: -EEXIST");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "the file is still there");
	unlink(path);

	old = umask(0);		/* the socket must be 0600 even so */
	is_int(gdb_server_listen(s.srv, addr), 0, "listen on unix:%s", path);
	umask(old);
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	   "socket mode is 0600 under umask 0 (got %03o)", (unsigned)(st.st_mode & 0777));
	is_int(gdb_server_port(s.srv), -EINVAL, "no TCP port for a unix socket");

	/* A second server must not steal a live socket. */
	struct gdb_server *other = gdb_server_create(&t, NULL);
	is_int(gdb_server_listen(other, addr), -EADDRINUSE, "live socket in use: -EADDRINUSE");
	gdb_server_destroy(other);
	ok(stat(path, &st) == 0, "live socket left in place");

	pthread_create(&s.tid, NULL, serve_main, &s);
	c.fd = connect_unix(path);
	ok(c.fd >= 0, "client connected over the unix socket");
	is_str(cl_call(&c, "m100000,2"), "9090", "memory read over the unix socket");
	is_int(cl_send(&c, "k"), '+', "k sent");
	pthread_join(s.tid, NULL);
	is_int(s.result, GDB_SERVE_KILLED, "serve returned KILLED");
	close(c.fd);
	gdb_server_destroy(s.srv);
	ok(stat(path, &st) < 0 && errno == ENOENT, "destroy removed the socket");

	/* A stale socket (nobody listening) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	s.srv = gdb_server_create(&t, NULL);
	is_int(gdb_server_listen(s.srv, addr), 0, "stale socket replaced");
	gdb_server_destroy(s.srv);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_tcp();
	test_unix();
	return tap_done();
}
