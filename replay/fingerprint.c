/*
 * fingerprint.c — naming a point of an execution without a branch counter,
 * and the running checksum of synchronous exits.
 *
 * Between two synchronous exits the guest may pass the same rip many times.
 * Two passes with equal full state (registers, system registers, FPU, and
 * memory) have the same future, so the first pass whose state matches the
 * recorded one is the recorded point. Memory is compared through the pages
 * written since the previous poll (KVM's dirty log): the others are equal
 * by construction, because replay reproduced everything up to that poll.
 */
#include <errno.h>
#include <string.h>

#include "replay/replay.h"

uint64_t replay_fp_regs(const struct vmm_regs *r)
{
	return vmm_hash(r, sizeof(*r), 0x72656773);
}

static uint64_t hash_seg(const struct vmm_segment *s, uint64_t h)
{
	uint64_t v[3] = { s->base, s->limit,
			  (uint64_t)s->selector << 32 | (uint64_t)s->type << 24 | (uint64_t)s->dpl << 16 |
			  (uint64_t)s->present << 8 | s->l };
	return vmm_hash(v, sizeof(v), h);
}

int replay_fp_rest(struct vmm *vm, const uint64_t *dirty, size_t words, uint64_t *pages,
		   uint32_t max, uint32_t *npages, uint64_t *hash)
{
	struct vmm_sregs s;
	uint8_t fpu[512];
	const uint8_t *ram = vmm_ram(vm);
	uint64_t h = 0x72657374, nframes = vmm_mem_size(vm) / 4096;
	uint32_t n = 0;
	int rc;

	rc = vmm_get_sregs(vm, &s);
	if (rc)
		return rc;
	rc = vmm_get_fpu(vm, fpu);
	if (rc)
		return rc;
	h = hash_seg(&s.cs, h), h = hash_seg(&s.ds, h), h = hash_seg(&s.es, h);
	h = hash_seg(&s.fs, h), h = hash_seg(&s.gs, h), h = hash_seg(&s.ss, h);
	h = hash_seg(&s.tr, h);
	{
		uint64_t c[9] = { s.gdt_base, s.idt_base, (uint64_t)s.gdt_limit << 16 | s.idt_limit,
				  s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.kernel_gs_base };
		h = vmm_hash(c, sizeof(c), h);
	}
	h = vmm_hash(fpu, sizeof(fpu), h);
	for (size_t w = 0; w < words; w++) {
		uint64_t bits = dirty[w];

		while (bits) {
			uint64_t gfn = w * 64 + (uint64_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (gfn >= nframes)
				continue;
			if (n == max)
				return -E2BIG;
			pages[n++] = gfn;
			h = vmm_hash(&gfn, sizeof(gfn), h);
			h = vmm_hash(ram + gfn * 4096, 4096, h);
		}
	}
	*npages = n;
	*hash = h;
	return 0;
}

bool replay_event_is_sync(const struct vmm_event *ev)
{
	return ev->kind == VMM_EV_IO || ev->kind == VMM_EV_HLT || ev->kind == VMM_EV_GUEST_EXIT;
}

uint64_t replay_inject_exits(const struct vmm_event *ev)
{
	return ev->exits - (replay_event_is_sync(ev) ? 1 : 0);
}

uint64_t replay_checksum_add(uint64_t sum, const struct vmm_event *ev)
{
	uint64_t v[5] = { ev->kind, ev->rip, 0, 0, 0 };

	if (ev->kind == VMM_EV_IO) {
		v[2] = ev->u.io.addr;
		v[3] = ev->u.io.value;
		v[4] = (uint64_t)ev->u.io.size << 2 | (uint64_t)ev->u.io.write << 1 | ev->u.io.mmio;
	} else if (ev->kind == VMM_EV_GUEST_EXIT) {
		v[2] = ev->u.exit_value;
	}
	return vmm_hash(v, sizeof(v), sum);
}
