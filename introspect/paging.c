/*
 * paging.c — the x86 page-table formats and the walk of one linear address.
 *
 * introspect_pt_decode() is the single place that knows what an entry means
 * in each mode and level (table or page, address bits, reserved bits); the
 * walk here and the mapping list in maps.c both use it. The rules follow the
 * Intel SDM vol. 3 ch. 4 (tables 4-4..4-19): reserved bits are checked the
 * way the CPU checks them, so a walk stops where the CPU would raise #PF
 * with PFEC.RSVD.
 */
#include <errno.h>
#include <string.h>

#include "introspect/internal.h"

#define CR0_PE   (1ull << 0)
#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

enum introspect_paging introspect_paging_mode(const struct introspect_cpu *cpu)
{
	if (!(cpu->cr0 & CR0_PG))
		return INTROSPECT_PAGING_NONE;
	if (!(cpu->cr0 & CR0_PE))
		return INTROSPECT_PAGING_INVALID;
	if (!(cpu->cr4 & CR4_PAE))
		return (cpu->efer & EFER_LMA) ? INTROSPECT_PAGING_INVALID : INTROSPECT_PAGING_32;
	if (!(cpu->efer & EFER_LMA))
		return INTROSPECT_PAGING_PAE;
	return (cpu->cr4 & CR4_LA57) ? INTROSPECT_PAGING_5LEVEL : INTROSPECT_PAGING_4LEVEL;
}

const char *introspect_paging_name(enum introspect_paging mode)
{
	switch (mode) {
	case INTROSPECT_PAGING_NONE: return "no";
	case INTROSPECT_PAGING_32: return "32-bit";
	case INTROSPECT_PAGING_PAE: return "PAE";
	case INTROSPECT_PAGING_4LEVEL: return "4-level";
	case INTROSPECT_PAGING_5LEVEL: return "5-level";
	case INTROSPECT_PAGING_INVALID: break;
	}
	return "invalid";
}

const char *introspect_level_name(int level)
{
	static const char *const names[] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

	return (level >= 1 && level <= 5) ? names[level] : "?";
}

const char *introspect_fault_name(enum introspect_fault f)
{
	switch (f) {
	case INTROSPECT_FAULT_NONE: return "mapped";
	case INTROSPECT_FAULT_NOT_PRESENT: return "not present";
	case INTROSPECT_FAULT_RESERVED: return "reserved bit set";
	case INTROSPECT_FAULT_NONCANONICAL: return "non-canonical address";
	case INTROSPECT_FAULT_BAD_TABLE: return "table outside guest RAM";
	case INTROSPECT_FAULT_VA_RANGE: return "address wider than 32 bits";
	case INTROSPECT_FAULT_BAD_MODE: return "invalid paging mode";
	}
	return "?";
}

enum introspect_pgsize introspect_pgsize_of(uint64_t page_size)
{
	switch (page_size) {
	case 1ull << 12: return INTROSPECT_PG_4K;
	case 1ull << 21: return INTROSPECT_PG_2M;
	case 1ull << 22: return INTROSPECT_PG_4M;
	case 1ull << 30: return INTROSPECT_PG_1G;
	}
	return INTROSPECT_PG_NONE;
}

const char *introspect_pgsize_name(uint64_t page_size)
{
	static const char *const names[] = { "4K", "2M", "4M", "1G", "-" };

	return names[introspect_pgsize_of(page_size)];
}

void introspect_flags_str(unsigned flags, char *buf, size_t len)
{
	struct introspect_out o;

	introspect_out_buffer(&o, buf, len);
	introspect_printf(&o, "r%c%c %c", flags & INTROSPECT_F_W ? 'w' : '-',
			  flags & INTROSPECT_F_NX ? '-' : 'x', flags & INTROSPECT_F_U ? 'u' : 's');
	if (flags & INTROSPECT_F_G)
		introspect_printf(&o, " G");
	if (flags & INTROSPECT_F_PWT)
		introspect_printf(&o, " PWT");
	if (flags & INTROSPECT_F_PCD)
		introspect_printf(&o, " PCD");
	if (flags & INTROSPECT_F_PAT)
		introspect_printf(&o, " PAT");
	if (flags & INTROSPECT_F_A)
		introspect_printf(&o, " A");
	if (flags & INTROSPECT_F_D)
		introspect_printf(&o, " D");
}

int introspect_ptfmt_init(const struct introspect_cpu *cpu, struct introspect_ptfmt *f)
{
	unsigned m = cpu->maxphyaddr ? cpu->maxphyaddr : 52;

	memset(f, 0, sizeof(*f));
	if (m < 32)
		m = 32;
	if (m > 52)
		m = 52;
	f->maxphy = m;
	f->mode = introspect_paging_mode(cpu);
	f->nxe = !!(cpu->efer & EFER_NXE);
	switch (f->mode) {
	case INTROSPECT_PAGING_NONE:
		f->va_bits = 32;
		return 0;
	case INTROSPECT_PAGING_32:
		f->levels = 2;
		f->va_bits = 32;
		f->pse = !!(cpu->cr4 & CR4_PSE);
		f->nxe = 0;     /* 4-byte entries have no XD bit */
		f->root = cpu->cr3 & 0xfffff000ull;
		return 0;
	case INTROSPECT_PAGING_PAE:
		f->levels = 3;
		f->wide = 1;
		f->va_bits = 32;
		f->root = cpu->cr3 & 0xffffffe0ull;
		f->hi_rsvd = (m < 63 ? BITS(62, m) : 0) | (f->nxe ? 0 : PTE_XD);
		return 0;
	case INTROSPECT_PAGING_4LEVEL:
	case INTROSPECT_PAGING_5LEVEL:
		f->levels = f->mode == INTROSPECT_PAGING_5LEVEL ? 5 : 4;
		f->va_bits = f->mode == INTROSPECT_PAGING_5LEVEL ? 57 : 48;
		f->wide = 1;
		f->root = cpu->cr3 & BITS(m - 1, 12);
		f->hi_rsvd = (m < 52 ? BITS(51, m) : 0) | (f->nxe ? 0 : PTE_XD);
		return 0;
	case INTROSPECT_PAGING_INVALID:
		break;
	}
	return -EINVAL;
}

static unsigned leaf_flags(uint64_t e, uint64_t pat_bit)
{
	return (e & PTE_G ? INTROSPECT_F_G : 0) | (e & PTE_PWT ? INTROSPECT_F_PWT : 0) |
	       (e & PTE_PCD ? INTROSPECT_F_PCD : 0) | (e & pat_bit ? INTROSPECT_F_PAT : 0) |
	       (e & PTE_A ? INTROSPECT_F_A : 0) | (e & PTE_D ? INTROSPECT_F_D : 0);
}

static void decode32(const struct introspect_ptfmt *f, int level, uint64_t e, struct introspect_ent *o)
{
	e &= 0xffffffffull;
	if (level == 2 && (e & PTE_PS) && f->pse) {
		/* PSE-36: PDE bits (M-20):13 hold PA bits (M-1):32, with M capped
		 * at 40; bits 21:(M-19) are reserved. */
		unsigned m = f->maxphy < 40 ? f->maxphy : 40;
		uint64_t rsvd = BITS(21, m - 19);

		if (e & rsvd) {
			o->kind = ENT_RESERVED;
			o->rsvd = e & rsvd;
			return;
		}
		o->kind = ENT_LEAF;
		o->page_size = 1ull << 22;
		o->addr = (e & 0xffc00000ull) | (((e >> 13) & ((1ull << (m - 32)) - 1)) << 32);
		o->leaf_flags = leaf_flags(e, PTE_LPAT);
		return;
	}
	o->addr = e & 0xfffff000ull;
	if (level == 2) {
		o->kind = ENT_TABLE;
	} else {
		o->kind = ENT_LEAF;
		o->page_size = 1ull << 12;
		o->leaf_flags = leaf_flags(e, PTE_PS);
	}
}

void introspect_pt_decode(const struct introspect_ptfmt *f, int level, uint64_t e,
			  struct introspect_ent *o)
{
	uint64_t rsvd = f->hi_rsvd;

	memset(o, 0, sizeof(*o));
	if (!(e & PTE_P)) {
		o->kind = ENT_NOT_PRESENT;
		return;
	}
	o->w = !!(e & PTE_RW);
	o->u = !!(e & PTE_US);
	o->nx = f->nxe && (e & PTE_XD);
	if (f->mode == INTROSPECT_PAGING_32) {
		decode32(f, level, e, o);
		return;
	}
	if (f->mode == INTROSPECT_PAGING_PAE && level == 3) {
		/* PAE PDPTEs have no R/W, U/S or XD: they never restrict. */
		rsvd = BITS(63, f->maxphy) | BITS(2, 1) | BITS(8, 5);
		o->w = o->u = 1;
		o->nx = 0;
		o->kind = ENT_TABLE;
		o->addr = e & BITS(51, 12);
	} else if (level >= 4) {
		rsvd |= PTE_PS;
		o->kind = ENT_TABLE;
		o->addr = e & BITS(51, 12);
	} else if (level == 3 && (e & PTE_PS)) {
		rsvd |= BITS(29, 13);
		o->kind = ENT_LEAF;
		o->page_size = 1ull << 30;
		o->addr = e & BITS(51, 30);
	} else if (level == 2 && (e & PTE_PS)) {
		rsvd |= BITS(20, 13);
		o->kind = ENT_LEAF;
		o->page_size = 1ull << 21;
		o->addr = e & BITS(51, 21);
	} else if (level == 1) {
		o->kind = ENT_LEAF;
		o->page_size = 1ull << 12;
		o->addr = e & BITS(51, 12);
	} else {
		o->kind = ENT_TABLE;
		o->addr = e & BITS(51, 12);
	}
	if (e & rsvd) {
		o->kind = ENT_RESERVED;
		o->rsvd = e & rsvd;
		return;
	}
	if (o->kind == ENT_LEAF)
		o->leaf_flags = leaf_flags(e, level == 1 ? PTE_PS : PTE_LPAT);
}

static int fail(struct introspect_walk *w, enum introspect_fault f, int level, int err)
{
	w->fault = f;
	w->fault_level = level;
	return err;
}

int introspect_translate(const struct introspect_cpu *cpu, const struct introspect_mem *mem,
			 uint64_t va, struct introspect_walk *w)
{
	struct introspect_ptfmt f;
	struct introspect_ent ent;
	uint64_t table;
	unsigned w_ok = 1, u_ok = 1, nx = 0;

	memset(w, 0, sizeof(*w));
	w->va = va;
	w->rsvd_bit = -1;
	if (introspect_ptfmt_init(cpu, &f) < 0) {
		w->mode = INTROSPECT_PAGING_INVALID;
		return fail(w, INTROSPECT_FAULT_BAD_MODE, 0, -EINVAL);
	}
	w->mode = f.mode;
	w->nxe = f.nxe;
	if (f.mode == INTROSPECT_PAGING_NONE) {
		w->pa = w->page_va = w->page_pa = va;
		w->flags = INTROSPECT_F_W | INTROSPECT_F_U;
		return 0;
	}
	if (f.va_bits == 32 && va > 0xffffffffull)
		return fail(w, INTROSPECT_FAULT_VA_RANGE, f.levels, -ERANGE);
	if (introspect_canon(&f, va) != va)
		return fail(w, INTROSPECT_FAULT_NONCANONICAL, f.levels, -ERANGE);

	table = f.root;
	for (int level = f.levels; level >= 1; level--) {
		struct introspect_walk_step *s = &w->steps[w->nsteps++];
		unsigned esz = f.wide ? 8 : 4;

		s->level = level;
		s->index = (unsigned)(va >> introspect_pt_shift(&f, level)) &
			   ((1u << introspect_pt_index_bits(&f, level)) - 1);
		s->table = table;
		s->entry_gpa = table + (uint64_t)s->index * esz;
		s->read_ok = 1;
		if (f.mode == INTROSPECT_PAGING_PAE && level == 3 && cpu->pdpte_valid) {
			s->entry_gpa = INTROSPECT_NO_GPA;
			s->entry = cpu->pdpte[s->index];
		} else if (f.wide) {
			uint64_t v;

			if (mem->read_phys(mem->ctx, s->entry_gpa, &v, 8) != 0)
				goto bad_table;
			s->entry = v;
		} else {
			uint32_t v;

			if (mem->read_phys(mem->ctx, s->entry_gpa, &v, 4) != 0)
				goto bad_table;
			s->entry = v;
		}

		introspect_pt_decode(&f, level, s->entry, &ent);
		s->next = ent.addr;
		switch (ent.kind) {
		case ENT_NOT_PRESENT:
			return fail(w, INTROSPECT_FAULT_NOT_PRESENT, level, -ENOENT);
		case ENT_RESERVED:
			w->rsvd_mask = ent.rsvd;
			w->rsvd_bit = __builtin_ctzll(ent.rsvd);
			return fail(w, INTROSPECT_FAULT_RESERVED, level, -EINVAL);
		case ENT_TABLE:
			w_ok &= ent.w;
			u_ok &= ent.u;
			nx |= ent.nx;
			table = ent.addr;
			continue;
		case ENT_LEAF:
			w_ok &= ent.w;
			u_ok &= ent.u;
			nx |= ent.nx;
			w->leaf_level = level;
			w->page_size = ent.page_size;
			w->page_pa = ent.addr;
			w->page_va = va & ~(ent.page_size - 1);
			w->pa = ent.addr + (va & (ent.page_size - 1));
			w->flags = ent.leaf_flags | (w_ok ? INTROSPECT_F_W : 0) |
				   (u_ok ? INTROSPECT_F_U : 0) | (nx ? INTROSPECT_F_NX : 0);
			return 0;
		}
		continue;
bad_table:
		s->read_ok = 0;
		return fail(w, INTROSPECT_FAULT_BAD_TABLE, level, -EFAULT);
	}
	/* Unreachable: level 1 entries are always leaves. */
	return fail(w, INTROSPECT_FAULT_BAD_MODE, 0, -EINVAL);
}

void introspect_format_translation(const struct introspect_walk *w, struct introspect_out *o)
{
	char fl[64];

	switch (w->fault) {
	case INTROSPECT_FAULT_NONE:
		if (w->mode == INTROSPECT_PAGING_NONE) {
			introspect_printf(o, "0x%llx -> 0x%llx (paging off)\n",
					  (unsigned long long)w->va, (unsigned long long)w->pa);
			return;
		}
		introspect_flags_str(w->flags, fl, sizeof(fl));
		introspect_printf(o, "0x%llx -> 0x%llx (%s page 0x%llx at 0x%llx, %s)\n",
				  (unsigned long long)w->va, (unsigned long long)w->pa,
				  introspect_pgsize_name(w->page_size), (unsigned long long)w->page_pa,
				  (unsigned long long)w->page_va, fl);
		return;
	case INTROSPECT_FAULT_RESERVED:
		introspect_printf(o, "0x%llx: reserved bit %d set in %s (reserved bits 0x%llx)\n",
				  (unsigned long long)w->va, w->rsvd_bit,
				  introspect_level_name(w->fault_level),
				  (unsigned long long)w->rsvd_mask);
		return;
	case INTROSPECT_FAULT_BAD_TABLE: {
		const struct introspect_walk_step *s = &w->steps[w->nsteps - 1];

		introspect_printf(o, "0x%llx: %s at 0x%llx is outside guest RAM\n",
				  (unsigned long long)w->va, introspect_level_name(w->fault_level),
				  (unsigned long long)s->entry_gpa);
		return;
	}
	case INTROSPECT_FAULT_NOT_PRESENT:
		introspect_printf(o, "0x%llx: not present at %s\n", (unsigned long long)w->va,
				  introspect_level_name(w->fault_level));
		return;
	default:
		introspect_printf(o, "0x%llx: %s (%s paging)\n", (unsigned long long)w->va,
				  introspect_fault_name(w->fault), introspect_paging_name(w->mode));
		return;
	}
}

void introspect_format_entry(int level, int wide, int nxe, uint64_t e, struct introspect_out *o)
{
	static const char *const low[] = { "P", "RW", "US", "PWT", "PCD", "A", "D" };

	for (unsigned i = 0; i < 7; i++)
		if (e & (1ull << i))
			introspect_printf(o, "%s%s", i ? " " : "", low[i]);
	if (!(e & PTE_P))
		introspect_printf(o, "-");
	if (e & PTE_PS)
		introspect_printf(o, level == 1 ? " PAT" : " PS");
	if (e & PTE_G)
		introspect_printf(o, " G");
	if (level > 1 && (e & PTE_PS) && (e & PTE_LPAT))
		introspect_printf(o, " PAT");
	if (wide && (e & PTE_XD))
		introspect_printf(o, nxe ? " XD" : " XD(reserved: EFER.NXE=0)");
}

void introspect_format_walk(const struct introspect_walk *w, struct introspect_out *o)
{
	int wide = w->mode != INTROSPECT_PAGING_32;

	introspect_printf(o, "va 0x%llx (%s paging)\n", (unsigned long long)w->va,
			  introspect_paging_name(w->mode));
	for (unsigned i = 0; i < w->nsteps; i++) {
		const struct introspect_walk_step *s = &w->steps[i];
		int last = i + 1 == w->nsteps;

		introspect_printf(o, "  %-5s[%4u] ", introspect_level_name(s->level), s->index);
		if (s->entry_gpa == INTROSPECT_NO_GPA)
			introspect_printf(o, "(PDPTE register)  ");
		else
			introspect_printf(o, "@0x%-16llx", (unsigned long long)s->entry_gpa);
		if (!s->read_ok) {
			introspect_printf(o, " outside guest RAM\n");
			continue;
		}
		introspect_printf(o, " = 0x%0*llx  ", wide ? 16 : 8, (unsigned long long)s->entry);
		introspect_format_entry(s->level, wide, w->nxe, s->entry, o);
		if (!last)
			introspect_printf(o, "  -> table 0x%llx\n", (unsigned long long)s->next);
		else if (w->fault == INTROSPECT_FAULT_NONE)
			introspect_printf(o, "  -> %s page 0x%llx\n", introspect_pgsize_name(w->page_size),
					  (unsigned long long)w->page_pa);
		else if (w->fault == INTROSPECT_FAULT_RESERVED)
			introspect_printf(o, "  reserved bits 0x%llx\n", (unsigned long long)w->rsvd_mask);
		else
			introspect_printf(o, "\n");
	}
	introspect_printf(o, "  => ");
	introspect_format_translation(w, o);
}
