/*
 * check_test.c — VMM_CHECK (vmm.h, vmm/check.c): a broken internal
 * invariant stops rrvm with the place, the condition, the values and the
 * machine's state, in every build.
 *
 * Each failing check runs in a child process (child_run.h) that builds a
 * real machine from samples/hello.elf and runs it to its first exit; the
 * parent wants the child killed by SIGABRT, the line
 *   rrvm: internal error at tests/unit/check_test.c:LINE in FUNC: COND: MSG
 * with the line the child names, and the register dump after it. Also:
 * without a machine (vm NULL) the report says so; with a vCPU whose fd is
 * bad the dump says what it cannot read and the child still aborts (no
 * second crash); and a check that holds costs nothing and evaluates no
 * argument. Needs /dev/kvm and the hello sample, else SKIP.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/child_run.h"
#include "tests/unit/tap.h"
#include "vmm/internal.h"

static char kernel[4200];

static void discard(void *ctx, enum vmm_output_stream s, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)s, (void)buf, (void)len;
}

/* hello.elf up to its first synchronous exit (the child's: KVM ties the VM
 * to the process that made it). Exits the child on failure. */
static struct vmm *machine_at_first_exit(void)
{
	struct vmm_config cfg = { .mem_size = 32ull << 20, .kernel_path = kernel,
				  .output = { discard, NULL } };
	struct vmm_error err = { "" };
	struct vmm_event ev;
	struct vmm *vm;

	if (vmm_create(&cfg, &vm, &err)) {
		printf("vmm_create: %s\n", err.msg);
		_exit(3);
	}
	do {
		if (vmm_step(vm, &ev, &err)) {
			printf("vmm_step: %s\n", err.msg);
			_exit(3);
		}
	} while (vmm_exits(vm) == 0 && ev.kind != VMM_EV_SHUTDOWN && ev.kind != VMM_EV_ERROR);
	return vm;
}

/* A failing check on a real machine. The child prints the line of the
 * check, which the parent looks for in the report. */
static void fail_with_machine(void *arg)
{
	struct vmm *vm = machine_at_first_exit();
	uint64_t want = 0;

	(void)arg;
	printf("LINE %d\n", __LINE__ + 1);
	VMM_CHECK(vm, vmm_exits(vm) == want, "exit count %" PRIu64 ", want %" PRIu64, vmm_exits(vm), want);
	printf("went on after a failed check\n");
}

static void fail_without_machine(void *arg)
{
	int two = 2;

	(void)arg;
	printf("LINE %d\n", __LINE__ + 1);
	VMM_CHECK(NULL, two + two == 5, "%d + %d is %d", two, two, two + two);
}

/* The vCPU unusable (as after a host failure): the dump must say so and
 * the check still end in abort(), not in a crash of the dump. */
static void fail_with_bad_vcpu(void *arg)
{
	struct vmm *vm = machine_at_first_exit();

	(void)arg;
	vm->vcpu_fd = 1000;     /* no such fd */
	vm->regs_synced = vm->state_synced = false;
	printf("LINE %d\n", __LINE__ + 1);
	VMM_CHECK(vm, vm->vcpu_fd != 1000, "vCPU fd %d", vm->vcpu_fd);
}

/* A check that holds: nothing happens, no argument is evaluated. */
static int evaluated;
static int count(void)
{
	return ++evaluated;
}
static void pass(void *arg)
{
	struct vmm *vm = machine_at_first_exit();

	(void)arg;
	VMM_CHECK(vm, vmm_exits(vm) > 0, "counted %d", count());
	VMM_CHECK(NULL, 1, "counted %d", count());
	printf("passed, %d arguments evaluated\n", evaluated);
}

/* The line number the child printed before its check. */
static int child_line(const struct child_out *o)
{
	const char *p = strstr(o->out, "LINE ");

	return p ? atoi(p + 5) : -1;
}

static int has(const char *text, const char *want)
{
	if (strstr(text, want))
		return 1;
	diag("no '%s' in:\n%s", want, text);
	return 0;
}

/* The one report line for a check at line of func. */
static void report_line(const struct child_out *o, const char *func, const char *cond_msg,
			const char *what)
{
	char want[512];

	snprintf(want, sizeof(want), "rrvm: internal error at tests/unit/check_test.c:%d in %s: %s\n",
		 child_line(o), func, cond_msg);
	ok(child_line(o) > 0 && has(o->err, want), "%s: the report names the file, line %d, the "
	   "function, the condition and the values", what, child_line(o));
}

int main(void)
{
	const char *t = getenv("top_builddir");
	struct child_out o;

	snprintf(kernel, sizeof(kernel), "%s/samples/hello.elf", t ? t : ".");
	if (access("/dev/kvm", R_OK | W_OK) != 0 || access(kernel, R_OK) != 0) {
		printf("1..0 # SKIP needs /dev/kvm and %s\n", kernel);
		return 0;
	}

	if (child_run(fail_with_machine, NULL, &o) == 0) {
		ok(child_aborted(&o), "a failed check aborts (wait status 0x%x)", o.status);
		ok(!strstr(o.out, "went on"), "and nothing runs after it");
		report_line(&o, "fail_with_machine", "vmm_exits(vm) == want: exit count 1, want 0",
			    "with a machine");
		ok(has(o.err, "rrvm: the machine (kernel ") && has(o.err, "hello.elf):\n"),
		   "the report names the machine's kernel");
		ok(has(o.err, "  exits=1 ") && has(o.err, " rip=") && has(o.err, " rsp=") &&
		   has(o.err, " rflags=") && has(o.err, " cr3=") && has(o.err, " efer=") &&
		   has(o.err, " cs=") && has(o.err, " gdt="),
		   "then dumps the exit count, general, segment and control registers");
		ok(has(o.err, "this is a bug in rrvm"), "and says whose bug it is");
	} else {
		ok(0, "fork a child with a machine");
	}

	if (child_run(fail_without_machine, NULL, &o) == 0) {
		ok(child_aborted(&o), "without a machine: aborts too (wait status 0x%x)", o.status);
		report_line(&o, "fail_without_machine", "two + two == 5: 2 + 2 is 4", "without a machine");
		ok(has(o.err, "no machine at hand here: no vCPU state to show") &&
		   !strstr(o.err, "rip="), "and says there is no machine state instead of a dump");
	} else {
		ok(0, "fork a child without a machine");
	}

	if (child_run(fail_with_bad_vcpu, NULL, &o) == 0) {
		ok(child_aborted(&o), "with a bad vCPU fd: still aborts, the dump does not crash "
		   "(wait status 0x%x)", o.status);
		report_line(&o, "fail_with_bad_vcpu", "vm->vcpu_fd != 1000: vCPU fd 1000", "with a bad vCPU");
		ok(has(o.err, "  exits=1 ") &&
		   has(o.err, "(general registers unavailable: Bad file descriptor)") &&
		   has(o.err, "(segment and control registers unavailable: Bad file descriptor)"),
		   "the dump gives what it has and says why the registers are missing");
	} else {
		ok(0, "fork a child with a bad vCPU");
	}

	if (child_run(pass, NULL, &o) == 0) {
		ok(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0 && o.err[0] == 0,
		   "a check that holds: the child goes on and exits 0, stderr empty (status 0x%x)",
		   o.status);
		ok(has(o.out, "passed, 0 arguments evaluated"), "and its message arguments are not evaluated");
	} else {
		ok(0, "fork a passing child");
	}
	return tap_done();
}
