/*
 * ptview.c — test driver for the introspection view on a real guest, without
 * gdb (not installed).
 *
 *   ptview [OPTIONS] KERNEL [ARGS...]
 *     Boot KERNEL under vmm's live driver. Whenever the guest finishes an
 *     annotation "stage N" on the rrvm port (0xe8) — samples/paging.elf does
 *     at each of its stages — stop right after that `out`, refresh the view
 *     and run the -c commands, printing
 *         === stage N exits E
 *         --- COMMAND
 *         <the view's output>
 *     then go on. At the end: "=== end REASON status S exits E".
 *       -c CMD      a view command (pt, translate VA, idt, ...); repeatable
 *       -s N        stop at stage N only (repeatable; default every stage)
 *       -d FILE     write the guest's debug console (port 0xe9) to FILE
 *       -m MIB      guest RAM (default 64)
 *       -t SECONDS  give up after this long (default 120)
 *       -E          also run the commands when the guest has stopped for
 *                   good (after "=== end ...")
 *       -b VA:SIZE  at each stop, benchmark the view: translations per
 *                   second over random addresses in [VA, VA+SIZE), and the
 *                   time of a full `pt` with a cold and a warm shadow
 *     Guest serial output goes to stderr.
 *
 *   ptview --stages DIR
 *     Replay the recording DIR and print "stage N exits E" for each stage
 *     annotation: the positions to give pt-diff.
 *
 *   ptview --ptdiff DIR ARGS
 *     Print what debug_ptdiff(DIR, ARGS) answers, and "rc=N".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "debug/internal.h"
#include "introspect/view.h"
#include "replay/replay.h"

#define MAX_CMDS 64
#define MAX_STAGES 16

struct ptview {
	const char *cmds[MAX_CMDS];
	int ncmds;
	int stages[MAX_STAGES];
	int nstages;
	FILE *debugcon;
	struct vmm_live *live;
	struct replay *replay;
	char annot[256];
	int pending;                    /* stage annotated in this step, or -1 */
	int stop_stage;                 /* the stop requested, or -1 */
	uint64_t stop_exits;
	uint64_t bench_va, bench_size;
	int at_end;
};

static void out_stdout(void *ctx, const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
}

static void out_count(void *ctx, const char *s, size_t len)
{
	size_t *n = ctx;

	for (size_t i = 0; i < len; i++)
		*n += s[i] == '\n';
}

/* The machine's output: annotations are how the guest says where it is. */
static void guest_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct ptview *p = ctx;
	int n;

	switch (stream) {
	case VMM_OUT_SERIAL:
		if (!p->replay)
			fwrite(buf, 1, len, stderr);
		break;
	case VMM_OUT_DEBUGCON:
		if (p->debugcon)
			fwrite(buf, 1, len, p->debugcon);
		break;
	case VMM_OUT_ANNOTATION:
		snprintf(p->annot, sizeof(p->annot), "%.*s", (int)len, (const char *)buf);
		if (sscanf(p->annot, "stage %d", &n) == 1 && n >= 0)
			p->pending = n;
		break;
	}
}

static int wanted(const struct ptview *p, int stage)
{
	if (!p->nstages)
		return 1;
	for (int i = 0; i < p->nstages; i++)
		if (p->stages[i] == stage)
			return 1;
	return 0;
}

static int on_event(void *ctx, struct vmm *vm, const struct vmm_event *ev)
{
	struct ptview *p = ctx;

	if (p->pending >= 0) {
		if (wanted(p, p->pending)) {
			p->stop_stage = p->pending;
			p->stop_exits = ev->exits;
			/* Stops before the next guest instruction, after this
			 * step's bookkeeping (vmm_live_run then returns
			 * VMM_STOP_REQUESTED and can be called again). */
			vmm_live_request_stop(p->live);
		}
		p->pending = -1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *backend(void)
{
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return "kvm_pvm (paravirtual, shadow paging; CPL0 code emulated)";
	if (access("/sys/module/kvm_intel", F_OK) == 0)
		return "kvm_intel (VMX)";
	if (access("/sys/module/kvm_amd", F_OK) == 0)
		return "kvm_amd (SVM)";
	return "unknown KVM backend";
}

/* Best of three runs of a command into a line-counting sink. */
static double time_cmd(struct introspect_view *v, const char *cmd, int invalidate, size_t *lines)
{
	double best = 1e9;

	for (int i = 0; i < 3; i++) {
		struct introspect_out o;
		double t;

		*lines = 0;
		introspect_out_callback(&o, out_count, lines);
		if (invalidate)
			introspect_view_invalidate(v);
		t = now();
		introspect_view_command(v, cmd, &o);
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static void bench(struct ptview *p, struct introspect_view *v, struct vmm *vm)
{
	struct vmm_sregs sr;
	double t_sregs;
	const unsigned n = 200000;
	uint64_t x = 88172645463325252ull, sum = 0, pa, fails = 0;
	double t, t_tr, t_cold, t_warm, t_refresh;
	size_t lines;
	char why[128];

	printf("backend: %s\n", backend());
	t = now();
	for (unsigned i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (introspect_view_translate(v, p->bench_va + x % p->bench_size, &pa, why, sizeof(why)))
			fails++;
		sum += pa;
	}
	t_tr = now() - t;
	printf("translate: %.0f translations/s through the view (%u random addresses in "
	       "[0x%" PRIx64 ", 0x%" PRIx64 "), %" PRIu64 " unmapped; vCPU registers read each time)\n",
	       n / t_tr, n, p->bench_va, p->bench_va + p->bench_size, fails);
	t = now();
	for (unsigned i = 0; i < n / 10; i++)
		if (vmm_get_sregs(vm, &sr))
			fails++;
	t_sregs = (now() - t) / (n / 10);
	printf("  of which reading the control registers (KVM_GET_SREGS): %.2f us of %.2f us per "
	       "translation\n", t_sregs * 1e6, t_tr / n * 1e6);
	t_cold = time_cmd(v, "pt", 1, &lines);
	t_warm = time_cmd(v, "pt", 0, &lines);
	t = now();
	for (int i = 0; i < 100; i++)
		introspect_view_refresh(v);
	t_refresh = (now() - t) / 100;
	printf("pt: %.2f ms with a cold shadow (every table read from guest RAM), %.2f ms warm "
	       "(cold/warm %.1fx), %zu lines\n", t_cold * 1e3, t_warm * 1e3, t_cold / t_warm, lines);
	printf("refresh (dirty log read, nothing changed): %.1f us\n", t_refresh * 1e6);
	if (sum == 42)
		printf("\n");   /* keep the loop from being optimised away */
}

static void at_stop(struct ptview *p, struct introspect_view *v, struct vmm *vm)
{
	struct introspect_out o;

	introspect_view_refresh(v);
	for (int i = 0; i < p->ncmds; i++) {
		printf("--- %s\n", p->cmds[i]);
		introspect_out_callback(&o, out_stdout, NULL);
		if (!introspect_view_command(v, p->cmds[i], &o))
			printf("(not a view command)\n");
	}
	if (p->bench_size)
		bench(p, v, vm);
	fflush(stdout);
}

static int run_live(struct ptview *p, const char *kernel, char *cmdline, uint64_t mem_mib,
		    double timeout)
{
	struct vmm_config cfg = { .mem_size = mem_mib << 20, .kernel_path = kernel, .cmdline = cmdline,
				  .output = { guest_output, p } };
	struct vmm_live_hooks hooks = { .ctx = p, .on_event = on_event };
	/* As `rrvm run` drives a guest (cli/cmd_run.c). */
	struct vmm_live_options lo = { .serial_in_fd = -1, .timeout_ns = (uint64_t)(timeout * 1e9),
				       .poll_latency_ns = 500000, .defer_cpl3 = true };
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	struct introspect_view *v = NULL;
	struct vmm *vm = NULL;
	int rc = 1;

	if (vmm_create(&cfg, &vm, &err)) {
		fprintf(stderr, "ptview: %s\n", err.msg);
		return 1;
	}
	v = introspect_view_new(vm, kernel);
	if (!v || vmm_live_create(vm, &lo, &hooks, &p->live, &err)) {
		fprintf(stderr, "ptview: %s\n", v ? err.msg : "out of memory");
		goto out;
	}
	vmm_set_clock(vm, (struct vmm_clock){ vmm_live_clock, p->live });
	for (;;) {
		p->stop_stage = -1;
		if (vmm_live_run(p->live, &res, &err)) {
			fprintf(stderr, "ptview: %s\n", err.msg);
			goto out;
		}
		if (res.reason != VMM_STOP_REQUESTED || p->stop_stage < 0)
			break;
		printf("=== stage %d exits %" PRIu64 "\n", p->stop_stage, p->stop_exits);
		at_stop(p, v, vm);
	}
	printf("=== end %s status %d exits %" PRIu64 "\n", vmm_stop_reason_name(res.reason),
	       vmm_exit_status(res.reason, res.exit_value), vmm_exits(vm));
	if (p->at_end)
		at_stop(p, v, vm);
	rc = 0;
out:
	vmm_live_destroy(p->live);
	introspect_view_free(v);
	vmm_destroy(vm);
	return rc;
}

static void on_step(void *ctx, struct vmm *vm, const struct vmm_event *ev)
{
	struct ptview *p = ctx;

	if (p->pending >= 0) {
		printf("stage %d exits %" PRIu64 "\n", p->pending, ev->exits);
		p->pending = -1;
	}
}

static int run_stages(struct ptview *p, const char *dir)
{
	struct replay_options ro = { .output = { guest_output, p } };
	struct replay_observer obs = { .ctx = p, .on_step = on_step };
	struct replay_result res;
	struct vmm_error err = { "" };

	if (replay_open(dir, &ro, &p->replay, &err)) {
		fprintf(stderr, "ptview: %s\n", err.msg);
		return 1;
	}
	if (replay_set_observer(p->replay, &obs) ||
	    replay_run(p->replay, &res) || res.stop != REPLAY_STOP_END) {
		fprintf(stderr, "ptview: replay of %s stopped: %s\n", dir, res.msg);
		replay_close(p->replay);
		return 1;
	}
	printf("end exits %" PRIu64 "\n", res.exits);
	replay_close(p->replay);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ptview [-c CMD]... [-s STAGE]... [-E] [-d FILE] [-m MIB] [-t SECONDS] "
			"[-b VA:SIZE] KERNEL [ARGS...]\n"
			"       ptview --stages DIR\n"
			"       ptview --ptdiff DIR ARGS\n");
	return 2;
}

static void no_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
}

static void log_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

/* pt-diff as `monitor pt-diff` runs it: on the debugger's timeline. */
static int ptdiff(const char *dir, const char *args, struct introspect_out *o)
{
	struct replay_options ro = { .output = { no_output, NULL } };
	struct vmm_error err = { "" };
	struct replay *r;
	struct debug *d;
	int rc = replay_open(dir, &ro, &r, &err);

	if (rc) {
		introspect_printf(o, "pt-diff: %s\n", err.msg);
		return rc;
	}
	struct debug_replay_config c = { .r = r, .dir = dir, .ropts = &ro, .addr = "",
					 .quiet = true, .log = log_stderr };
	rc = debug_create_replay(&c, &d);
	if (rc) {
		replay_close(r);
		return rc;
	}
	rc = debug_ptdiff(d, args, o);
	debug_destroy(d);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stages", required_argument, 0, 'S' },
		{ "ptdiff", required_argument, 0, 'P' },
		{ 0, 0, 0, 0 }
	};
	struct ptview p = { .pending = -1, .stop_stage = -1 };
	const char *stages_dir = NULL, *ptdiff_dir = NULL, *debugcon = NULL;
	uint64_t mem_mib = 64;
	double timeout = 120;
	char cmdline[4096];
	size_t used;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+c:s:d:m:t:b:E", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (p.ncmds == MAX_CMDS)
				return usage();
			p.cmds[p.ncmds++] = optarg;
			break;
		case 's':
			if (p.nstages == MAX_STAGES)
				return usage();
			p.stages[p.nstages++] = atoi(optarg);
			break;
		case 'd':
			debugcon = optarg;
			break;
		case 'm':
			mem_mib = strtoull(optarg, NULL, 0);
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'b':
			if (sscanf(optarg, "%" SCNx64 ":%" SCNx64, &p.bench_va, &p.bench_size) != 2 ||
			    !p.bench_size)
				return usage();
			break;
		case 'E':
			p.at_end = 1;
			break;
		case 'S':
			stages_dir = optarg;
			break;
		case 'P':
			ptdiff_dir = optarg;
			break;
		default:
			return usage();
		}
	}
	if (stages_dir)
		return optind == argc ? run_stages(&p, stages_dir) : usage();
	if (ptdiff_dir) {
		struct introspect_out o;

		if (optind != argc - 1)
			return usage();
		introspect_out_callback(&o, out_stdout, NULL);
		rc = ptdiff(ptdiff_dir, argv[optind], &o);
		printf("rc=%d\n", rc);
		return 0;
	}
	if (optind >= argc)
		return usage();
	/* The command line as QEMU and GRUB pass it: the kernel's path first. */
	used = (size_t)snprintf(cmdline, sizeof(cmdline), "%s", argv[optind]);
	for (int i = optind + 1; i < argc && used < sizeof(cmdline); i++)
		used += (size_t)snprintf(cmdline + used, sizeof(cmdline) - used, " %s", argv[i]);
	if (debugcon) {
		p.debugcon = fopen(debugcon, "w");
		if (!p.debugcon) {
			fprintf(stderr, "ptview: %s: %s\n", debugcon, strerror(errno));
			return 1;
		}
	}
	rc = run_live(&p, argv[optind], cmdline, mem_mib, timeout);
	if (p.debugcon)
		fclose(p.debugcon);
	return rc;
}
