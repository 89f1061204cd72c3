/*
 * cmd_run.c — `rrvm run`: boot a kernel and run it live, no recording.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/gdb_common.h"
#include "cli/guest.h"

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

int cli_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_GUEST_LONGOPTS, { 0, 0, 0, 0 } };
	struct cli_guest_opts o;
	struct vmm *vm = NULL;
	struct vmm_live *live = NULL;
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	int c, rc, in_fd = -1;

	cli_guest_opts_init(&o);
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
	rc = cli_guest_create(&o, &vm);
	if (rc)
		goto out;
	in_fd = cli_guest_open_input(&o);
	if (in_fd < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	{
		struct vmm_live_options lo = {
			.serial_in_fd = in_fd,
			.timeout_ns = (uint64_t)(o.timeout * 1e9),
			.poll_latency_ns = CLI_POLL_LATENCY_NS,
			.defer_cpl3 = true,
		};
		if (vmm_live_create(vm, &lo, NULL, &live, &err)) {
			cli_msg("%s", err.msg);
			rc = 1;
			goto out;
		}
	}
	vmm_set_clock(vm, (struct vmm_clock){ vmm_live_clock, live });
	if (o.gdb) {
		/* Stopped before the first instruction until gdb says go. */
		rc = cli_gdb_live(vm, live, &o, &res);
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
	if (in_fd > STDIN_FILENO)
		close(in_fd);
	vmm_live_destroy(live);
	vmm_destroy(vm);
	cli_guest_opts_free(&o);
	return rc;
}
