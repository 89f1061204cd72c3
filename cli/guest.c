/*
 * guest.c — starting a guest from the shared options and turning how it
 * stopped into a message and an exit status; used by run and record.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/guest.h"

int cli_guest_open_input(const struct cli_guest_opts *o)
{
	struct stat st;
	int fd;

	if (!o->serial_in || strcmp(o->serial_in, "-") == 0)
		return STDIN_FILENO;
	/* A FIFO or a terminal is a fine input stream (opening a FIFO waits
	 * for its writer, as cat does); a directory is not. */
	fd = open(o->serial_in, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_msg("--serial-in %s: %s", o->serial_in, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode)) {
		cli_msg("--serial-in %s: is a directory", o->serial_in);
		close(fd);
		return -1;
	}
	return fd;
}

int cli_guest_create(const struct cli_guest_opts *o, struct vmm **vm)
{
	struct vmm_config cfg = {
		.mem_size = o->mem_size,
		.kernel_path = o->kernel,
		.cmdline = o->cmdline,
		.trace_io = o->trace_io,
	};
	struct vmm_error err = { "" };
	int rc = vmm_create(&cfg, vm, &err);

	if (rc) {
		cli_msg("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cli_guest_report(struct vmm *vm, const struct vmm_live_result *res, const struct cli_guest_opts *o)
{
	int status = vmm_exit_status(res->reason, res->exit_value);
	const struct vmm_event *ev = &res->ev;

	switch (res->reason) {
	case VMM_STOP_GUEST_EXIT:
		if (o->verbose)
			cli_msg("guest exited with value %" PRIu32 " (status %d) after %" PRIu64 " exits",
				res->exit_value, status, ev->exits);
		break;
	case VMM_STOP_HALTED:
		if (!o->quiet)
			cli_msg("guest halted with interrupts off at rip=0x%" PRIx64 " after %" PRIu64
				" exits", ev->rip, ev->exits);
		break;
	case VMM_STOP_TIMEOUT:
		if (!o->quiet)
			cli_msg("timeout: guest still running after %g s (%" PRIu64 " exits)", o->timeout,
				ev->exits);
		break;
	case VMM_STOP_REQUESTED:
		if (!o->quiet)
			cli_msg("interrupted after %" PRIu64 " exits", ev->exits);
		break;
	case VMM_STOP_SHUTDOWN:
		cli_msg("guest crashed: triple fault after %" PRIu64 " exits; registers:", ev->exits);
		vmm_dump_regs(vm, stderr);
		break;
	case VMM_STOP_ERROR:
		cli_msg("guest crashed: %s (KVM exit %" PRIu32 ", suberror %" PRIu32 ") at rip=0x%"
			PRIx64 " after %" PRIu64 " exits; registers:", ev->u.error.what,
			ev->u.error.reason, ev->u.error.suberror, ev->rip, ev->exits);
		vmm_dump_regs(vm, stderr);
		break;
	case VMM_STOP_DEBUG:
	case VMM_STOP_HOOK:
		break;
	}
	return status;
}
