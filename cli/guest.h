/*
 * guest.h — helpers shared by the commands that start a guest (run, record).
 */
#ifndef RRVM_CLI_GUEST_H
#define RRVM_CLI_GUEST_H

#include "cli/cli.h"
#include "replay/replay.h"
#include "vmm/vmm.h"

/* The serial input fd for the options (stdin by default), or -1 after a
 * message. */
int cli_guest_open_input(const struct cli_guest_opts *o);
/* Create the machine; on failure prints the error and returns 2. */
int cli_guest_create(const struct cli_guest_opts *o, struct vmm **vm);
/* Print how the guest stopped (crash dumps included) and return the exit
 * status for it. */
int cli_guest_report(struct vmm *vm, const struct vmm_live_result *res, const struct cli_guest_opts *o);

/* Record one run into ro->dir (kernel, cmdline, memory from o); fills m.
 * Returns the guest's exit status, 2 when the recording could not start
 * (bad input, the directory is taken), or REPLAY_EXIT_INCOMPLETE when it
 * could not be written completely. */
int cli_record_run(const struct cli_guest_opts *o, struct replay_record_options *ro, int in_fd,
		   struct replay_manifest *m);

/* Defaults of the live driver shared by run and record. */
#define CLI_POLL_LATENCY_NS 500000ull

#endif
