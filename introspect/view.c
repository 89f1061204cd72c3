/*
 * view.c — introspection of a running machine (view.h): control registers
 * from the vCPU, page-table pages through a shadow kept fresh from the
 * dirty log, guest-virtual memory access for gdb, and the monitor commands
 * (pt, translate, idt, gdt, tss, cr, shadow).
 *
 * The shadow only ever holds pages the walker read as page tables; data
 * that gdb reads or writes goes straight to guest RAM. Guest writes reach
 * the shadow through the dirty log at refresh; rrvm's own writes
 * (introspect_view_write) mark the pages they touch at once, because KVM
 * does not log writes made from userspace.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/view.h"

#define PAGE 4096ull
/* Enough for the page tables of any guest rrvm runs; a guest with more
 * gets the excess read uncached, never a failure. */
#define SHADOW_MAX_PAGES 32768u
#define EFER_LMA (1ull << 10)
#define MAX_ARGS 8
#define MAX_CMD 512
#define DESC_TABLE_MAX 65536u           /* GDTR/IDTR limit is 16 bits */

struct introspect_view {
	struct vmm *vm;
	struct introspect_symtab *syms;
	char sym_note[320];             /* why there are no symbols */
	struct introspect_mem ram;
	struct introspect_mem tables;   /* ram through the shadow */
	struct introspect_shadow *shadow;
	uint64_t *dirty;                /* our copy of the dirty log */
	size_t words;
	int tracked;                    /* dirty registered with vmm_dirty_track */
	uint64_t refreshes, marked;
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len) ? -EFAULT : 0;
}

struct introspect_view *introspect_view_new(struct vmm *vm, const char *kernel_elf)
{
	struct introspect_view *v = calloc(1, sizeof(*v));
	uint64_t pages;
	int rc;

	if (!v)
		return NULL;
	v->vm = vm;
	v->ram = (struct introspect_mem){ ram_read, vm };
	pages = vmm_mem_size(vm) / PAGE;
	if (introspect_shadow_new(&v->ram, pages < SHADOW_MAX_PAGES ? (size_t)pages + 1 : SHADOW_MAX_PAGES,
				  &v->shadow))
		goto fail;
	introspect_shadow_mem(v->shadow, &v->tables);
	v->words = vmm_dirty_words(vm);
	v->dirty = calloc(v->words ? v->words : 1, sizeof(uint64_t));
	if (!v->dirty)
		goto fail;
	/* Without a slot in the shared dirty log every refresh re-reads all
	 * tables: slower, never wrong. */
	v->tracked = vmm_dirty_track(vm, v->dirty) == 0;
	if (!kernel_elf) {
		snprintf(v->sym_note, sizeof(v->sym_note), "no kernel ELF given");
	} else {
		char err[256] = "";

		rc = introspect_symtab_load_file(kernel_elf, &v->syms, err, sizeof(err));
		if (rc == -ENOMEM)
			goto fail;
		if (rc)
			snprintf(v->sym_note, sizeof(v->sym_note), "%s", err);
	}
	return v;
fail:
	introspect_view_free(v);
	return NULL;
}

void introspect_view_free(struct introspect_view *v)
{
	if (!v)
		return;
	if (v->tracked)
		vmm_dirty_untrack(v->vm, v->dirty);
	free(v->dirty);
	introspect_shadow_free(v->shadow);
	introspect_symtab_free(v->syms);
	free(v);
}

void introspect_view_refresh(struct introspect_view *v)
{
	v->refreshes++;
	if (!v->tracked || vmm_dirty_collect(v->vm, v->dirty) != 0) {
		introspect_shadow_invalidate(v->shadow);
		return;
	}
	for (size_t w = 0; w < v->words; w++)
		v->marked += (uint64_t)__builtin_popcountll(v->dirty[w]);
	introspect_shadow_mark_dirty_bitmap(v->shadow, 0, v->dirty, v->words * 64);
	memset(v->dirty, 0, v->words * sizeof(uint64_t));
}

void introspect_view_invalidate(struct introspect_view *v)
{
	introspect_shadow_invalidate(v->shadow);
}

const struct introspect_symtab *introspect_view_symbols(const struct introspect_view *v)
{
	return v->syms;
}

/* ---- state and translation ---------------------------------------------- */

static int get_cpu(struct introspect_view *v, struct introspect_cpu *cpu, struct vmm_sregs *sr)
{
	struct vmm_sregs tmp;
	int rc;

	/* A walk needs only the control registers: no MSR read. */
	rc = sr ? vmm_get_sregs(v->vm, sr) : vmm_get_sregs_nomsr(v->vm, sr = &tmp);
	if (rc)
		return rc;
	memset(cpu, 0, sizeof(*cpu));
	cpu->cr0 = sr->cr0;
	cpu->cr3 = sr->cr3;
	cpu->cr4 = sr->cr4;
	cpu->efer = sr->efer;
	return 0;
}

static void why_text(const struct introspect_walk *w, char *why, size_t whylen)
{
	struct introspect_out o;

	if (!why || !whylen)
		return;
	introspect_out_buffer(&o, why, whylen);
	introspect_format_translation(w, &o);
	why[strcspn(why, "\n")] = '\0';
}

int introspect_view_translate(struct introspect_view *v, uint64_t va, uint64_t *pa, char *why,
			      size_t whylen)
{
	struct introspect_cpu cpu;
	struct introspect_walk w;
	int rc = get_cpu(v, &cpu, NULL);

	if (rc) {
		if (why && whylen)
			snprintf(why, whylen, "cannot read the vCPU's control registers: %s",
				 strerror(-rc));
		return -EFAULT;
	}
	if (introspect_translate(&cpu, &v->tables, va, &w) != 0) {
		why_text(&w, why, whylen);
		return -EFAULT;
	}
	*pa = w.pa;
	return 0;
}

/*
 * Visit [addr, addr+len) as physically contiguous chunks (one per page of
 * whatever size maps it). With fn NULL it only checks that every byte is
 * mapped and inside RAM, so callers run it once dry for all-or-nothing.
 */
static int each_chunk(struct introspect_view *v, const struct introspect_cpu *cpu, uint64_t addr,
		      size_t len, int (*fn)(struct introspect_view *, uint64_t, size_t, size_t, void *),
		      void *arg)
{
	uint64_t ram = vmm_mem_size(v->vm);
	size_t done = 0;

	if (len && addr + (len - 1) < addr)
		return -EFAULT;
	while (done < len) {
		struct introspect_walk w;
		uint64_t va = addr + done, chunk = len - done;

		if (introspect_translate(cpu, &v->tables, va, &w) != 0)
			return -EFAULT;
		if (w.page_size && w.page_size - (va - w.page_va) < chunk)
			chunk = w.page_size - (va - w.page_va);
		if (w.pa >= ram || chunk > ram - w.pa)
			return -EFAULT;
		if (fn) {
			int rc = fn(v, w.pa, done, (size_t)chunk, arg);

			if (rc)
				return rc;
		}
		done += (size_t)chunk;
	}
	return 0;
}

static int chunk_read(struct introspect_view *v, uint64_t pa, size_t off, size_t n, void *buf)
{
	return vmm_read_phys(v->vm, pa, (uint8_t *)buf + off, n) ? -EFAULT : 0;
}

static void mark_written(struct introspect_view *v, uint64_t pa, size_t n)
{
	for (uint64_t p = pa & ~(PAGE - 1); p < pa + n; p += PAGE)
		introspect_shadow_mark_dirty(v->shadow, p);
}

static int chunk_write(struct introspect_view *v, uint64_t pa, size_t off, size_t n, void *buf)
{
	if (vmm_write_phys(v->vm, pa, (const uint8_t *)buf + off, n))
		return -EFAULT;
	/* It may have been a page table: KVM's log does not see this write. */
	mark_written(v, pa, n);
	return 0;
}

int introspect_view_read(struct introspect_view *v, uint64_t addr, void *buf, size_t len, int phys)
{
	struct introspect_cpu cpu;

	if (!len)
		return 0;
	if (phys)
		return vmm_read_phys(v->vm, addr, buf, len) ? -EFAULT : 0;
	if (get_cpu(v, &cpu, NULL) || each_chunk(v, &cpu, addr, len, NULL, NULL))
		return -EFAULT;
	return each_chunk(v, &cpu, addr, len, chunk_read, buf);
}

int introspect_view_write(struct introspect_view *v, uint64_t addr, const void *buf, size_t len,
			  int phys)
{
	struct introspect_cpu cpu;

	if (!len)
		return 0;
	if (phys) {
		if (vmm_write_phys(v->vm, addr, buf, len))
			return -EFAULT;
		mark_written(v, addr, len);
		return 0;
	}
	/* Debugger writes ignore R/W, as ptrace's do: only mapped-ness counts. */
	if (get_cpu(v, &cpu, NULL) || each_chunk(v, &cpu, addr, len, NULL, NULL))
		return -EFAULT;
	return each_chunk(v, &cpu, addr, len, chunk_write, (void *)buf);
}

/* ---- monitor commands ------------------------------------------------------ */

const char *introspect_view_help(void)
{
	return "pt [--no-ad] [--limit N] [VA [VA_END|end]]\n"
	       "                            mappings as coalesced ranges, with totals; the first\n"
	       "                            N (default " INTROSPECT_VIEW_PT_LIMIT_STR ") are listed, then a count of the\n"
	       "                            rest; VA alone: the range holding VA; VA VA_END: those\n"
	       "                            in [VA, VA_END) (end: to the end of the address space)\n"
	       "pt --raw VA                 every level of the page walk for VA\n"
	       "translate VA                the physical address of VA, or where and why the walk stops\n"
	       "idt                         interrupt gates, handlers symbolised from the kernel ELF\n"
	       "gdt                         the GDT's descriptors and the loaded selectors\n"
	       "tss                         the task register and the TSS (RSP0-2, IST1-7)\n"
	       "cr                          CR0, CR2, CR3, CR4 and EFER bit by bit, and the paging mode\n"
	       "shadow                      the page-table shadow's cache statistics\n";
}

/* A number (0x... hex, or decimal) or a symbol of the kernel ELF. */
static int parse_addr(struct introspect_view *v, const char *s, uint64_t *out,
		      struct introspect_out *o)
{
	char *end;

	if (isdigit((unsigned char)s[0])) {
		int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

		errno = 0;
		*out = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
		if (!errno && *end == '\0' && end != (hex ? s + 2 : s))
			return 0;
	} else if (v->syms && introspect_symtab_find(v->syms, s, out) == 0) {
		return 0;
	}
	introspect_printf(o, "bad address '%s': want 0x<hex>, a decimal number or a symbol%s\n", s,
			  v->syms ? "" : " (no symbols loaded)");
	return -EINVAL;
}

static int cpu_or_say(struct introspect_view *v, struct introspect_cpu *cpu, struct vmm_sregs *sr,
		      struct introspect_out *o)
{
	int rc = get_cpu(v, cpu, sr);

	if (rc)
		introspect_printf(o, "cannot read the vCPU's registers: %s\n", strerror(-rc));
	return rc;
}

static void cmd_translate(struct introspect_view *v, int argc, char **argv, int raw,
			  struct introspect_out *o)
{
	struct introspect_cpu cpu;
	struct introspect_walk w;
	uint64_t va;

	if (argc != 2) {
		introspect_printf(o, "usage: %s VA\n", raw ? "pt --raw" : "translate");
		return;
	}
	if (parse_addr(v, argv[1], &va, o) || cpu_or_say(v, &cpu, NULL, o))
		return;
	introspect_translate(&cpu, &v->tables, va, &w);
	if (raw)
		introspect_format_walk(&w, o);
	else
		introspect_format_translation(&w, o);
}

/* pt's options: --no-ad, --limit N; returns the index of the first operand
 * or -1 after printing the usage. */
static int pt_options(int argc, char **argv, struct introspect_list_opts *opts, size_t *limit,
		      struct introspect_out *o)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		char *end;

		if (strcmp(argv[i], "--no-ad") == 0) {
			opts->ignore_ad = 1;
			i++;
			continue;
		}
		if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			errno = 0;
			*limit = strtoull(argv[i + 1], &end, 0);
			if (!errno && *end == '\0' && *limit >= 1 &&
			    *limit <= INTROSPECT_DEFAULT_MAX_RANGES) {
				i += 2;
				continue;
			}
			introspect_printf(o, "pt: --limit wants a number of ranges from 1 to %u\n",
					  INTROSPECT_DEFAULT_MAX_RANGES);
			return -1;
		}
		break;
	}
	if (argc - i > 2 || (i < argc && argv[i][0] == '-')) {
		introspect_printf(o, "usage: pt [--no-ad] [--limit N] [VA [VA_END|end]] | pt --raw VA\n");
		return -1;
	}
	return i;
}

static void cmd_pt(struct introspect_view *v, int argc, char **argv, struct introspect_out *o)
{
	struct introspect_list_opts opts = { 0 };
	struct introspect_maplist l = { 0 };
	struct introspect_cpu cpu;
	size_t limit = INTROSPECT_VIEW_PT_LIMIT;
	uint64_t a = 0, b = 0;
	int i, rc;

	if (argc >= 2 && strcmp(argv[1], "--raw") == 0) {
		cmd_translate(v, argc - 1, argv + 1, 1, o);
		return;
	}
	i = pt_options(argc, argv, &opts, &limit, o);
	if (i < 0)
		return;
	if (i < argc && parse_addr(v, argv[i], &a, o))
		return;
	if (i + 1 < argc) {
		if (strcmp(argv[i + 1], "end") == 0)
			b = 0;          /* to the end of the address space */
		else if (parse_addr(v, argv[i + 1], &b, o))
			return;
		else if (b <= a) {
			introspect_printf(o, "pt: empty range [0x%llx, 0x%llx)\n", (unsigned long long)a,
					  (unsigned long long)b);
			return;
		}
		opts.va_start = a;
		opts.va_end = b;
	}
	if (cpu_or_say(v, &cpu, NULL, o))
		return;
	/* The list shows at most limit ranges and stores no more: looping or
	 * recursive tables cost a bounded walk and a few lines, not a million. */
	if (argc - i != 1)
		opts.keep_ranges = limit;
	opts.cancel = o;        /* gdb's Ctrl-C ends the walk and the listing */
	rc = introspect_list(&cpu, &v->tables, &opts, &l);
	if (rc) {
		introspect_printf(o, "pt: %s\n", rc == -ENOMEM ? "out of memory" :
				  "the control registers describe no valid paging mode");
		return;
	}
	if (l.truncated == INTROSPECT_TRUNC_CANCELLED) {
		introspect_printf(o, "pt: interrupted: the walk stopped at va 0x%llx after %llu "
				  "entries\n", (unsigned long long)l.trunc_va,
				  (unsigned long long)l.entries);
		introspect_maplist_free(&l);
		return;
	}
	if (argc - i == 1) {
		/* The whole coalesced run holding VA, not a clipped piece of it. */
		size_t k;

		for (k = 0; k < l.n; k++)
			if (a >= l.v[k].va && a - l.v[k].va < l.v[k].size)
				break;
		if (k < l.n) {
			introspect_format_map(&l.v[k], o);
		} else {
			struct introspect_walk w;

			introspect_translate(&cpu, &v->tables, a, &w);
			introspect_format_translation(&w, o);
		}
	} else {
		introspect_format_maplist(&l, o);
		if (l.more && !introspect_out_cancelled(o)) {
			char end[32] = "end";

			if (b)
				snprintf(end, sizeof(end), "0x%llx", (unsigned long long)b);
			introspect_printf(o, "(the rest: pt 0x%llx %s; or pt --limit N)\n",
					  (unsigned long long)l.more_va, end);
		}
	}
	introspect_maplist_free(&l);
}

/* A descriptor table image at a linear address (GDTR/IDTR base). */
static uint8_t *read_table(struct introspect_view *v, const char *name, uint64_t base,
			   uint16_t limit, struct introspect_out *o)
{
	uint8_t *t = malloc((size_t)limit + 1);

	if (!t) {
		introspect_printf(o, "%s: out of memory\n", name);
		return NULL;
	}
	if (introspect_view_read(v, base, t, (size_t)limit + 1, 0)) {
		introspect_printf(o, "%s: base 0x%llx limit 0x%x is not mapped in guest RAM\n", name,
				  (unsigned long long)base, limit);
		free(t);
		return NULL;
	}
	return t;
}

static void cmd_idt(struct introspect_view *v, struct introspect_out *o)
{
	struct introspect_cpu cpu;
	struct vmm_sregs sr;
	uint8_t *t;

	if (cpu_or_say(v, &cpu, &sr, o))
		return;
	introspect_printf(o, "IDT base 0x%llx limit 0x%x\n", (unsigned long long)sr.idt_base,
			  sr.idt_limit);
	t = read_table(v, "idt", sr.idt_base, sr.idt_limit, o);
	if (!t)
		return;
	introspect_format_idt(t, (size_t)sr.idt_limit + 1, !!(sr.efer & EFER_LMA), v->syms, o);
	if (!v->syms)
		introspect_printf(o, "(handlers not symbolised: %s)\n", v->sym_note);
	free(t);
}

static void cmd_gdt(struct introspect_view *v, struct introspect_out *o)
{
	struct introspect_cpu cpu;
	struct vmm_sregs sr;
	uint8_t *t;

	if (cpu_or_say(v, &cpu, &sr, o))
		return;
	introspect_printf(o, "GDT base 0x%llx limit 0x%x\n", (unsigned long long)sr.gdt_base,
			  sr.gdt_limit);
	t = read_table(v, "gdt", sr.gdt_base, sr.gdt_limit, o);
	if (!t)
		return;
	introspect_format_gdt(t, (size_t)sr.gdt_limit + 1, !!(sr.efer & EFER_LMA), o);
	introspect_printf(o, "loaded: cs=0x%x ss=0x%x ds=0x%x es=0x%x fs=0x%x gs=0x%x tr=0x%x ldt=0x%x\n",
			  sr.cs.selector, sr.ss.selector, sr.ds.selector, sr.es.selector,
			  sr.fs.selector, sr.gs.selector, sr.tr.selector, sr.ldt.selector);
	free(t);
}

/* Stack pointers point one past their stack: name the byte below. */
static void stack_value(struct introspect_view *v, const char *name, uint64_t val,
			struct introspect_out *o)
{
	const struct introspect_sym *s = NULL;
	uint64_t off = 0;

	introspect_printf(o, "%s=0x%llx", name, (unsigned long long)val);
	if (v->syms && val)
		s = introspect_symtab_lookup(v->syms, val - 1, &off);
	if (s && off < s->size)
		introspect_printf(o, " <%s+0x%llx>", s->name, (unsigned long long)(off + 1));
	introspect_printf(o, "\n");
}

static void cmd_tss(struct introspect_view *v, struct introspect_out *o)
{
	struct introspect_cpu cpu;
	struct introspect_tss64 t;
	struct vmm_sregs sr;
	uint8_t b[INTROSPECT_TSS64_SIZE];
	char name[8];

	if (cpu_or_say(v, &cpu, &sr, o))
		return;
	if ((sr.tr.selector & ~7u) == 0 || !sr.tr.present) {
		introspect_printf(o, "no TSS: the task register is null (tr=0x%x)\n", sr.tr.selector);
		return;
	}
	introspect_printf(o, "TR 0x%x: base 0x%llx limit 0x%x type 0x%x\n", sr.tr.selector,
			  (unsigned long long)sr.tr.base, sr.tr.limit, sr.tr.type);
	if (!(sr.efer & EFER_LMA)) {
		introspect_printf(o, "not in long mode: only the 64-bit TSS is decoded\n");
		return;
	}
	if (sr.tr.limit + 1ull < INTROSPECT_TSS64_SIZE) {
		introspect_printf(o, "TSS limit 0x%x is shorter than a 64-bit TSS (%d bytes)\n",
				  sr.tr.limit, INTROSPECT_TSS64_SIZE);
		return;
	}
	if (introspect_view_read(v, sr.tr.base, b, sizeof(b), 0) ||
	    introspect_decode_tss64(b, sizeof(b), &t)) {
		introspect_printf(o, "TSS at 0x%llx is not mapped in guest RAM\n",
				  (unsigned long long)sr.tr.base);
		return;
	}
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "rsp%d", i);
		stack_value(v, name, t.rsp[i], o);
	}
	for (int i = 1; i <= 7; i++) {
		snprintf(name, sizeof(name), "ist%d", i);
		stack_value(v, name, t.ist[i], o);
	}
	introspect_printf(o, "iopb=0x%x%s\n", t.iopb,
			  t.iopb >= INTROSPECT_TSS64_SIZE ? "" : " (inside the TSS header)");
}

static void cmd_cr(struct introspect_view *v, struct introspect_out *o)
{
	struct introspect_cpu cpu;
	struct vmm_sregs sr;

	if (cpu_or_say(v, &cpu, &sr, o))
		return;
	introspect_format_cpu(&cpu, o);
	introspect_printf(o, "cr2=0x%llx (last page-fault address)\n", (unsigned long long)sr.cr2);
}

static void cmd_shadow(struct introspect_view *v, struct introspect_out *o)
{
	struct introspect_shadow_stats st;

	introspect_shadow_stats(v->shadow, &st);
	introspect_printf(o, "shadow: %zu page-table pages cached, %llu reads from the cache, "
			  "%llu page fills, %llu uncached reads\n", st.pages,
			  (unsigned long long)st.hits, (unsigned long long)st.fills,
			  (unsigned long long)st.uncached);
	introspect_printf(o, "refreshes: %llu, guest pages seen dirty: %llu%s\n",
			  (unsigned long long)v->refreshes, (unsigned long long)v->marked,
			  v->tracked ? "" : " (no dirty-log slot: every refresh re-reads all tables)");
}

int introspect_view_command(struct introspect_view *v, const char *cmd, struct introspect_out *o)
{
	static const char *const names[] = { "pt", "translate", "idt", "gdt", "tss", "cr", "shadow" };
	char buf[MAX_CMD], *argv[MAX_ARGS], *p, *save = NULL;
	size_t n, i;
	int argc = 0;

	if (!cmd)
		return 0;
	cmd += strspn(cmd, " \t");
	n = strcspn(cmd, " \t\r\n");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(cmd, names[i], n) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0]))
		return 0;
	if (strlen(cmd) >= sizeof(buf)) {
		introspect_printf(o, "%s: command longer than %d characters\n", names[i], MAX_CMD - 1);
		return 1;
	}
	strcpy(buf, cmd);
	for (p = strtok_r(buf, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == MAX_ARGS) {
			introspect_printf(o, "%s: too many arguments\n", names[i]);
			return 1;
		}
		argv[argc++] = p;
	}
	if (i == 0) {
		cmd_pt(v, argc, argv, o);
	} else if (i == 1) {
		cmd_translate(v, argc, argv, 0, o);
	} else if (argc > 1) {
		introspect_printf(o, "%s takes no arguments\n", names[i]);
	} else {
		static void (*const fns[])(struct introspect_view *, struct introspect_out *) = {
			NULL, NULL, cmd_idt, cmd_gdt, cmd_tss, cmd_cr, cmd_shadow
		};

		fns[i](v, o);
	}
	return 1;
}

int introspect_view_handler(struct introspect_view *v, int vector, uint64_t *addr)
{
	struct introspect_gate gate;
	struct vmm_sregs s;
	uint8_t b[16];
	int lm;
	unsigned size;

	if (vector < 0 || vector > 255 || vmm_get_sregs(v->vm, &s))
		return -ENOENT;
	if (!(s.cr0 & 1)) {
		uint16_t ivt[2];        /* real mode: offset, segment */

		if (introspect_view_read(v, s.idt_base + 4u * (unsigned)vector, ivt, 4, 1))
			return -EFAULT;
		*addr = ((uint64_t)ivt[1] << 4) + ivt[0];
		return 0;
	}
	lm = (s.efer & (1u << 10)) != 0;        /* EFER.LMA */
	size = lm ? 16 : 8;
	if ((unsigned)vector * size + size - 1 > s.idt_limit)
		return -ENOENT;
	if (introspect_view_read(v, s.idt_base + (uint64_t)vector * size, b, size, 0))
		return -EFAULT;
	if (introspect_decode_gate(b, size, lm, &gate) < 0 || !gate.p)
		return -ENOENT;
	*addr = gate.offset;
	return 0;
}
