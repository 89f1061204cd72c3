/*
 * monitor_ptdiff.h — `monitor pt-diff POSITION_A POSITION_B` on a recording:
 * which mappings were added, removed or changed between two positions.
 *
 * Positions are exit counts (vmm_exits: synchronous exits since reset). The
 * answer comes from a second, private replay of the same recording run
 * forward to each position (the one gdb is attached to is not disturbed);
 * once checkpoints exist this can start from the nearest one instead.
 */
#ifndef RRVM_CLI_MONITOR_PTDIFF_H
#define RRVM_CLI_MONITOR_PTDIFF_H

#include "introspect/introspect.h"

#define CLI_MONITOR_PTDIFF_HELP                                                              \
	"pt-diff [--ad] POS_A POS_B  mappings added (+), removed (-) and changed (~) from exit\n" \
	"                            count POS_A to POS_B of the recording; --ad: count changes\n" \
	"                            of the accessed/dirty bits too\n"

/* args: "[--ad] POS_A POS_B". Writes the diff (or a message naming what is
 * wrong) to out. Returns 0, -EINVAL for bad arguments, -ERANGE for a
 * position past the end of the recording, or another -errno when the
 * recording cannot be replayed to the position. */
int cli_monitor_ptdiff(const char *recording_dir, const char *args, struct introspect_out *out);

#endif
