/*
 * index_units.c — the raw units the trace database counts positions with:
 * the debugger core's (debug_units_*), handed to tracedb_index through
 * struct tracedb_units, so that tracedb does not depend on debug/ and
 * goto and the database count one way.
 */
#include "cli/cli.h"
#include "debug/debug.h"
#include "tracedb/tracedb.h"

static int u_open(struct replay *r, const char *dir, void **h)
{
	struct debug *d;
	int rc = debug_units_open(r, dir, &d);

	*h = rc ? NULL : d;
	return rc;
}

static int u_step(void *h, struct replay_result *res)
{
	return debug_units_step(h, res);
}

static void u_close(void *h)
{
	debug_units_close(h);
}

const struct tracedb_units cli_index_units = { u_open, u_step, u_close };
