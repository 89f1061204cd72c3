/*
 * kvm.c — creating and tearing down the VM: /dev/kvm, the VM and its one
 * vCPU, guest RAM as one memory slot with dirty logging (split around
 * write-protected pages by protect.c), and booting the kernel into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/internal.h"

_Static_assert(offsetof(struct vmm_error, msg) == 0, "vmm_error_set passes the struct as its msg");

void vmm_msg_set(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!msg || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
}

int vmm_open_kvm(struct vmm_error *err)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int api;

	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			vmm_error_set(err, "/dev/kvm does not exist: this host has no KVM. Enable "
				      "virtualization in the firmware or the hypervisor and load the "
				      "kvm module (modprobe kvm_intel or kvm_amd)");
		else if (e == EACCES || e == EPERM)
			vmm_error_set(err, "/dev/kvm: permission denied. Add yourself to the kvm group "
				      "(sudo usermod -aG kvm $USER, then log in again) or run as root");
		else
			vmm_error_set(err, "/dev/kvm: %s", strerror(e));
		return -e;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		vmm_error_set(err, "/dev/kvm speaks API version %d, rrvm needs %d", api, KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

static const char *file_kind(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device"
	       : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket"
	       : S_ISDIR(mode) ? "a directory" : "a special file";
}

int vmm_open_regular(const char *path, int flags, struct vmm_error *err)
{
	/* O_NONBLOCK so that opening a FIFO with no writer, or a device,
	 * returns at once and fstat can refuse it; for a regular file it
	 * changes nothing, and it is cleared again below all the same. */
	int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		int e = errno;
		vmm_error_set(err, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		vmm_error_set(err, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		vmm_error_set(err, "%s: is %s, not a regular file", path, file_kind(st.st_mode));
		close(fd);
		return -EINVAL;
	}
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int e = errno;
		vmm_error_set(err, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int vmm_read_file(const char *path, uint8_t **data, size_t *len, struct vmm_error *err)
{
	int fd = vmm_open_regular(path, O_RDONLY, err);
	struct stat st;
	uint8_t *buf;
	size_t got = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		vmm_error_set(err, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (st.st_size > (off_t)VMM_MEM_MAX) {
		vmm_error_set(err, "%s: %lld bytes is larger than any guest RAM", path,
			      (long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		vmm_error_set(err, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vmm_error_set(err, "%s: read failed at byte %zu", path, got);
			free(buf);
			close(fd);
			return -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

static int setup_memory(struct vmm *vm, uint64_t size, struct vmm_error *err)
{
	struct kvm_userspace_memory_region region;
	/* Private and anonymous: snapshot.c takes a page the host never
	 * backed for zero, which a shared or file mapping would break. */
	void *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);

	if (ram == MAP_FAILED) {
		int e = errno;
		vmm_error_set(err, "cannot allocate %llu MiB of guest RAM: %s",
			      (unsigned long long)(size >> 20), strerror(e));
		return -e;
	}
	vm->m.ram = ram;
	vm->m.ram_size = size;
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		int e = errno;
		vmm_error_set(err, "KVM_SET_USER_MEMORY_REGION (%llu MiB): %s",
			      (unsigned long long)(size >> 20), strerror(e));
		return -e;
	}
	vm->slots[0] = (struct vmm_slot){ 0, size / VMM_PAGE_SIZE, false };
	vm->nslots = 1;
	vm->dirty_bitmap = calloc(vmm_dirty_words(vm), sizeof(uint64_t));
	vm->snap_dirty = calloc(vmm_dirty_words(vm), sizeof(uint64_t));
	if (!vm->dirty_bitmap || !vm->snap_dirty) {
		vmm_error_set(err, "out of memory for the dirty page bitmap");
		return -ENOMEM;
	}
	return 0;
}

static int create_vcpu(struct vmm *vm, struct vmm_error *err)
{
	int sz;

	/* Needed by Intel VMX for real-mode emulation; harmless elsewhere.
	 * Placed just below 4 GiB, far above any RAM we map there. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
		int e = errno;
		vmm_error_set(err, "KVM_SET_TSS_ADDR: %s", strerror(e));
		return -e;
	}
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		int e = errno;
		vmm_error_set(err, "KVM_CREATE_VCPU: %s", strerror(e));
		return -e;
	}
	sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		vmm_error_set(err, "KVM_GET_VCPU_MMAP_SIZE returned %d", sz);
		return -EINVAL;
	}
	vm->run_size = (size_t)sz;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		int e = errno;
		vm->run = NULL;
		vmm_error_set(err, "mmap of the vCPU run area: %s", strerror(e));
		return -e;
	}
	{
		int sync = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);

		vm->sync_regs = sync > 0 && (sync & KVM_SYNC_X86_REGS);
		vm->sync_sregs = vm->sync_regs && (sync & KVM_SYNC_X86_SREGS);
	}
	return 0;
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out, struct vmm_error *err)
{
	uint64_t mem = cfg->mem_size ? cfg->mem_size : VMM_MEM_DEFAULT;
	struct vmm_mb_image img;
	uint8_t *file = NULL;
	size_t len = 0;
	uint32_t info_addr;
	struct vmm *vm;
	int rc;

	*out = NULL;
	if (mem < VMM_MEM_MIN || mem > VMM_MEM_MAX || mem % 4096) {
		vmm_error_set(err, "memory size %llu bytes is out of range (%llu MiB to %llu GiB, "
			      "a multiple of 4 KiB)", (unsigned long long)mem, VMM_MEM_MIN >> 20,
			      VMM_MEM_MAX >> 30);
		return -EINVAL;
	}
	/* RAM is one slot from 0: above 0xfec00000 it would cover the I/O
	 * APIC and local APIC pages, and the guest could not reach them (a
	 * PC puts a hole below 4 GiB there; rrvm has none yet). */
	if (mem > VMM_MEM_BELOW_APIC) {
		vmm_error_set(err, "memory size %llu MiB would cover the I/O APIC and local APIC "
			      "pages at 0xfec00000; at most %llu MiB", (unsigned long long)(mem >> 20),
			      VMM_MEM_BELOW_APIC >> 20);
		return -EINVAL;
	}
	/* Validate the kernel before touching KVM, so that a bad image is
	 * reported as such even on a host without /dev/kvm. */
	rc = vmm_read_file(cfg->kernel_path, &file, &len, err);
	if (rc)
		return rc;
	rc = vmm_multiboot_parse(file, len, mem, cfg->kernel_path, &img, err);
	if (rc)
		goto err_file;

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		rc = -ENOMEM;
		vmm_error_set(err, "out of memory");
		goto err_file;
	}
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->kernel_path = strdup(cfg->kernel_path);
	rc = vmm_machine_init(&vm->m, NULL, 0, &cfg->clock, &cfg->output, cfg->trace_io, err);
	vm->m.exit_count = &vm->exits;
	if (rc)
		goto err_vm;
	rc = vm->kvm_fd = vmm_open_kvm(err);
	if (rc < 0)
		goto err_vm;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		rc = -errno;
		vmm_error_set(err, "KVM_CREATE_VM: %s", strerror(-rc));
		goto err_vm;
	}
	rc = setup_memory(vm, mem, err);
	if (rc)
		goto err_vm;
	rc = create_vcpu(vm, err);
	if (rc)
		goto err_vm;
	rc = vmm_msr_setup(vm, err);
	if (rc)
		goto err_vm;
	rc = vmm_cpuid_apply(vm, err);
	if (rc)
		goto err_vm;
	rc = vmm_multiboot_load(&img, file, vm->m.ram, mem, cfg->cmdline, &info_addr, err);
	if (rc)
		goto err_vm;
	rc = vmm_acpi_build(vm->m.ram, mem, err);
	if (rc)
		goto err_vm;
	vmm_machine_configure(&vm->m, mem, cfg->cmdline);
	/* The loader and the firmware tables wrote guest RAM behind KVM's
	 * dirty log: the kernel's segments, the boot information after them,
	 * the ACPI tables in the firmware area. */
	for (unsigned i = 0; i < img.nseg; i++)
		vmm_ram_written(vm, img.seg[i].paddr, img.seg[i].memsz);
	vmm_ram_written(vm, info_addr, VMM_MB_INFO_SIZE);
	vmm_ram_written(vm, VMM_FW_AREA_BASE, VMM_FW_AREA_END - VMM_FW_AREA_BASE);
	rc = vmm_cpu_init(vm, (uint32_t)img.entry, info_addr, err);
	if (rc)
		goto err_vm;
	rc = vmm_kick_init(vm, err);
	if (rc)
		goto err_vm;
	free(file);
	*out = vm;
	return 0;

err_vm:
	vmm_destroy(vm);
err_file:
	free(file);
	return rc;
}

void vmm_destroy(struct vmm *vm)
{
	if (!vm)
		return;
	vmm_kick_fini(vm);
	vmm_snapshot_forget(vm);
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->m.ram)
		munmap(vm->m.ram, vm->m.ram_size);
	vmm_machine_fini(&vm->m);
	free(vm->dirty_bitmap);
	free(vm->snap_dirty);
	free(vm->kernel_path);
	free(vm);
}

void vmm_set_clock(struct vmm *vm, struct vmm_clock clock)
{
	vm->m.clock = clock;
}

const char *vmm_kernel_path(const struct vmm *vm)
{
	return vm->kernel_path;
}

uint64_t vmm_mem_size(const struct vmm *vm)
{
	return vm->m.ram_size;
}

const uint8_t *vmm_ram(const struct vmm *vm)
{
	return vm->m.ram;
}

int vmm_read_phys(struct vmm *vm, uint64_t gpa, void *buf, size_t len)
{
	if (gpa > vm->m.ram_size || len > vm->m.ram_size - gpa)
		return -EFAULT;
	memcpy(buf, vm->m.ram + gpa, len);
	return 0;
}

int vmm_write_phys(struct vmm *vm, uint64_t gpa, const void *buf, size_t len)
{
	if (gpa > vm->m.ram_size || len > vm->m.ram_size - gpa)
		return -EFAULT;
	memcpy(vm->m.ram + gpa, buf, len);
	vmm_ram_written(vm, gpa, len);
	return 0;
}

static void mark_pages(uint64_t *bitmap, uint64_t first, uint64_t last)
{
	for (uint64_t f = first; f <= last; f++)
		bitmap[f / 64] |= 1ull << (f % 64);
}

void vmm_ram_written(struct vmm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t first = gpa / VMM_PAGE_SIZE, last;

	if (len == 0 || gpa >= vm->m.ram_size)
		return;
	if (len > vm->m.ram_size - gpa)
		len = vm->m.ram_size - gpa;
	last = (gpa + len - 1) / VMM_PAGE_SIZE;
	mark_pages(vm->snap_dirty, first, last);
	for (int t = 0; t < VMM_DIRTY_TRACKERS; t++)
		if (vm->dirty_trackers[t])
			mark_pages(vm->dirty_trackers[t], first, last);
}

size_t vmm_dirty_words(const struct vmm *vm)
{
	return (size_t)((vm->m.ram_size / 4096 + 63) / 64);
}

/* OR a slot's log (bit i: frame first + i) into the machine's bitmaps. */
static void merge_log(struct vmm *vm, uint64_t first, uint64_t frames, uint64_t *acc)
{
	size_t words = (size_t)((frames + 63) / 64);

	for (size_t i = 0; i < words; i++) {
		uint64_t bits = vm->dirty_bitmap[i];

		while (bits) {
			uint64_t f = first + i * 64 + (uint64_t)__builtin_ctzll(bits);
			uint64_t bit = 1ull << (f % 64);

			bits &= bits - 1;
			vm->snap_dirty[f / 64] |= bit;
			if (acc)
				acc[f / 64] |= bit;
			for (int t = 0; t < VMM_DIRTY_TRACKERS; t++)
				if (vm->dirty_trackers[t] && vm->dirty_trackers[t] != acc)
					vm->dirty_trackers[t][f / 64] |= bit;
		}
	}
}

/* Every slot but the write-protected ones (the guest cannot write them;
 * rrvm's writes there are marked by vmm_ram_written). */
int vmm_dirty_collect(struct vmm *vm, uint64_t *acc)
{
	for (unsigned s = 0; s < vm->nslots; s++) {
		struct kvm_dirty_log log = { .slot = s };

		if (vm->slots[s].ro)
			continue;
		memset(vm->dirty_bitmap, 0, (size_t)((vm->slots[s].frames + 63) / 64) * sizeof(uint64_t));
		log.dirty_bitmap = vm->dirty_bitmap;
		if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		merge_log(vm, vm->slots[s].first, vm->slots[s].frames, acc);
	}
	return 0;
}

int vmm_dirty_track(struct vmm *vm, uint64_t *bitmap)
{
	for (int t = 0; t < VMM_DIRTY_TRACKERS; t++) {
		if (!vm->dirty_trackers[t]) {
			vm->dirty_trackers[t] = bitmap;
			return 0;
		}
	}
	return -ENOSPC;
}

void vmm_dirty_untrack(struct vmm *vm, uint64_t *bitmap)
{
	for (int t = 0; t < VMM_DIRTY_TRACKERS; t++)
		if (vm->dirty_trackers[t] == bitmap)
			vm->dirty_trackers[t] = NULL;
}

void vmm_poll_devices(struct vmm *vm)
{
	vmm_machine_poll(&vm->m);
}

uint64_t vmm_next_deadline(const struct vmm *vm)
{
	return vmm_machine_deadline(&vm->m);
}

int vmm_irq_pending(const struct vmm *vm)
{
	int v = vmm_machine_pending(&vm->m);

	return v == VMM_LAPIC_NMI ? 2 : v;      /* the vector the CPU will take */
}

size_t vmm_serial_rx_space(const struct vmm *vm)
{
	return vm->m.uart_index < 0 ? 0 : vmm_uart_rx_space(vm->m.dev_state[vm->m.uart_index]);
}

size_t vmm_serial_rx_push(struct vmm *vm, const uint8_t *buf, size_t n)
{
	if (vm->m.uart_index < 0)
		return 0;
	return vmm_uart_rx_push(vm->m.dev_state[vm->m.uart_index], &vm->m.bus, buf, n);
}

uint64_t vmm_exits(const struct vmm *vm)
{
	return vm->exits;
}

void vmm_mute_output_below(struct vmm *vm, uint64_t exits)
{
	vm->m.mute_below = exits;
}

uint64_t vmm_muted_below(const struct vmm *vm)
{
	return vm->m.mute_below;
}
