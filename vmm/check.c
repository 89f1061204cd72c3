/*
 * check.c — what happens when an internal invariant is broken
 * (VMM_CHECK in vmm.h, REPLAY_CHECK in replay.h): rrvm stops at once,
 * with the machine's state, instead of going on to a wrong replay.
 *
 * This is rr's ASSERT(task, cond): on in every build, and the developer
 * who hits it gets the state of the vCPU at that moment. One line names
 * the place, the condition and the values (the caller's message), then
 * vmm_dump_regs prints the machine, then the caller's extra context, then
 * abort() (a core dump where the host keeps them). Library code never
 * calls exit(), but a broken invariant is no error a caller could handle:
 * whatever it did next would build on a state rrvm cannot vouch for.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmm.h"

/* Name files from the top of the source tree, as a developer looks for
 * them: every file is compiled as this one is (from a build directory,
 * with a relative or absolute path to the sources), so the part of
 * __FILE__ before "vmm/check.c" is the prefix to drop. */
static const char *source_name(const char *file)
{
	static const char self[] = "vmm/check.c";
	size_t len = strlen(__FILE__), n = len - (sizeof(self) - 1);

	if (len >= sizeof(self) - 1 && strcmp(__FILE__ + n, self) == 0 && strncmp(file, __FILE__, n) == 0)
		return file + n;
	return file;
}

void vmm_check_fail(struct vmm *vm, void (*extra)(void *ctx, FILE *f), void *ctx,
		    const char *file, int line, const char *func, const char *cond,
		    const char *fmt, ...)
{
	/* A check that fails while the state of another is printed (in
	 * extra, say) must not recurse: the first report is the one. One
	 * flag per thread, as each vCPU thread fails on its own. */
	static _Thread_local bool failing;
	va_list ap;

	if (failing)
		abort();
	failing = true;
	/* What the guest printed up to here, before the report. */
	fflush(stdout);
	fprintf(stderr, "rrvm: internal error at %s:%d in %s: %s: ", source_name(file), line, func,
		cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (vm) {
		fprintf(stderr, "rrvm: the machine (kernel %s):\n", vmm_kernel_path(vm));
		vmm_dump_regs(vm, stderr);
	} else {
		fprintf(stderr, "rrvm: no machine at hand here: no vCPU state to show\n");
	}
	if (extra)
		extra(ctx, stderr);
	fprintf(stderr, "rrvm: this is a bug in rrvm; please report it with the lines above\n");
	fflush(stderr);
	abort();
}
