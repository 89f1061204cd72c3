/*
 * desc.c — GDT/LDT descriptors, IDT gates and the 64-bit TSS, decoded from
 * raw bytes (the caller reads the tables from guest memory at GDTR/IDTR/TR
 * base). Layouts are the Intel SDM vol. 3 ch. 3.4-3.5, 6.11-6.14 and 8.7.
 * Bytes are assembled explicitly (little-endian), never cast, so any byte
 * buffer and any alignment is fine; lengths are checked before every read.
 */
#include <errno.h>
#include <string.h>

#include "introspect/internal.h"

static uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t rd32(const uint8_t *b) { return (uint32_t)rd16(b) | (uint32_t)rd16(b + 2) << 16; }
static uint64_t rd64(const uint8_t *b) { return (uint64_t)rd32(b) | (uint64_t)rd32(b + 4) << 32; }

/* System descriptor types (S = 0). Entries that are NULL are invalid in that
 * mode; wide[] marks the ones that take 16 bytes in long mode. */
static const char *const sys_legacy[16] = {
	[1] = "tss16-avail", [2] = "ldt", [3] = "tss16-busy", [4] = "callgate16",
	[5] = "taskgate", [6] = "intgate16", [7] = "trapgate16", [9] = "tss32-avail",
	[0xb] = "tss32-busy", [0xc] = "callgate32", [0xe] = "intgate32", [0xf] = "trapgate32",
};
static const char *const sys_long[16] = {
	[2] = "ldt", [9] = "tss64-avail", [0xb] = "tss64-busy", [0xc] = "callgate64",
	[0xe] = "intgate64", [0xf] = "trapgate64",
};

static int is_wide_sys(unsigned type)
{
	return type == 2 || type == 9 || type == 0xb || type == 0xc;
}

int introspect_decode_seg(const uint8_t *b, size_t avail, int long_mode, struct introspect_seg *o)
{
	memset(o, 0, sizeof(*o));
	if (avail < 8)
		return -EINVAL;
	o->size = 8;
	o->raw_limit = rd16(b) | (uint32_t)(b[6] & 0xf) << 16;
	o->base = rd16(b + 2) | (uint64_t)b[4] << 16 | (uint64_t)b[7] << 24;
	o->type = b[5] & 0xf;
	o->s = (b[5] >> 4) & 1;
	o->dpl = (b[5] >> 5) & 3;
	o->p = b[5] >> 7;
	o->avl = (b[6] >> 4) & 1;
	o->l = (b[6] >> 5) & 1;
	o->db = (b[6] >> 6) & 1;
	o->g = b[6] >> 7;
	o->limit = o->g ? (o->raw_limit << 12) | 0xfff : o->raw_limit;
	if (rd64(b) == 0) {
		o->kind = "null";
		return 8;
	}
	if (o->s) {
		o->is_code = (o->type >> 3) & 1;
		o->is_data = !o->is_code;
		if (!o->is_code)
			o->kind = "data";
		else if (long_mode && o->l && !o->db)
			o->kind = "code64";
		else
			o->kind = o->db ? "code32" : "code16";
		return 8;
	}
	o->kind = (long_mode ? sys_long : sys_legacy)[o->type];
	if (!o->kind)
		o->kind = "invalid";
	if (o->type == 4 || o->type == 0xc) {
		o->gate_selector = rd16(b + 2);
		o->gate_offset = rd16(b) | (uint64_t)rd16(b + 6) << 16;
		o->base = 0;
		o->limit = o->raw_limit = 0;
	}
	if (long_mode && is_wide_sys(o->type)) {
		if (avail < 16)
			return -EINVAL;
		o->size = 16;
		if (o->type == 0xc)
			o->gate_offset |= (uint64_t)rd32(b + 8) << 32;
		else
			o->base |= (uint64_t)rd32(b + 8) << 32;
	}
	return (int)o->size;
}

int introspect_decode_gdt(const uint8_t *table, size_t len, int long_mode,
			  struct introspect_gdt_entry *out, size_t max, size_t *n)
{
	size_t off = 0;

	*n = 0;
	while (off + 8 <= len && *n < max) {
		struct introspect_gdt_entry *e = &out[*n];
		int used = introspect_decode_seg(table + off, len - off, long_mode, &e->seg);

		if (used < 0)
			return used;
		e->selector = (uint16_t)off;
		(*n)++;
		off += (size_t)used;
	}
	return 0;
}

static void seg_type_text(const struct introspect_seg *s, struct introspect_out *o)
{
	unsigned t = s->type;

	if (s->is_code)
		introspect_printf(o, " X%s%s%s", t & 2 ? "R" : "", t & 4 ? " conforming" : "",
				  t & 1 ? " accessed" : "");
	else
		introspect_printf(o, " R%s%s%s", t & 2 ? "W" : "", t & 4 ? " expand-down" : "",
				  t & 1 ? " accessed" : "");
}

void introspect_format_seg(uint16_t selector, const struct introspect_seg *s, struct introspect_out *o)
{
	introspect_printf(o, "0x%04x %-11s", selector, s->kind);
	if (s->type == 4 || (s->type == 0xc && !s->s)) {
		introspect_printf(o, " 0x%04x:0x%llx", s->gate_selector,
				  (unsigned long long)s->gate_offset);
	} else {
		introspect_printf(o, " base=0x%llx limit=0x%x", (unsigned long long)s->base, s->limit);
	}
	introspect_printf(o, " dpl=%u%s", s->dpl, s->p ? " P" : " not-present");
	if (s->s) {
		if (s->g)
			introspect_printf(o, " G");
		if (s->l)
			introspect_printf(o, " L");
		if (s->db)
			introspect_printf(o, " D/B");
		if (s->avl)
			introspect_printf(o, " AVL");
		seg_type_text(s, o);
	}
	introspect_printf(o, "\n");
}

void introspect_format_gdt(const uint8_t *table, size_t len, int long_mode, struct introspect_out *o)
{
	size_t off = 0;

	while (off + 8 <= len) {
		struct introspect_seg s;
		int used = introspect_decode_seg(table + off, len - off, long_mode, &s);

		if (used < 0) {
			introspect_printf(o, "0x%04zx 16-byte %s descriptor cut off at the table limit\n",
					  off, s.kind ? s.kind : "system");
			return;
		}
		if (strcmp(s.kind, "null") != 0)
			introspect_format_seg((uint16_t)off, &s, o);
		off += (size_t)used;
	}
	if (off < len)
		introspect_printf(o, "(%zu trailing bytes ignored)\n", len - off);
}

int introspect_decode_gate(const uint8_t *b, size_t avail, int long_mode, struct introspect_gate *o)
{
	size_t size = long_mode ? 16 : 8;

	memset(o, 0, sizeof(*o));
	if (avail < size)
		return -EINVAL;
	o->selector = rd16(b + 2);
	o->type = b[5] & 0xf;
	o->dpl = (b[5] >> 5) & 3;
	o->p = b[5] >> 7;
	o->offset = rd16(b) | (uint64_t)rd16(b + 6) << 16;
	if (long_mode) {
		o->offset |= (uint64_t)rd32(b + 8) << 32;
		o->ist = b[4] & 7;
		o->kind = o->type == 0xe ? "int64" : o->type == 0xf ? "trap64" : "invalid";
	} else {
		switch (o->type) {
		case 5: o->kind = "task"; o->offset = 0; break;
		case 6: o->kind = "int16"; o->offset &= 0xffff; break;
		case 7: o->kind = "trap16"; o->offset &= 0xffff; break;
		case 0xe: o->kind = "int32"; break;
		case 0xf: o->kind = "trap32"; break;
		default: o->kind = "invalid"; break;
		}
	}
	if (b[5] & 0x10)        /* S must be 0 in a gate */
		o->kind = "invalid";
	return (int)size;
}

int introspect_decode_idt(const uint8_t *table, size_t len, int long_mode,
			  struct introspect_gate *out, size_t max, size_t *n)
{
	size_t size = long_mode ? 16 : 8;

	*n = 0;
	for (size_t off = 0; off + size <= len && *n < max && *n < 256; off += size) {
		int rc = introspect_decode_gate(table + off, len - off, long_mode, &out[*n]);

		if (rc < 0)
			return rc;
		out[*n].vector = (unsigned)*n;
		(*n)++;
	}
	return 0;
}

const char *introspect_exception_name(unsigned v)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
		"#TS", "#NP", "#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM",
		"#VE", "#CP", NULL, NULL, NULL, NULL, NULL, NULL, "#HV", "#VC", "#SX", NULL,
	};

	return v < 32 ? names[v] : NULL;
}

void introspect_format_idt(const uint8_t *table, size_t len, int long_mode,
			   const struct introspect_symtab *syms, struct introspect_out *o)
{
	size_t size = long_mode ? 16 : 8, present = 0, total = 0;

	for (size_t off = 0; off + size <= len && total < 256; off += size, total++) {
		struct introspect_gate g;
		const char *exc = introspect_exception_name((unsigned)total);
		char sym[128];

		if (introspect_decode_gate(table + off, len - off, long_mode, &g) < 0 || !g.p)
			continue;
		present++;
		introspect_printf(o, "%3zu %-4s %-7s 0x%04x:0x%llx", total, exc ? exc : "",
				  g.kind, g.selector, (unsigned long long)g.offset);
		if (g.ist)
			introspect_printf(o, " ist=%u", g.ist);
		introspect_printf(o, " dpl=%u", g.dpl);
		if (syms && strcmp(g.kind, "task") != 0 &&
		    introspect_symtab_symbolize(syms, g.offset, sym, sizeof(sym)) == 0)
			introspect_printf(o, " <%s>", sym);
		introspect_printf(o, "\n");
	}
	introspect_printf(o, "%zu of %zu gates present\n", present, total);
}

int introspect_decode_tss64(const uint8_t *b, size_t len, struct introspect_tss64 *t)
{
	memset(t, 0, sizeof(*t));
	if (len < INTROSPECT_TSS64_SIZE)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		t->rsp[i] = rd64(b + 4 + 8 * i);
	for (int i = 1; i <= 7; i++)
		t->ist[i] = rd64(b + 36 + 8 * (i - 1));
	t->iopb = rd16(b + 102);
	return 0;
}

void introspect_format_tss64(const struct introspect_tss64 *t, struct introspect_out *o)
{
	for (int i = 0; i < 3; i++)
		introspect_printf(o, "rsp%d=0x%llx\n", i, (unsigned long long)t->rsp[i]);
	for (int i = 1; i <= 7; i++)
		introspect_printf(o, "ist%d=0x%llx\n", i, (unsigned long long)t->ist[i]);
	introspect_printf(o, "iopb=0x%x%s\n", t->iopb,
			  t->iopb >= INTROSPECT_TSS64_SIZE ? "" : " (inside the TSS header)");
}
