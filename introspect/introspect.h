/*
 * introspect.h — the guest introspection library: page tables, descriptors,
 * control registers and ELF symbols of a guest, read from guest physical
 * memory through a caller-supplied accessor.
 *
 * Nothing here knows about KVM. The caller (the VMM, the gdb stub, the trace
 * database) hands in the control registers as plain numbers and a
 * read_phys() callback; everything is therefore unit-testable on page tables
 * built in an ordinary buffer. No function keeps global state, calls exit()
 * or prints: text goes to a struct introspect_out (a caller buffer or an
 * output callback), and every view also has a structured form.
 *
 * Paging modes: none (identity), 32-bit (4K, 4M with CR4.PSE incl. PSE-36
 * high address bits), PAE (4K, 2M), 4-level (4K, 2M, 1G) and 5-level
 * (CR4.LA57). Levels are numbered the same in every mode: 1 = PTE, 2 = PDE,
 * 3 = PDPTE, 4 = PML4E, 5 = PML5E.
 *
 * MAXPHYADDR: struct introspect_cpu.maxphyaddr, 0 meaning 52 (the
 * architectural maximum). 52 never flags an entry a real CPU would accept;
 * callers that know the guest's CPUID.80000008H:EAX[7:0] should pass it so
 * that address bits above it are reported as reserved, as the CPU would.
 * 1G pages and PSE-36 are assumed supported.
 */
#ifndef RRVM_INTROSPECT_H
#define RRVM_INTROSPECT_H

#include <stddef.h>
#include <stdint.h>

#define INTROSPECT_WUR __attribute__((warn_unused_result))

/* ---- output ------------------------------------------------------------ */

/*
 * Where text goes. With write != NULL every piece of text is passed to it;
 * otherwise it is appended to buf[0..size) and always NUL-terminated (when
 * size > 0). len counts every byte produced, so len >= size means the buffer
 * was too small (as with snprintf).
 */
struct introspect_out {
	void (*write)(void *ctx, const char *s, size_t len);
	void *ctx;
	char *buf;
	size_t size;
	size_t len;
	int (*cancel)(void *cancel_ctx);        /* see introspect_out_cancel */
	void *cancel_ctx;
	int cancelled;
};

void introspect_out_buffer(struct introspect_out *o, char *buf, size_t size);
void introspect_out_callback(struct introspect_out *o,
			     void (*write)(void *ctx, const char *s, size_t len), void *ctx);
void introspect_printf(struct introspect_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* 1 if a buffer sink ran out of room. */
int introspect_out_truncated(const struct introspect_out *o);
/*
 * A way to stop long output early (gdb's Ctrl-C): cancel(cancel_ctx)
 * returns nonzero once whoever reads the output wants no more. Long
 * commands ask introspect_out_cancelled between pieces of work; the first
 * yes sticks. Without a cancel function (the default of both
 * introspect_out_* setups) nothing is ever cancelled.
 */
void introspect_out_cancel(struct introspect_out *o, int (*cancel)(void *cancel_ctx),
			   void *cancel_ctx);
int introspect_out_cancelled(struct introspect_out *o);

/* ---- guest memory and CPU state ---------------------------------------- */

/* Read len bytes of guest physical memory at gpa into buf. Returns 0, or
 * -EFAULT when any part of [gpa, gpa+len) is outside guest RAM. */
struct introspect_mem {
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, size_t len);
	void *ctx;
};

struct introspect_cpu {
	uint64_t cr0, cr3, cr4, efer;
	unsigned maxphyaddr;    /* 0 = 52; values outside 32..52 are clamped */
	/* PAE paging: the CPU loads the 4 PDPTEs when CR3 is written and uses
	 * those copies. Set pdpte_valid and pdpte[] when the VMM knows them
	 * (KVM_GET_SREGS2); otherwise they are read from memory at CR3. */
	int pdpte_valid;
	uint64_t pdpte[4];
};

enum introspect_paging {
	INTROSPECT_PAGING_NONE,         /* CR0.PG = 0: linear = physical */
	INTROSPECT_PAGING_32,
	INTROSPECT_PAGING_PAE,
	INTROSPECT_PAGING_4LEVEL,
	INTROSPECT_PAGING_5LEVEL,
	INTROSPECT_PAGING_INVALID,      /* a CR0/CR4/EFER mix no CPU allows */
};

enum introspect_paging introspect_paging_mode(const struct introspect_cpu *cpu);
const char *introspect_paging_name(enum introspect_paging mode);  /* "4-level" */
/* "PTE", "PDE", "PDPTE", "PML4E", "PML5E" for levels 1..5, "?" otherwise. */
const char *introspect_level_name(int level);

/* Effective attributes of a mapping (struct introspect_walk.flags,
 * struct introspect_map.flags). W, U and NX are combined across all levels
 * (W and U: every level allows; NX: some level forbids, only with EFER.NXE);
 * the others come from the leaf entry. Whether a supervisor write to a
 * read-only page faults depends on CR0.WP, which this does not fold in. */
enum {
	INTROSPECT_F_W   = 1u << 0,
	INTROSPECT_F_U   = 1u << 1,
	INTROSPECT_F_NX  = 1u << 2,
	INTROSPECT_F_G   = 1u << 3,
	INTROSPECT_F_PWT = 1u << 4,
	INTROSPECT_F_PCD = 1u << 5,
	INTROSPECT_F_PAT = 1u << 6,
	INTROSPECT_F_A   = 1u << 7,
	INTROSPECT_F_D   = 1u << 8,
};
/* "rwx u G PCD A D" style text of flags (NUL-terminated, truncated to len). */
void introspect_flags_str(unsigned flags, char *buf, size_t len);

/* ---- translation and raw walk ------------------------------------------ */

enum introspect_fault {
	INTROSPECT_FAULT_NONE,
	INTROSPECT_FAULT_NOT_PRESENT,   /* P = 0 in the entry at fault_level */
	INTROSPECT_FAULT_RESERVED,      /* reserved bits set: rsvd_mask/rsvd_bit */
	INTROSPECT_FAULT_NONCANONICAL,  /* 4-/5-level: VA not sign-extended */
	INTROSPECT_FAULT_BAD_TABLE,     /* the entry's table is outside guest RAM */
	INTROSPECT_FAULT_VA_RANGE,      /* 32-bit/PAE: VA wider than 32 bits */
	INTROSPECT_FAULT_BAD_MODE,      /* INTROSPECT_PAGING_INVALID */
};
const char *introspect_fault_name(enum introspect_fault f);  /* "not present" */

#define INTROSPECT_MAX_LEVELS 5
#define INTROSPECT_NO_GPA UINT64_MAX

struct introspect_walk_step {
	int level;              /* 5..1 */
	unsigned index;         /* entry index within its table */
	uint64_t table;         /* gpa of the table */
	uint64_t entry_gpa;     /* gpa of the entry; INTROSPECT_NO_GPA for PAE
				 * PDPTEs taken from introspect_cpu.pdpte[] */
	uint64_t entry;         /* raw value (32-bit entries zero-extended) */
	int read_ok;            /* 0: entry_gpa is outside guest RAM */
	uint64_t next;          /* present, valid entry: gpa of the next table,
				 * or of the page for the last step */
};

struct introspect_walk {
	uint64_t va;
	enum introspect_paging mode;
	int nxe;                        /* EFER.NXE was in force (XD bits) */
	unsigned nsteps;                /* steps[0] is the top level */
	struct introspect_walk_step steps[INTROSPECT_MAX_LEVELS];
	enum introspect_fault fault;
	int fault_level;                /* level where the walk stopped */
	uint64_t rsvd_mask;             /* RESERVED: the reserved bits found set */
	int rsvd_bit;                   /* RESERVED: the lowest of them, else -1 */
	/* Valid when fault == NONE. With paging off: pa = va, page_size 0. */
	uint64_t pa;
	uint64_t page_va, page_pa, page_size;
	int leaf_level;
	unsigned flags;                 /* INTROSPECT_F_* */
};

/*
 * Translate one linear address, recording every level of the walk in *w.
 * Returns 0 when va is mapped (w->pa is the physical address), otherwise the
 * reason is in w->fault and the return value summarises it: -ENOENT (not
 * present), -EINVAL (reserved bit, invalid mode), -ERANGE (non-canonical or
 * too wide), -EFAULT (table outside guest RAM).
 */
int introspect_translate(const struct introspect_cpu *cpu, const struct introspect_mem *mem,
			 uint64_t va, struct introspect_walk *w);

/* One line: "0xffffffff80001234 -> 0x1234 (2M page, rwx s G)" or
 * "0x1234: not present at PDE". */
void introspect_format_translation(const struct introspect_walk *w, struct introspect_out *o);
/* Every level: name, index, entry address, entry value, decoded bits. */
void introspect_format_walk(const struct introspect_walk *w, struct introspect_out *o);
/* The named bits of one raw entry at a level ("P RW US A PS ..."), as in the
 * raw walk. wide: 8-byte entry (PAE and long modes); nxe: EFER.NXE. */
void introspect_format_entry(int level, int wide, int nxe, uint64_t entry,
			     struct introspect_out *o);

/* ---- mapping list ------------------------------------------------------- */

enum introspect_pgsize {
	INTROSPECT_PG_4K, INTROSPECT_PG_2M, INTROSPECT_PG_4M, INTROSPECT_PG_1G,
	INTROSPECT_PG_NONE,             /* paging off: identity map */
	INTROSPECT_PG_COUNT,
};

/* A run of pages contiguous virtually and physically, with one page size and
 * identical flags. [va, va+size) maps to [pa, pa+size). */
struct introspect_map {
	uint64_t va, pa, size;
	uint64_t page_size;             /* 4096, 2M, 4M, 1G; 0 when paging off */
	unsigned flags;
};

/* A problem met while listing (the subtree under it is skipped). */
struct introspect_map_issue {
	uint64_t va;                    /* first VA the entry covers */
	int level;
	uint64_t entry_gpa;
	uint64_t entry;
	enum introspect_fault fault;    /* RESERVED or BAD_TABLE */
	int rsvd_bit;
};

#define INTROSPECT_DEFAULT_MAX_ENTRIES (1u << 24)
#define INTROSPECT_DEFAULT_MAX_RANGES (1u << 20)
#define INTROSPECT_MAX_ISSUES 16

/* Zeroed options mean: whole address space, default budgets, A/D kept. */
struct introspect_list_opts {
	uint64_t va_start, va_end;      /* [va_start, va_end); va_end 0 = no end.
					 * Ranges are clipped to the window. */
	uint64_t max_entries;           /* page-table entries examined (each
					 * table read costs all its entries) */
	size_t max_ranges;              /* ranges found (kept or counted) */
	size_t keep_ranges;             /* ranges stored in out->v; further ones
					 * are only counted (out->more), so memory
					 * stays small whatever the tables say;
					 * 0 = store every range */
	int ignore_ad;                  /* drop A and D so they neither split
					 * ranges nor show in diffs */
	struct introspect_out *cancel;  /* if set, the walk ends early (truncated
					 * CANCELLED) once it is cancelled */
};

enum introspect_truncation {
	INTROSPECT_TRUNC_NONE,
	INTROSPECT_TRUNC_ENTRIES,       /* max_entries reached */
	INTROSPECT_TRUNC_RANGES,        /* max_ranges reached */
	INTROSPECT_TRUNC_CANCELLED,     /* opts->cancel was cancelled */
};

struct introspect_maplist {
	enum introspect_paging mode;
	struct introspect_map *v;       /* sorted by va, non-overlapping */
	size_t n, cap;
	uint64_t bytes[INTROSPECT_PG_COUNT];    /* mapped bytes per page size */
	uint64_t pages;                 /* leaf entries seen */
	uint64_t entries;               /* entries examined */
	enum introspect_truncation truncated;
	uint64_t limit;                 /* the limit that was hit */
	uint64_t trunc_va;              /* where the walk stopped */
	uint64_t more;                  /* ranges found past keep_ranges */
	uint64_t more_va;               /* the first of them */
	size_t nissues;                 /* all issues; the first ones kept: */
	struct introspect_map_issue issues[INTROSPECT_MAX_ISSUES];
};

/*
 * List all mappings of the address space. Tables outside guest RAM and
 * entries with reserved bits are recorded in issues[] and skipped; loops and
 * recursive mappings end because the walk depth is fixed and the work is
 * bounded by opts->max_entries / max_ranges (out->truncated says which).
 * *out must be zeroed or previously freed; it is reset. Returns 0, -ENOMEM,
 * or -EINVAL (invalid paging mode, bad window).
 */
INTROSPECT_WUR int introspect_list(const struct introspect_cpu *cpu, const struct introspect_mem *mem,
				   const struct introspect_list_opts *opts, struct introspect_maplist *out);
void introspect_maplist_free(struct introspect_maplist *l);
/* One line per range, a "... N more ranges" line when ranges were only
 * counted (keep_ranges), then the totals, issues and any truncation note.
 * If o is cancelled while listing ranges, the list ends with an
 * "interrupted" line instead. */
void introspect_format_maplist(const struct introspect_maplist *l, struct introspect_out *o);
void introspect_format_map(const struct introspect_map *m, struct introspect_out *o);

/* ---- diff of two mapping lists ------------------------------------------ */

enum introspect_diff_kind {
	INTROSPECT_DIFF_ADDED,
	INTROSPECT_DIFF_REMOVED,
	INTROSPECT_DIFF_CHANGED,        /* physical target, flags or page size */
};

/* [va, va+size) changed; before (REMOVED, CHANGED) and after (ADDED,
 * CHANGED) describe exactly that window in the old and new list. */
struct introspect_diff_entry {
	enum introspect_diff_kind kind;
	uint64_t va, size;
	struct introspect_map before, after;
};

struct introspect_diff {
	struct introspect_diff_entry *v;
	size_t n, cap;
};

/* Compare old list a with new list b (each sorted and non-overlapping, as
 * introspect_list makes them). Adjacent changes of one kind that continue
 * each other are merged. *out must be zeroed or freed. 0, -ENOMEM, -EINVAL
 * (unsorted/overlapping input). */
INTROSPECT_WUR int introspect_diff(const struct introspect_maplist *a, const struct introspect_maplist *b,
				   struct introspect_diff *out);
void introspect_diff_free(struct introspect_diff *d);
/* "+ va-va -> pa ...", "- ...", "~ va-va pa flags => pa flags". */
void introspect_format_diff(const struct introspect_diff *d, struct introspect_out *o);

/* ---- shadow: cached page-table pages ------------------------------------ */

/*
 * A cache of guest physical pages keyed by page number, meant to sit between
 * the walker and guest memory: introspect_shadow_mem() gives an accessor that
 * serves reads from cached pages and reads (and caches) a page from the
 * backing accessor only when it is new or marked dirty. The caller marks
 * pages dirty from KVM's dirty log between stops. Pages that cannot be read
 * are not cached. When max_pages are cached, further pages are read through
 * uncached. Not thread-safe.
 */
struct introspect_shadow;

struct introspect_shadow_stats {
	uint64_t hits;          /* reads served from the cache */
	uint64_t fills;         /* pages read from backing memory into the cache */
	uint64_t uncached;      /* reads passed through (cache full, or error) */
	size_t pages;           /* pages cached now */
};

INTROSPECT_WUR int introspect_shadow_new(const struct introspect_mem *backing, size_t max_pages,
					 struct introspect_shadow **out);
void introspect_shadow_free(struct introspect_shadow *s);
/* An accessor reading through the shadow; valid until the shadow is freed. */
void introspect_shadow_mem(struct introspect_shadow *s, struct introspect_mem *out);
/* Mark the page holding gpa stale. */
void introspect_shadow_mark_dirty(struct introspect_shadow *s, uint64_t gpa);
/* Bitmap in KVM_GET_DIRTY_LOG layout: bit i of the 64-bit words stands for
 * the page at base_gpa + i * 4096, npages bits in all. */
void introspect_shadow_mark_dirty_bitmap(struct introspect_shadow *s, uint64_t base_gpa,
					 const uint64_t *bitmap, size_t npages);
void introspect_shadow_invalidate(struct introspect_shadow *s);   /* all stale */
void introspect_shadow_stats(const struct introspect_shadow *s, struct introspect_shadow_stats *out);

/* ---- control registers --------------------------------------------------- */

enum introspect_reg { INTROSPECT_CR0, INTROSPECT_CR3, INTROSPECT_CR4, INTROSPECT_EFER };

struct introspect_bitname {
	unsigned bit;
	const char *name;       /* "PG" */
	const char *what;       /* "paging" */
};

/* The named bits of CR0, CR4 or EFER (CR3: PWT, PCD, used without PCIDE). */
const struct introspect_bitname *introspect_reg_bits(enum introspect_reg r, size_t *n);
/* "cr0=0x80000011 PE ET PG"; unnamed bits set show as "bit5". CR3 shows
 * base= and either pcid= (when cr4_for_cr3 has PCIDE) or PWT/PCD. */
void introspect_format_reg(enum introspect_reg r, uint64_t value, uint64_t cr4_for_cr3,
			   struct introspect_out *o);
/* cr0, cr3, cr4, efer lines, then the paging mode and what WP, SMEP, SMAP
 * and NXE mean for memory accesses. */
void introspect_format_cpu(const struct introspect_cpu *cpu, struct introspect_out *o);

/* ---- descriptors: GDT/LDT, IDT, TSS --------------------------------------- */

/* A GDT/LDT entry. In long mode the system descriptors LDT, TSS and call gate
 * take 16 bytes (size = 16); everything else 8. */
struct introspect_seg {
	unsigned size;          /* 8 or 16 bytes */
	uint64_t base;
	uint32_t limit;         /* in bytes-1 after granularity scaling */
	uint32_t raw_limit;     /* the 20-bit field */
	unsigned type;          /* 4-bit type */
	unsigned s;             /* 1 code/data, 0 system */
	unsigned dpl, p, avl, l, db, g;
	int is_code, is_data;
	/* system call gate: target */
	uint16_t gate_selector;
	uint64_t gate_offset;
	const char *kind;       /* "code64", "data", "tss64-avail", "null", ... */
};

/* Decode the descriptor at the start of b (avail bytes). long_mode selects
 * the IA-32e rules. Returns bytes consumed (8 or 16), -EINVAL if a 16-byte
 * descriptor is cut off or avail < 8. */
INTROSPECT_WUR int introspect_decode_seg(const uint8_t *b, size_t avail, int long_mode,
					 struct introspect_seg *out);

struct introspect_gdt_entry {
	uint16_t selector;      /* index * 8 */
	struct introspect_seg seg;
};

/* Decode a whole table (len bytes, e.g. GDTR.limit + 1). Fills up to max
 * entries, sets *n; a trailing cut-off 16-byte descriptor ends the table
 * with -EINVAL (entries before it are kept). */
INTROSPECT_WUR int introspect_decode_gdt(const uint8_t *table, size_t len, int long_mode,
					 struct introspect_gdt_entry *out, size_t max, size_t *n);
/* One line per non-null entry. */
void introspect_format_gdt(const uint8_t *table, size_t len, int long_mode, struct introspect_out *o);
void introspect_format_seg(uint16_t selector, const struct introspect_seg *s, struct introspect_out *o);

struct introspect_gate {
	unsigned vector;
	uint64_t offset;
	uint16_t selector;
	unsigned ist;           /* 0 = none, 1..7 (64-bit gates) */
	unsigned type, dpl, p;
	const char *kind;       /* "int64", "trap64", "int32", "task", "invalid"... */
};

/* Decode one gate: 16 bytes in long mode, 8 otherwise. Returns bytes used or
 * -EINVAL when avail is too short. */
INTROSPECT_WUR int introspect_decode_gate(const uint8_t *b, size_t avail, int long_mode,
					  struct introspect_gate *out);
/* Up to max gates from an IDT image of len bytes; *n set. A cut-off last
 * gate is ignored. */
INTROSPECT_WUR int introspect_decode_idt(const uint8_t *table, size_t len, int long_mode,
					 struct introspect_gate *out, size_t max, size_t *n);
struct introspect_symtab;
/* Present gates, one per line, with the exception name for vectors 0-31 and,
 * when syms is not NULL, the handler symbolised. */
void introspect_format_idt(const uint8_t *table, size_t len, int long_mode,
			   const struct introspect_symtab *syms, struct introspect_out *o);
/* "#PF" for 14; NULL for vectors that are not architectural exceptions. */
const char *introspect_exception_name(unsigned vector);

struct introspect_tss64 {
	uint64_t rsp[3];
	uint64_t ist[8];        /* ist[1..7]; ist[0] unused */
	uint16_t iopb;
};
#define INTROSPECT_TSS64_SIZE 104
/* -EINVAL if len < 104. */
INTROSPECT_WUR int introspect_decode_tss64(const uint8_t *b, size_t len, struct introspect_tss64 *out);
void introspect_format_tss64(const struct introspect_tss64 *t, struct introspect_out *o);

/* ---- guest ELF symbols ----------------------------------------------------- */

enum introspect_sym_type {
	INTROSPECT_SYM_NOTYPE, INTROSPECT_SYM_OBJECT, INTROSPECT_SYM_FUNC, INTROSPECT_SYM_OTHER,
};

struct introspect_sym {
	const char *name;
	uint64_t addr, size;
	enum introspect_sym_type type;
	int global;             /* STB_GLOBAL or STB_WEAK */
};

struct introspect_symtab;

/* Load .symtab (or .dynsym when there is none) of an ELF32/ELF64
 * little-endian file. Undefined, section, file and TLS symbols and empty
 * names are left out. On error returns -errno (-ENOEXEC for a malformed or
 * unsupported ELF, -ENOENT for no symbol table) and writes a message naming
 * the bad field/offset to err (if errlen > 0). */
INTROSPECT_WUR int introspect_symtab_load_file(const char *path, struct introspect_symtab **out,
					       char *err, size_t errlen);
INTROSPECT_WUR int introspect_symtab_load_mem(const void *data, size_t len, struct introspect_symtab **out,
					      char *err, size_t errlen);
void introspect_symtab_free(struct introspect_symtab *t);

size_t introspect_symtab_count(const struct introspect_symtab *t);
/* Symbols in address order, 0 <= i < count. */
const struct introspect_sym *introspect_symtab_get(const struct introspect_symtab *t, size_t i);
/* The symbol for addr: the one whose [addr, addr+size) contains it (the
 * innermost, i.e. highest start), else the nearest preceding symbol. NULL
 * if addr is below every symbol. *off = addr - sym->addr. */
const struct introspect_sym *introspect_symtab_lookup(const struct introspect_symtab *t, uint64_t addr,
						      uint64_t *off);
/* Which function holds addr: the innermost symbol whose [addr, addr+size)
 * contains it, or an assembly label (size 0) up to the next symbol; NULL
 * when none does (past the end of the nearest function, below every
 * symbol, after a final marker such as _end). The one answer rrvm gives
 * (trace database rows, monitor idt). *off = addr - sym->addr. */
const struct introspect_sym *introspect_symtab_holder(const struct introspect_symtab *t, uint64_t addr,
						      uint64_t *off);
/* "name+0x12" or "name" into buf; -ENOENT (buf gets "0x...") if no symbol. */
int introspect_symtab_symbolize(const struct introspect_symtab *t, uint64_t addr, char *buf, size_t len);
/* Address of name (a global definition preferred). 0 or -ENOENT. */
int introspect_symtab_find(const struct introspect_symtab *t, const char *name, uint64_t *addr);

#endif
