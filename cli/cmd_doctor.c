/*
 * cmd_doctor.c — `rrvm doctor`: what this host's KVM can do, found by
 * probing, and what that means for recording and debugging.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "vmm/vmm.h"

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

int cli_cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = { { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	struct vmm_host_caps caps;
	struct vmm_error err = { "" };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: rrvm doctor\nProbe this host's KVM (capabilities and small "
			       "self-test guests) and say what rrvm can do here.\n");
			return 0;
		}
		return cli_usage_error("doctor", "bad option");
	}
	if (optind < argc)
		return cli_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
	if (vmm_probe_host(&caps, &err)) {
		cli_msg("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	printf("KVM API version:              %d\n", caps.api_version);
	printf("memory slots:                 %d\n", caps.nr_memslots);
	printf("sync regs / immediate exit:   %s / %s\n", yes(caps.sync_regs), yes(caps.immediate_exit));
	printf("guest debug (KVM_SET_GUEST_DEBUG): %s\n", yes(caps.set_guest_debug));
	printf("  debug traps at CPL0 (kernel): %s\n", yes(caps.debug_cpl0));
	printf("  debug traps at CPL3 (user):   %s\n", yes(caps.debug_cpl3));
	printf("  data breakpoints at CPL0:     %s\n", yes(caps.data_bp_cpl0));
	printf("dirty page log:               %s\n", yes(caps.dirty_log));
	printf("XSAVE / read-only memory:     %s / %s\n", yes(caps.xsave), yes(caps.readonly_mem));
	printf("TSC scaling:                  %s\n", yes(caps.tsc_control));
	printf("performance counters (PMU):   %s\n", yes(caps.pmu));
	printf("in-kernel irqchip available:  %s (rrvm does not use it: the PIC, PIT, RTC and\n"
	       "                              UART are emulated in rrvm, interrupts injected by it)\n",
	       yes(caps.irqchip_available));
	printf("CPUID policy, bit by bit (CPUID.1:ECX, probed):\n");
	printf("  hide RDRAND (bit 30):       %s\n",
	       caps.cpuid1_ecx_honoured & VMM_CPUID1_ECX_RDRAND ? "honoured" : "IGNORED by this host");
	printf("  hide TSC-deadline (bit 24): %s\n",
	       caps.cpuid1_ecx_honoured & VMM_CPUID1_ECX_TSC_DEADLINE ? "honoured" :
	       "IGNORED by this host");
	printf("  hide x2APIC (bit 21):       %s\n",
	       caps.cpuid1_ecx_honoured & VMM_CPUID1_ECX_X2APIC ? "honoured" : "IGNORED by this host");
	printf("x2APIC for guests:            %s\n", caps.user_msr && caps.msr_filter
	       ? "offered: rrvm's local APIC serves its MSRs (userspace MSR exits)"
	       : "hidden: no userspace MSR exits to serve it with");
	printf("\nProbe guests:\n%s", caps.notes);
	printf("\nWhat this means:\n");
	printf("- positions: %s\n", caps.pmu
	       ? "a PMU exists, but rrvm uses exit counts and state fingerprints anyway"
	       : "no branch counter; rrvm names positions by exit count + state fingerprint");
	if (caps.debug_cpl0)
		printf("- replay finds asynchronous interrupt points with hardware breakpoints; gdb\n"
		       "  breakpoints, watchpoints and stepping work in guest kernel mode\n");
	else
		printf("- no debug traps in kernel mode: replay cannot place asynchronous interrupts\n"
		       "  and gdb breakpoints will not trap; recordings must keep interrupts at exits\n");
	if (caps.data_bp_cpl0)
		printf("- gdb watchpoints use the debug registers (write, read and access)\n");
	else
		printf("- data breakpoints do NOT fire in guest kernel mode here: gdb write watchpoints\n"
		       "  work by single-stepping and comparing (slow); rwatch/awatch are refused\n");
	if (caps.debug_cpl3)
		printf("- user-mode (CPL3) code can be debugged and replayed like kernel code\n");
	else
		printf("- debug traps in guest user mode (CPL3) are NOT intercepted here: the recorder\n"
		       "  defers interrupts that arrive in user mode to the next kernel-mode or\n"
		       "  synchronous point, and gdb cannot break or step in guest user mode\n");
	if (!caps.cpuid_policy)
		printf("- CPUID policy is ignored for RDRAND: guests see RDRAND/RDSEED and other\n"
		       "  features rrvm cannot record; a guest that uses them will diverge on replay\n"
		       "  (detected)\n");
	if (!(caps.cpuid1_ecx_honoured & VMM_CPUID1_ECX_X2APIC) && !(caps.user_msr && caps.msr_filter))
		printf("- x2APIC cannot be hidden here and rrvm cannot serve it: a guest that turns\n"
		       "  it on takes #GP at its first x2APIC register access\n");
	printf("- the guest TSC cannot be intercepted: guests must not depend on RDTSC values\n");
	return 0;
}
