/*
 * cmd_run.c — `rrvm run`: boot a kernel and run it live, no recording;
 * with --gdb, under the debugger core (debug/debug.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/guest.h"
#include "debug/debug.h"

static void usage(void)
{
	printf("Usage: rrvm run [OPTIONS] KERNEL [-- ARGS...]\n"
	       "Boot the Multiboot kernel KERNEL and run it. Its COM1 output goes to standard\n"
	       "output; ARGS become its command line (after the kernel's own path, as QEMU\n"
	       "and GRUB do).\n\nOptions:\n" CLI_GUEST_OPTS_HELP);
}

static void stop_live(void *ctx)
{
	vmm_live_request_stop(ctx);
}

/* What booting the guest needs, again for gdb's `run`. */
struct boot {
	const struct cli_guest_opts *o;
	int in_fd;
};

/* The machine and its live driver, with the live clock installed. */
static int boot(struct boot *b, struct vmm **vm, struct vmm_live **live)
{
	struct vmm_live_options lo = {
		.serial_in_fd = b->in_fd,
		.timeout_ns = (uint64_t)(b->o->timeout * 1e9),
		.poll_latency_ns = CLI_POLL_LATENCY_NS,
		.defer_cpl3 = true,
	};
	struct vmm_error err = { "" };
	int rc = cli_guest_create(b->o, vm);

	if (rc)
		return rc;
	if (vmm_live_create(*vm, &lo, NULL, live, &err)) {
		cli_msg("%s", err.msg);
		vmm_destroy(*vm);
		*vm = NULL;
		return 1;
	}
	vmm_set_clock(*vm, (struct vmm_clock){ vmm_live_clock, *live });
	return 0;
}

/* gdb's `run`: a fresh boot of the same kernel and arguments. */
static int reboot(void *ctx, struct vmm **vm, struct vmm_live **live)
{
	struct vmm *nvm = NULL;
	struct vmm_live *nlive = NULL;

	if (boot(ctx, &nvm, &nlive))
		return -EIO;
	vmm_live_destroy(*live);
	vmm_destroy(*vm);
	*vm = nvm;
	*live = nlive;
	return 0;
}

static void log_msg(void *ctx, const char *msg)
{
	cli_msg("%s", msg);
}

/* SIGINT/SIGTERM to rrvm: stop a guest running for gdb; while gdb holds
 * it, end. */
static void stop_debug(void *ctx)
{
	if (!debug_interrupt(ctx))
		_exit(130);
}

static int run_gdb(const struct cli_guest_opts *o, struct boot *b, struct vmm **vm,
		   struct vmm_live **live, struct vmm_live_result *res)
{
	struct debug_live_config c = {
		.vm = *vm, .live = *live, .kernel = o->kernel, .addr = o->gdb,
		.quiet = o->quiet, .verbose = o->verbose,
		.reboot = reboot, .reboot_ctx = b, .log = log_msg,
	};
	struct debug *d;
	enum debug_end end;

	if (debug_create_live(&c, &d)) {
		cli_msg("gdb: out of memory");
		return 1;
	}
	cli_on_interrupt(stop_debug, d);
	end = debug_serve(d);
	cli_on_interrupt(NULL, NULL);
	/* gdb's `run` may have replaced the machine. */
	*vm = debug_vm(d);
	*live = debug_live(d);
	debug_live_result(d, res);
	debug_destroy(d);
	if (end == DEBUG_END_BAD_ADDR)
		return CLI_EXIT_USAGE;
	return end == DEBUG_END_FAILED ? 1 : 0;
}

int cli_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_GUEST_LONGOPTS, { 0, 0, 0, 0 } };
	struct cli_guest_opts o;
	struct vmm *vm = NULL;
	struct vmm_live *live = NULL;
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	struct boot b;
	int c, rc;

	cli_guest_opts_init(&o);
	b = (struct boot){ &o, -1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qvh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return 0;
		}
		if (c == '?')
			return cli_usage_error("run", "bad option");
		rc = cli_guest_opt(&o, c, optarg);
		if (rc)
			return rc;
	}
	rc = cli_guest_operands(&o, "run", argc, argv, optind);
	if (rc)
		return rc;
	b.in_fd = cli_guest_open_input(&o);
	if (b.in_fd < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	rc = boot(&b, &vm, &live);
	if (rc)
		goto out;
	if (o.gdb) {
		/* Stopped before the first instruction until gdb says go. */
		rc = run_gdb(&o, &b, &vm, &live, &res);
		if (rc)
			goto out;
	} else {
		cli_on_interrupt(stop_live, live);
		if (vmm_live_run(live, &res, &err)) {
			cli_msg("%s", err.msg);
			rc = 1;
			goto out;
		}
	}
	rc = cli_guest_report(vm, &res, &o);
out:
	cli_on_interrupt(NULL, NULL);
	if (b.in_fd > STDIN_FILENO)
		close(b.in_fd);
	vmm_live_destroy(live);
	vmm_destroy(vm);
	cli_guest_opts_free(&o);
	return rc;
}
