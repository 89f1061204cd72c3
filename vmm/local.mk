# vmm: the machine (KVM VM and vCPU, guest memory, loader, exit loop, devices).
noinst_LIBRARIES += vmm/libvmm.a
vmm_libvmm_a_SOURCES =
include $(srcdir)/vmm/devices.mk
vmm_libvmm_a_SOURCES += vmm/vmm.h vmm/internal.h vmm/device.h vmm/devices.h \
	vmm/kvm.c vmm/cpu.c vmm/cpuid.c vmm/machine.c vmm/multiboot.c vmm/acpi.c vmm/clock.c vmm/state.c vmm/live.c vmm/probe.c \
	vmm/cpustate.c vmm/pagestore.c vmm/pagemap.c vmm/snapshot.c vmm/protect.c vmm/check.c

check_PROGRAMS += tests/unit/multiboot_test tests/unit/dispatch_test
TESTS += tests/unit/multiboot_test tests/unit/dispatch_test
tests_unit_multiboot_test_LDADD = vmm/libvmm.a
tests_unit_dispatch_test_LDADD = vmm/libvmm.a

# Small good and broken kernels for the command-line tests.
check_PROGRAMS += tests/tools/mkkernel
tests_tools_mkkernel_SOURCES = tests/tools/mkkernel.c
TESTS += tests/integration/run.sh
EXTRA_DIST += tests/integration/run.sh tests/integration/lib.sh tests/integration/wait.sh
TESTS += tests/integration/qemu_compare.sh
EXTRA_DIST += tests/integration/qemu_compare.sh

# Snapshots: the page store on plain buffers (no KVM), and save/restore
# round trips on every sample (needs /dev/kvm and the samples, else SKIP).
check_PROGRAMS += tests/unit/pagestore_test tests/unit/snapshot_test
TESTS += tests/unit/pagestore_test tests/unit/snapshot_test
tests_unit_pagestore_test_LDADD = vmm/libvmm.a
tests_unit_snapshot_test_LDADD = vmm/libvmm.a
EXTRA_DIST += tests/unit/det_driver.h

# Registers read from the synced kvm_run equal KVM_GET_REGS and are never
# stale (needs /dev/kvm and the samples, else SKIP).
check_PROGRAMS += tests/unit/syncregs_test
TESTS += tests/unit/syncregs_test
tests_unit_syncregs_test_LDADD = vmm/libvmm.a

noinst_PROGRAMS += tests/bench/snapshot_bench
tests_bench_snapshot_bench_LDADD = vmm/libvmm.a
bench_scripts += tests/bench/snapshot.sh
EXTRA_DIST += tests/bench/snapshot.sh

# Write-protected pages (vmm/protect.c) on race.elf: the guest does not
# notice, snapshots keep working (needs /dev/kvm and the samples, else SKIP).
check_PROGRAMS += tests/unit/protect_test
TESTS += tests/unit/protect_test
tests_unit_protect_test_LDADD = introspect/libintrospect.a vmm/libvmm.a

# VMM_CHECK: a failed invariant aborts with the report and the machine's
# state, in a child process (needs /dev/kvm and the samples, else SKIP).
check_PROGRAMS += tests/unit/check_test
TESTS += tests/unit/check_test
tests_unit_check_test_SOURCES = tests/unit/check_test.c tests/unit/child_run.h
tests_unit_check_test_LDADD = vmm/libvmm.a
