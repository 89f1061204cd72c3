/*
 * gdbfake.c — serves the fake target of tests/unit/gdb_fake.h over the
 * real gdb stub, for tests that drive /usr/bin/gdb against it.
 *
 *   gdbfake [--reverse] [--run-forever] [--step-limit N] [--exit-status S]
 *           [--exec ELF] [ADDR]
 *
 * ADDR is any address gdb_server_listen accepts (default 127.0.0.1:0).
 * Once listening it prints "PORT <n>" (TCP) or "LISTENING" (Unix) on
 * stdout. --step-limit N makes continue stop after N steps (default
 * 100000); --run-forever makes it run until interrupted; --exit-status S
 * makes the target exit with S at the step limit; --exec names the ELF
 * gdb may load through the stub (the guest kernel, for a real target). Stub messages go to
 * stderr, with a "gdbfake: resume HOW" line each time the target runs;
 * when serve() returns it prints "END detached|killed|exited" on
 * stdout and the counts of interrupts, kills and detaches, then exits 0.
 */
#include "config.h"

#include <stdlib.h>

#include "tests/unit/gdb_fake.h"

static void log_stderr(void *ctx, enum gdb_log_level level, const char *msg)
{
	static const char *const names[] = { "info", "warning", "error" };

	fprintf(stderr, "gdbfake: %s: %s\n", names[level], msg);
}

/* Say on stderr when the target starts running, so a test knows when to Ctrl-C. */
static int announced_resume(void *ctx, enum gdb_resume how, struct gdb_stop *stop)
{
	static const char *const names[] = { "continue", "step", "reverse-continue", "reverse-step" };

	fprintf(stderr, "gdbfake: resume %s\n", names[how]);
	return fake_resume(ctx, how, stop);
}

static int usage(void)
{
	fprintf(stderr, "usage: gdbfake [--reverse] [--run-forever] [--step-limit N] "
			"[--exit-status S] [--exec ELF] [ADDR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct gdb_fake fake;
	struct gdb_server_options opts = { .log = log_stderr };
	const char *addr = "127.0.0.1:0", *exec_file = NULL;
	struct gdb_target target;
	struct gdb_target_ops ops;
	struct gdb_server *srv;
	int r;

	fake_init(&fake);
	fake.step_limit = 100000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reverse") == 0) {
			fake.can_reverse = true;
		} else if (strcmp(argv[i], "--run-forever") == 0) {
			fake.step_limit = 0;
		} else if (strcmp(argv[i], "--step-limit") == 0 && i + 1 < argc) {
			fake.step_limit = strtol(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--exit-status") == 0 && i + 1 < argc) {
			fake.exit_at_limit = true;
			fake.exit_status = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--exec") == 0 && i + 1 < argc) {
			exec_file = argv[++i];
		} else if (argv[i][0] == '-') {
			return usage();
		} else {
			addr = argv[i];
		}
	}
	target = fake_target(&fake);
	ops = fake_ops;
	ops.resume = announced_resume;
	target.ops = &ops;
	target.exec_file = exec_file;
	srv = gdb_server_create(&target, &opts);
	if (!srv) {
		perror("gdbfake: gdb_server_create");
		return 1;
	}
	r = gdb_server_listen(srv, addr);
	if (r) {
		fprintf(stderr, "gdbfake: cannot listen on %s: %s\n", addr, strerror(-r));
		gdb_server_destroy(srv);
		return 1;
	}
	if (gdb_server_port(srv) > 0)
		printf("PORT %d\n", gdb_server_port(srv));
	else
		printf("LISTENING\n");
	fflush(stdout);

	r = gdb_server_serve(srv);
	printf("END %s\n", r == GDB_SERVE_DETACHED ? "detached"
			   : r == GDB_SERVE_KILLED ? "killed"
			   : r == GDB_SERVE_EXITED ? "exited" : strerror(-r));
	printf("interrupts %d kills %d detaches %d monitors %d\n", fake.interrupts, fake.kills,
	       fake.detaches, fake.monitors);
	gdb_server_destroy(srv);
	return r > 0 ? 0 : 1;
}
