/*
 * state.c — digests and dumps of the vCPU and guest memory: the final-state
 * hash a recording stores, and the register dump printed when a guest
 * crashes or an assertion fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vmm/internal.h"

uint64_t vmm_hash(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = seed ^ (len * k);

	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		h = (h ^ v) * k;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	while (len--) {
		h = (h ^ *p++) * k;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint64_t hash_segment(const struct vmm_segment *s, uint64_t h)
{
	uint64_t v[3] = { s->base, s->limit, (uint64_t)s->selector << 48 | (uint64_t)s->type << 40 |
			  (uint64_t)s->present << 32 | (uint64_t)s->dpl << 24 | s->l };
	return vmm_hash(v, sizeof(v), h);
}

int vmm_state_hash(struct vmm *vm, uint64_t *hash)
{
	struct vmm_regs r;
	struct vmm_sregs s;
	uint64_t h;
	int rc;

	rc = vmm_get_regs(vm, &r);
	if (rc)
		return rc;
	rc = vmm_get_sregs(vm, &s);
	if (rc)
		return rc;
	h = vmm_hash(&r, sizeof(r), 0x5252564d);
	h = hash_segment(&s.cs, h), h = hash_segment(&s.ds, h), h = hash_segment(&s.ss, h);
	h = hash_segment(&s.fs, h), h = hash_segment(&s.gs, h);
	{
		uint64_t c[5] = { s.cr0, s.cr3, s.cr4, s.efer, s.gdt_base };
		h = vmm_hash(c, sizeof(c), h);
	}
	*hash = vmm_hash(vm->m.ram, vm->m.ram_size, h);
	return 0;
}

uint64_t vmm_devices_hash(const struct vmm *vm)
{
	uint64_t h = 0x44455653;

	for (unsigned i = 0; i < vmm_device_count; i++)
		h = vmm_hash(vm->m.dev_state[i], vmm_devices[i]->state_size, h);
	return h;
}

/* Nothing here may fail or stop: it runs in crash reports and failed
 * checks, where the vCPU may be the broken part. Machine facts first
 * (no ioctl), then the registers, each part on its own. */
void vmm_dump_regs(struct vmm *vm, FILE *f)
{
	static const char *const modes[] = { [VMM_INJECT_LIVE] = "live",
					     [VMM_INJECT_NOW_ONLY] = "now-only",
					     [VMM_INJECT_HOLD] = "hold" };
	struct vmm_regs r;
	struct vmm_sregs s;
	int rc;

	fprintf(f, "  exits=%" PRIu64 " halted=%d inject=%s pending-vector=%d%s%s", vm->exits,
		vm->halted, (unsigned)vm->inject_mode < 3 ? modes[vm->inject_mode] : "?",
		vmm_machine_pending(&vm->m), vm->exit_unfinished ? " exit-unfinished" : "",
		vm->debug_on ? " guest-debug-on" : "");
	if (vm->run)
		fprintf(f, " last-exit-reason=%u if=%u ready=%u", vm->run->exit_reason,
			vm->run->if_flag, vm->run->ready_for_interrupt_injection);
	fprintf(f, "\n");
	rc = vm->run ? vmm_get_regs(vm, &r) : -EBADF;
	if (rc < 0) {
		fprintf(f, "  (general registers unavailable: %s)\n", strerror(-rc));
	} else {
		fprintf(f, "  rax=%016" PRIx64 " rbx=%016" PRIx64 " rcx=%016" PRIx64 " rdx=%016" PRIx64
			"\n", r.rax, r.rbx, r.rcx, r.rdx);
		fprintf(f, "  rsi=%016" PRIx64 " rdi=%016" PRIx64 " rbp=%016" PRIx64 " rsp=%016" PRIx64
			"\n", r.rsi, r.rdi, r.rbp, r.rsp);
		fprintf(f, "  r8 =%016" PRIx64 " r9 =%016" PRIx64 " r10=%016" PRIx64 " r11=%016" PRIx64
			"\n", r.r8, r.r9, r.r10, r.r11);
		fprintf(f, "  r12=%016" PRIx64 " r13=%016" PRIx64 " r14=%016" PRIx64 " r15=%016" PRIx64
			"\n", r.r12, r.r13, r.r14, r.r15);
		fprintf(f, "  rip=%016" PRIx64 " rflags=%08" PRIx64 "\n", r.rip, r.rflags);
	}
	/* Without the MSR read: one ioctl fewer that could fail. */
	rc = vm->run ? vmm_get_sregs_nomsr(vm, &s) : -EBADF;
	if (rc < 0) {
		fprintf(f, "  (segment and control registers unavailable: %s)\n", strerror(-rc));
		return;
	}
	fprintf(f, "  cs=%04x ds=%04x ss=%04x es=%04x fs=%04x gs=%04x tr=%04x cpl=%u\n",
		s.cs.selector, s.ds.selector, s.ss.selector, s.es.selector, s.fs.selector,
		s.gs.selector, s.tr.selector, s.cr0 & 1 ? s.cs.selector & 3u : 0u);
	fprintf(f, "  fs_base=%016" PRIx64 " gs_base=%016" PRIx64 "\n", s.fs.base, s.gs.base);
	fprintf(f, "  cr0=%08" PRIx64 " cr2=%016" PRIx64 " cr3=%016" PRIx64 " cr4=%08" PRIx64
		" cr8=%" PRIx64 " efer=%" PRIx64 "\n", s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer);
	fprintf(f, "  gdt=%016" PRIx64 "/%04x idt=%016" PRIx64 "/%04x\n", s.gdt_base, s.gdt_limit,
		s.idt_base, s.idt_limit);
}
