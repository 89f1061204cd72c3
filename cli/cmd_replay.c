/*
 * cmd_replay.c — `rrvm replay`: re-execute a recording, checking it as it
 * goes, with the guest's serial output on stdout as when it was recorded.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "debug/debug.h"
#include "introspect/introspect.h"
#include "replay/replay.h"

static int symbolize(void *ctx, uint64_t addr, char *buf, size_t len)
{
	return introspect_symtab_symbolize(ctx, addr, buf, len);
}

static void usage(void)
{
	printf("Usage: rrvm replay [OPTIONS] [--gdb[=ADDR]] DIR|FILE\n"
	       "Re-execute the recording in DIR exactly: the same serial output, the same exit\n"
	       "status, the same final state, with no access to the original kernel, input or\n"
	       "clock. The first difference from the recording stops the replay. A FILE made\n"
	       "by 'rrvm pack' is unpacked (checked) into a private temporary directory first.\n\n"
	       "Options:\n"
	       "      --gdb[=ADDR]  serve gdb on ADDR (default 127.0.0.1:1234; HOST:PORT, :PORT or\n"
	       "                    unix:PATH) and wait for it before the first instruction; gdb\n"
	       "                    then breaks, steps and continues through the replay (forward\n"
	       "                    only; register and memory writes are refused). `--gdb ADDR DIR`\n"
	       "                    works too\n"
	       "      --goto POSITION  replay to POSITION (EXITS[+STEPS], as gdb's 'monitor\n"
	       "                    position' prints it); with --gdb serve gdb there, else print\n"
	       "                    the position, rip and state hash there (stderr) and exit 0\n"
	       "      --checkpoint-memory SIZE  memory the checkpoints of reverse execution may\n"
	       "                    hold (default 512M; suffix K, M or G; plain numbers are MiB);\n"
	       "                    beyond it old checkpoints are thinned out\n"
	       "  -v, --verbose   print the final state hash and replay statistics (with --gdb:\n"
	       "                  also each continue)\n"
	       "  -q, --quiet     no messages from rrvm itself\n"
	       "  -h, --help      show this help and exit\n\n"
	       "Exit status: the recorded guest's status when the replay matches it; 3 when the\n"
	       "replay diverged; 5 when the recording is truncated (replayed up to its end);\n"
	       "2 for a missing or damaged recording, or a --goto POSITION that is malformed\n"
	       "or not in the recording. With --goto and no --gdb: 0 when POSITION was\n"
	       "reached, 3 or 5 when the replay diverged or the recording ended before it.\n");
}

/*
 * A packed recording (rrvm pack: a file, not a directory) is unpacked into
 * a private temporary directory (mode 0700, removed afterwards) and
 * replayed from there; replay_unpack refuses anything unsafe. *dir is the
 * directory to replay. 0, or the exit status after a message.
 */
static int unpack_if_packed(const char *arg, char *tmp, size_t len, const char **dir)
{
	struct vmm_error err = { "" };
	const char *base = getenv("TMPDIR");
	struct stat st;

	*dir = arg;
	*tmp = '\0';
	if (stat(arg, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(tmp, len, "%s/rrvm-replay.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp)) {
		cli_msg("%s: %s", tmp, strerror(errno));
		*tmp = '\0';
		return 1;
	}
	if (replay_unpack(arg, tmp, &err)) {
		cli_msg("%s", err.msg);
		rmdir(tmp);
		*tmp = '\0';
		return CLI_EXIT_USAGE;
	}
	*dir = tmp;
	return 0;
}

static void stop_replay(void *ctx)
{
	replay_interrupt(ctx);
}

static void log_msg(void *ctx, const char *msg)
{
	cli_msg("%s", msg);
}

/* SIGINT/SIGTERM to rrvm: stop a replay running for gdb; while gdb holds
 * it, end. */
static void stop_debug(void *ctx)
{
	if (!debug_interrupt(ctx))
		_exit(130);
}

/* `replay --gdb`: serve gdb; *r becomes the replay the core ends with
 * (gdb's `run` opens the recording again). 0 with *res, or an exit status. */
/* What --gdb and --goto ask of the debugger core. */
struct replay_debug_opts {
	const char *addr;               /* --gdb (NULL: no gdb) */
	const char *goto_pos;           /* --goto (NULL: the start) */
	uint64_t ckpt_memory;
	bool quiet, verbose;
};

/* --goto without --gdb: where the replay got, or why not. 0, or the
 * exit status. */
static int goto_status(struct debug *d, int rc, struct replay_result *res)
{
	char where[256];

	if (rc == -EINVAL || rc == -ERANGE)
		return CLI_EXIT_USAGE;
	if (rc) {
		debug_replay_result(d, res);
		return res->stop == REPLAY_STOP_TRUNCATED ? REPLAY_EXIT_TRUNCATED
		       : res->stop == REPLAY_STOP_DIVERGED ? REPLAY_EXIT_DIVERGED : 1;
	}
	if (debug_replay_describe(d, where, sizeof(where))) {
		cli_msg("--goto: cannot read the state at %s", where);
		return 1;
	}
	cli_msg("%s", where);
	return 0;
}

/* `replay --gdb` or `--goto`: serve gdb (after going to --goto), or only
 * go there; *r becomes the replay the core ends with (gdb's `run` opens the
 * recording again). 0 with *res, or an exit status. */
static int replay_gdb(struct replay **r, const char *dir, const struct replay_options *ro,
		      const struct replay_debug_opts *o, struct replay_result *res,
		      struct replay_stats *st)
{
	struct debug_replay_config c = {
		.r = *r, .dir = dir, .ropts = ro, .addr = o->addr ? o->addr : "",
		.quiet = o->quiet, .verbose = o->verbose, .log = log_msg,
		.checkpoint_memory = o->ckpt_memory,
	};
	struct debug *d;
	enum debug_end end;
	int rc;

	if (debug_create_replay(&c, &d)) {
		cli_msg("gdb: out of memory");
		return 1;
	}
	*r = NULL;              /* the core's now */
	cli_on_interrupt(stop_debug, d);
	if (o->goto_pos) {
		rc = debug_replay_goto(d, o->goto_pos);
		if (rc || !o->addr) {
			rc = goto_status(d, rc, res);
			cli_on_interrupt(NULL, NULL);
			replay_get_stats(debug_replay(d), st);
			debug_destroy(d);
			return rc;
		}
	}
	end = debug_serve(d);
	cli_on_interrupt(NULL, NULL);
	debug_replay_result(d, res);
	replay_get_stats(debug_replay(d), st);
	debug_destroy(d);
	if (end == DEBUG_END_BAD_ADDR)
		return CLI_EXIT_USAGE;
	return end == DEBUG_END_FAILED ? 1 : 0;
}

int cli_cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, 0, 'v' }, { "quiet", no_argument, 0, 'q' },
		{ "gdb", optional_argument, 0, 'g' },
		{ "goto", required_argument, 0, 'G' },
		{ "checkpoint-memory", required_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct replay_debug_opts dopt = { 0 };
	struct replay *r = NULL;
	struct introspect_symtab *syms = NULL;
	struct replay_result res;
	struct replay_stats st;
	struct replay_options ro = { .symbolize = symbolize };
	struct vmm_error err = { "" };
	bool verbose = false, quiet = false, gdb = false;
	const char *gdb_addr = NULL, *dir;
	char unpacked[4200];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'v':
			verbose = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'g':
			gdb = true;
			gdb_addr = optarg;
			break;
		case 'G':
			dopt.goto_pos = optarg;
			break;
		case 'M':
			if (cli_parse_size(optarg, &dopt.ckpt_memory) < 0 || !dopt.ckpt_memory)
				return cli_usage_error("replay", "--checkpoint-memory: '%s' is not a "
						       "size (e.g. 64M, 1G)", optarg);
			break;
		default:
			return cli_usage_error("replay", "bad option");
		}
	}
	/* `--gdb ADDR DIR`: with two operands the first is the address. */
	if (gdb && !gdb_addr && argc - optind == 2)
		gdb_addr = argv[optind++];
	if (gdb && !gdb_addr)
		gdb_addr = DEBUG_DEFAULT_ADDR;
	if (optind != argc - 1)
		return cli_usage_error("replay", optind >= argc ? "missing DIR" : "too many arguments");
	rc = unpack_if_packed(argv[optind], unpacked, sizeof(unpacked), &dir);
	if (rc)
		return rc;
	{
		/* Divergence messages name the function, from the recorded
		 * kernel's symbols (none if it has no symbol table). */
		char path[4096], why[256];

		snprintf(path, sizeof(path), "%s/kernel", dir);
		if (introspect_symtab_load_file(path, &syms, why, sizeof(why)) == 0)
			ro.symbolize_ctx = syms;
		else
			ro.symbolize = NULL;
		/* For benchmarks: the search without free-running stretches. */
		ro.plain_search = getenv("RRVM_PLAIN_SEARCH") != NULL;
		if (replay_open(dir, &ro, &r, &err)) {
			cli_msg("%s", err.msg);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (gdb || dopt.goto_pos) {
		dopt.addr = gdb ? gdb_addr : NULL;
		dopt.quiet = quiet;
		dopt.verbose = verbose;
		rc = replay_gdb(&r, dir, &ro, &dopt, &res, &st);
		if (rc || !gdb)
			goto out;       /* --goto alone: its status is the result */
	} else {
		cli_on_interrupt(stop_replay, r);
		if (replay_run(r, &res)) {
			rc = 1;
			goto out;
		}
		replay_get_stats(r, &st);
	}
	switch (res.stop) {
	case REPLAY_STOP_END:
		rc = res.exit_status;
		if (verbose) {
			cli_msg("%s", res.msg);
			cli_msg("final state hash 0x%016" PRIx64, res.state_hash);
		}
		break;
	case REPLAY_STOP_DIVERGED:
		cli_msg("%s", res.msg);
		rc = REPLAY_EXIT_DIVERGED;
		break;
	case REPLAY_STOP_TRUNCATED:
		cli_msg("%s", res.msg);
		rc = REPLAY_EXIT_TRUNCATED;
		break;
	case REPLAY_STOP_CORRUPT:
		cli_msg("%s", res.msg);
		rc = CLI_EXIT_USAGE;
		break;
	case REPLAY_STOP_INTERRUPTED:
		if (!quiet)
			cli_msg("%s", res.msg);
		rc = 130;
		break;
	default:
		cli_msg("%s", res.msg);
		rc = 1;
		break;
	}
	if (verbose)
		cli_msg("asynchronous points %" PRIu64 ", breakpoint hits %" PRIu64 " (max %" PRIu64
			" for one point), full fingerprint checks %" PRIu64 ", fast searches %" PRIu64
			", free runs %" PRIu64 ", rollbacks %" PRIu64, st.async_points, st.bp_hits,
			st.bp_hits_max, st.fp_full_checks, st.snapshots, st.free_runs, st.rollbacks);
out:
	cli_on_interrupt(NULL, NULL);
	replay_close(r);
	introspect_symtab_free(syms);
	if (*unpacked)
		replay_recording_remove(unpacked);
	return rc;
}
