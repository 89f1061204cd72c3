/*
 * symbols.c — the guest kernel's ELF symbol table: address -> "name+0xoff",
 * name -> address, and iteration for the trace database.
 *
 * The ELF is untrusted input (a recording carries its kernel, and anyone can
 * hand rrvm a file), so every offset and size is checked against the file
 * size before it is used, with overflow-safe arithmetic, and any error names
 * the field that is wrong. From a file only the headers, the symbol table and
 * its string table are read (pread), not the whole image, so a vmlinux with
 * debug info costs no more than its symbols.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "introspect/introspect.h"

struct introspect_symtab {
	struct introspect_sym *syms;    /* sorted by address, best first on ties */
	size_t n;
	uint64_t *maxend;               /* max(addr + size) over syms[0..i] */
	size_t *by_name;                /* indices sorted by name, global first */
	char *strtab;                   /* names point into this */
};

struct src {
	const uint8_t *mem;
	int fd;
	uint64_t size;
	char *err;
	size_t errlen;
};

static int bad(struct src *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct src *s, int rc, const char *fmt, ...)
{
	va_list ap;

	if (s->errlen) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int src_read(struct src *s, uint64_t off, void *buf, uint64_t len, const char *what)
{
	if (off > s->size || len > s->size - off)
		return bad(s, -ENOEXEC, "ELF %s at offset 0x%llx size 0x%llx is beyond the end of "
			   "the file (size 0x%llx)", what, (unsigned long long)off,
			   (unsigned long long)len, (unsigned long long)s->size);
	if (s->mem) {
		memcpy(buf, s->mem + off, (size_t)len);
		return 0;
	}
	for (uint64_t done = 0; done < len;) {
		ssize_t n = pread(s->fd, (uint8_t *)buf + done, (size_t)(len - done), (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bad(s, n < 0 ? -errno : -EIO, "reading ELF %s at offset 0x%llx failed",
				   what, (unsigned long long)(off + done));
		done += (uint64_t)n;
	}
	return 0;
}

static uint64_t le(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | b[n];
	return v;
}

static int rank(const struct introspect_sym *s)
{
	return (s->size ? 8 : 0) + (s->type == INTROSPECT_SYM_FUNC ? 4 : 0) +
	       (s->type == INTROSPECT_SYM_OBJECT ? 2 : 0) + (s->global ? 1 : 0);
}

static int cmp_addr(const void *pa, const void *pb)
{
	const struct introspect_sym *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (rank(a) != rank(b))
		return rank(b) - rank(a);
	return strcmp(a->name, b->name);
}

/* qsort has no context argument: by_name sorting goes through this pair. */
struct name_ref {
	const struct introspect_sym *sym;
	size_t idx;
};

static int cmp_name(const void *pa, const void *pb)
{
	const struct name_ref *a = pa, *b = pb;
	int c = strcmp(a->sym->name, b->sym->name);

	if (c)
		return c;
	if (a->sym->global != b->sym->global)
		return b->sym->global - a->sym->global;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

void introspect_symtab_free(struct introspect_symtab *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->maxend);
	free(t->by_name);
	free(t->strtab);
	free(t);
}

static int build_index(struct introspect_symtab *t)
{
	struct name_ref *refs;

	qsort(t->syms, t->n, sizeof(*t->syms), cmp_addr);
	t->maxend = malloc((t->n ? t->n : 1) * sizeof(*t->maxend));
	t->by_name = malloc((t->n ? t->n : 1) * sizeof(*t->by_name));
	refs = malloc((t->n ? t->n : 1) * sizeof(*refs));
	if (!t->maxend || !t->by_name || !refs) {
		free(refs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct introspect_sym *s = &t->syms[i];
		uint64_t end = s->addr + s->size < s->addr ? UINT64_MAX : s->addr + s->size;

		t->maxend[i] = (i && t->maxend[i - 1] > end) ? t->maxend[i - 1] : end;
		refs[i] = (struct name_ref){ s, i };
	}
	qsort(refs, t->n, sizeof(*refs), cmp_name);
	for (size_t i = 0; i < t->n; i++)
		t->by_name[i] = refs[i].idx;
	free(refs);
	return 0;
}

/* Parse the section headers and fill t from the chosen symbol table. */
static int parse(struct src *s, struct introspect_symtab *t)
{
	uint8_t eh[64], *sh = NULL, *symdata = NULL;
	uint64_t shoff, shnum, shentsize, symoff, symsize, symentsize, stroff, strsize, link;
	unsigned is64, hdrsize, shdr_min, sym_min;
	size_t pick = SIZE_MAX;
	int rc;

	if (s->size < 16)
		return bad(s, -ENOEXEC, "file of %llu bytes is too short for an ELF header",
			   (unsigned long long)s->size);
	if ((rc = src_read(s, 0, eh, 16, "identification")) < 0)
		return rc;
	if (memcmp(eh, "\177ELF", 4) != 0)
		return bad(s, -ENOEXEC, "not an ELF file (bad magic at offset 0)");
	if (eh[4] != 1 && eh[4] != 2)
		return bad(s, -ENOEXEC, "ELF class %u at offset 4 is neither ELF32 nor ELF64", eh[4]);
	if (eh[5] != 1)
		return bad(s, -ENOEXEC, "ELF data encoding %u at offset 5: only little-endian is supported",
			   eh[5]);
	is64 = eh[4] == 2;
	hdrsize = is64 ? 64 : 52;
	shdr_min = is64 ? 64 : 40;
	sym_min = is64 ? 24 : 16;
	if ((rc = src_read(s, 0, eh, hdrsize, "header")) < 0)
		return rc;
	shoff = is64 ? le(eh + 40, 8) : le(eh + 32, 4);
	shentsize = le(eh + (is64 ? 58 : 46), 2);
	shnum = le(eh + (is64 ? 60 : 48), 2);
	if (shoff == 0)
		return bad(s, -ENOENT, "ELF has no section headers (e_shoff = 0), so no symbol table");
	if (shentsize < shdr_min)
		return bad(s, -ENOEXEC, "e_shentsize %llu is smaller than a section header (%u)",
			   (unsigned long long)shentsize, shdr_min);
	if (shnum == 0) {       /* extended numbering: the count is in shdr[0].sh_size */
		uint8_t sh0[64];

		if ((rc = src_read(s, shoff, sh0, shdr_min, "section header 0")) < 0)
			return rc;
		shnum = is64 ? le(sh0 + 32, 8) : le(sh0 + 20, 4);
	}
	if (shnum == 0 || shnum > s->size / shentsize)
		return bad(s, -ENOEXEC, "section header count %llu does not fit in the file",
			   (unsigned long long)shnum);
	sh = malloc((size_t)(shnum * shentsize));
	if (!sh)
		return -ENOMEM;
	if ((rc = src_read(s, shoff, sh, shnum * shentsize, "section headers")) < 0)
		goto out;
	for (unsigned want = 2; want <= 11 && pick == SIZE_MAX; want += 9)    /* SYMTAB, DYNSYM */
		for (size_t i = 0; i < shnum; i++)
			if (le(sh + i * shentsize + 4, 4) == want) {
				pick = i;
				break;
			}
	if (pick == SIZE_MAX) {
		rc = bad(s, -ENOENT, "ELF has no .symtab or .dynsym section");
		goto out;
	}
#define SHF(i, f64, f32, n64) (is64 ? le(sh + (i) * shentsize + (f64), (n64)) : le(sh + (i) * shentsize + (f32), 4))
	symoff = SHF(pick, 24, 16, 8);
	symsize = SHF(pick, 32, 20, 8);
	link = le(sh + pick * shentsize + (is64 ? 40 : 24), 4);
	symentsize = SHF(pick, 56, 36, 8);
	if (symentsize == 0)
		symentsize = sym_min;
	if (symentsize < sym_min) {
		rc = bad(s, -ENOEXEC, "section %zu: symbol entry size %llu is smaller than %u", pick,
			 (unsigned long long)symentsize, sym_min);
		goto out;
	}
	if (link == 0 || link >= shnum || le(sh + link * shentsize + 4, 4) != 3) {
		rc = bad(s, -ENOEXEC, "section %zu: sh_link %llu is not a string table", pick,
			 (unsigned long long)link);
		goto out;
	}
	stroff = SHF(link, 24, 16, 8);
	strsize = SHF(link, 32, 20, 8);
#undef SHF
	if (strsize > s->size || symsize > s->size) {
		rc = bad(s, -ENOEXEC, "symbol table (0x%llx bytes) or string table (0x%llx bytes) is "
			 "larger than the file", (unsigned long long)symsize, (unsigned long long)strsize);
		goto out;
	}
	t->strtab = malloc((size_t)strsize + 1);
	symdata = malloc((size_t)symsize + 1);
	if (!t->strtab || !symdata) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = src_read(s, stroff, t->strtab, strsize, "string table")) < 0 ||
	    (rc = src_read(s, symoff, symdata, symsize, "symbol table")) < 0)
		goto out;
	t->strtab[strsize] = '\0';      /* every in-range name is now terminated */
	t->syms = malloc((size_t)(symsize / symentsize + 1) * sizeof(*t->syms));
	if (!t->syms) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < symsize / symentsize; i++) {
		const uint8_t *p = symdata + i * symentsize;
		uint64_t name = le(p, 4);
		unsigned info = p[is64 ? 4 : 12], shndx = (unsigned)le(p + (is64 ? 6 : 14), 2);
		unsigned type = info & 0xf, bind = info >> 4;
		struct introspect_sym *y = &t->syms[t->n];

		if (name >= strsize + (strsize == 0)) {
			rc = bad(s, -ENOEXEC, "symbol %llu: name offset 0x%llx is beyond the string "
				 "table (size 0x%llx)", (unsigned long long)i, (unsigned long long)name,
				 (unsigned long long)strsize);
			goto out;
		}
		/* Undefined, SECTION, FILE and TLS (not an address) are left out. */
		if (shndx == 0 || type == 3 || type == 4 || type == 6 || !t->strtab[name])
			continue;
		y->name = t->strtab + name;
		y->addr = is64 ? le(p + 8, 8) : le(p + 4, 4);
		y->size = is64 ? le(p + 16, 8) : le(p + 8, 4);
		y->type = type == 0 ? INTROSPECT_SYM_NOTYPE : type == 1 ? INTROSPECT_SYM_OBJECT
			: type == 2 ? INTROSPECT_SYM_FUNC : INTROSPECT_SYM_OTHER;
		y->global = bind == 1 || bind == 2;
		t->n++;
	}
	rc = build_index(t);
out:
	free(sh);
	free(symdata);
	return rc;
}

static int load(struct src *s, struct introspect_symtab **out)
{
	struct introspect_symtab *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (s->errlen)
		s->err[0] = '\0';
	if (!t)
		return -ENOMEM;
	rc = parse(s, t);
	if (rc < 0) {
		introspect_symtab_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int introspect_symtab_load_mem(const void *data, size_t len, struct introspect_symtab **out,
			       char *err, size_t errlen)
{
	struct src s = { .mem = data, .fd = -1, .size = len, .err = err, .errlen = errlen };

	if (!data && len) {
		*out = NULL;
		return -EINVAL;
	}
	s.mem = data ? data : (const uint8_t *)"";
	return load(&s, out);
}

int introspect_symtab_load_file(const char *path, struct introspect_symtab **out, char *err,
				size_t errlen)
{
	struct src s = { .err = err, .errlen = errlen };
	struct stat st;
	int rc;

	*out = NULL;
	/* O_NONBLOCK: a FIFO returns at once, to be refused by fstat below. */
	s.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s.fd < 0) {
		rc = -errno;
		return bad(&s, rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(s.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(s.fd);
		return bad(&s, -EINVAL, "%s: not a regular file", path);
	}
	s.size = (uint64_t)st.st_size;
	rc = load(&s, out);
	close(s.fd);
	if (rc < 0 && errlen) {
		/* Prefix the path so the message names the file. */
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	return rc;
}

size_t introspect_symtab_count(const struct introspect_symtab *t)
{
	return t->n;
}

const struct introspect_sym *introspect_symtab_get(const struct introspect_symtab *t, size_t i)
{
	return i < t->n ? &t->syms[i] : NULL;
}

static int contains(const struct introspect_sym *s, uint64_t addr)
{
	return s->size && addr >= s->addr && addr - s->addr < s->size;
}

const struct introspect_sym *introspect_symtab_lookup(const struct introspect_symtab *t, uint64_t addr,
						      uint64_t *off)
{
	size_t lo = 0, hi = t->n, i;

	while (lo < hi) {       /* first symbol with addr > the address */
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	i = lo - 1;
	/* Innermost container: scan back only while something before could
	 * still reach addr (maxend is a running maximum of symbol ends). */
	for (size_t k = i + 1; k-- > 0 && t->maxend[k] > addr;) {
		if (contains(&t->syms[k], addr)) {
			while (k > 0 && t->syms[k - 1].addr == t->syms[k].addr &&
			       contains(&t->syms[k - 1], addr))
				k--;
			i = k;
			goto found;
		}
	}
	while (i > 0 && t->syms[i - 1].addr == t->syms[i].addr)
		i--;
found:
	if (off)
		*off = addr - t->syms[i].addr;
	return &t->syms[i];
}

const struct introspect_sym *introspect_symtab_holder(const struct introspect_symtab *t, uint64_t addr,
						      uint64_t *off)
{
	const struct introspect_sym *s = introspect_symtab_lookup(t, addr, off);
	size_t lo, hi;

	if (!s)
		return NULL;
	if (s->size)
		return contains(s, addr) ? s : NULL;
	/* An assembly label: it covers up to the next symbol. A marker with
	 * nothing after it (_end) covers nothing. */
	lo = (size_t)(s - t->syms);
	hi = t->n;
	while (lo < hi) {       /* first symbol above the label */
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= s->addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && addr < t->syms[lo].addr ? s : NULL;
}

int introspect_symtab_symbolize(const struct introspect_symtab *t, uint64_t addr, char *buf, size_t len)
{
	uint64_t off;
	const struct introspect_sym *s = introspect_symtab_lookup(t, addr, &off);

	if (!s) {
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
		return -ENOENT;
	}
	if (off)
		snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)off);
	else
		snprintf(buf, len, "%s", s->name);
	return 0;
}

int introspect_symtab_find(const struct introspect_symtab *t, const char *name, uint64_t *addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {       /* first name >= the one asked */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->syms[t->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->n || strcmp(t->syms[t->by_name[lo]].name, name) != 0)
		return -ENOENT;
	*addr = t->syms[t->by_name[lo]].addr;
	return 0;
}
