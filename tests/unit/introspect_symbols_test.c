/*
 * introspect_symbols_test.c — guest ELF symbols: a small ELF32 and ELF64
 * built here (functions, a nested function, a label, an object, duplicates,
 * undefined/section/file/TLS symbols that must be left out), lookups by
 * address and name, loading from a file and from this test's own binary, and
 * malformed inputs: every truncation, every single-byte corruption, and
 * specific bad fields, each of which must give an error, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect/introspect.h"
#include "tests/unit/tap.h"

static uint8_t img[4096];
static size_t img_len;
static size_t shoff_pos, sh_base, symtab_pos, strsz;

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

struct tsym {
	const char *name;
	uint64_t value, size;
	unsigned type, bind, shndx;
};

static const struct tsym tsyms[] = {
	{ "", 0, 0, 0, 0, 0 },
	{ "t.c", 0, 0, 4, 0, 0xfff1 },                  /* FILE */
	{ "", 0x1000, 0, 3, 0, 1 },                     /* SECTION */
	{ "start", 0x1000, 0x100, 2, 1, 1 },
	{ "inner", 0x1010, 0x10, 2, 0, 1 },
	{ "label", 0x1080, 0, 0, 0, 1 },
	{ "data_obj", 0x2000, 8, 1, 1, 1 },
	{ "ext", 0, 0, 0, 1, 0 },                       /* undefined */
	{ "dup", 0x3000, 4, 2, 0, 1 },
	{ "dup", 0x3100, 4, 2, 1, 1 },
	{ "start_alias", 0x1000, 0, 0, 1, 1 },
	{ "tlsvar", 0x10, 8, 6, 1, 1 },                 /* TLS */
};
#define NSYMS (sizeof(tsyms) / sizeof(tsyms[0]))

/* Section header i: name, type, offset, size, link, entsize. */
static void shdr(int is64, int i, unsigned name, unsigned type, uint64_t off, uint64_t size,
		 unsigned link, uint64_t entsize)
{
	uint8_t *p = img + sh_base + (size_t)i * (is64 ? 64 : 40);

	put(p, name, 4);
	put(p + 4, type, 4);
	if (is64) {
		put(p + 24, off, 8);
		put(p + 32, size, 8);
		put(p + 40, link, 4);
		put(p + 56, entsize, 8);
	} else {
		put(p + 16, off, 4);
		put(p + 20, size, 4);
		put(p + 24, link, 4);
		put(p + 36, entsize, 4);
	}
}

static void build(int is64)
{
	static const char shstr[] = "\0.text\0.symtab\0.strtab\0.shstrtab";
	size_t pos, strtab_pos, shstr_pos, entsz = is64 ? 24 : 16;
	unsigned noff[NSYMS];

	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	put(img + 16, 2, 2);                    /* ET_EXEC */
	put(img + 18, is64 ? 62 : 3, 2);
	pos = is64 ? 64 : 52;
	pos += 16;                              /* .text: 16 bytes */
	strtab_pos = pos;
	img[pos++] = 0;
	for (size_t i = 0; i < NSYMS; i++) {
		noff[i] = 0;
		if (tsyms[i].name[0]) {
			noff[i] = (unsigned)(pos - strtab_pos);
			strcpy((char *)img + pos, tsyms[i].name);
			pos += strlen(tsyms[i].name) + 1;
		}
	}
	strsz = pos - strtab_pos;
	pos = (pos + 7) & ~(size_t)7;
	symtab_pos = pos;
	for (size_t i = 0; i < NSYMS; i++) {
		uint8_t *p = img + pos;
		unsigned info = tsyms[i].bind << 4 | tsyms[i].type;

		put(p, noff[i], 4);
		if (is64) {
			p[4] = (uint8_t)info;
			put(p + 6, tsyms[i].shndx, 2);
			put(p + 8, tsyms[i].value, 8);
			put(p + 16, tsyms[i].size, 8);
		} else {
			put(p + 4, tsyms[i].value, 4);
			put(p + 8, tsyms[i].size, 4);
			p[12] = (uint8_t)info;
			put(p + 14, tsyms[i].shndx, 2);
		}
		pos += entsz;
	}
	shstr_pos = pos;
	memcpy(img + pos, shstr, sizeof(shstr));
	pos += sizeof(shstr);
	pos = (pos + 7) & ~(size_t)7;
	sh_base = pos;
	shoff_pos = is64 ? 40 : 32;
	put(img + shoff_pos, sh_base, is64 ? 8 : 4);
	put(img + (is64 ? 52 : 40), is64 ? 64 : 52, 2);        /* e_ehsize */
	put(img + (is64 ? 58 : 46), is64 ? 64 : 40, 2);        /* e_shentsize */
	put(img + (is64 ? 60 : 48), 5, 2);                     /* e_shnum */
	put(img + (is64 ? 62 : 50), 4, 2);                     /* e_shstrndx */
	shdr(is64, 1, 1, 1, is64 ? 64 : 52, 16, 0, 0);
	shdr(is64, 2, 7, 2, symtab_pos, NSYMS * entsz, 3, entsz);
	shdr(is64, 3, 15, 3, strtab_pos, strsz, 0, 0);
	shdr(is64, 4, 23, 3, shstr_pos, sizeof(shstr), 0, 0);
	img_len = sh_base + 5 * (is64 ? 64 : 40);
}

static const char *sym_at(const struct introspect_symtab *t, uint64_t addr)
{
	static char buf[128];

	if (introspect_symtab_symbolize(t, addr, buf, sizeof(buf)) < 0)
		return "(none)";
	return buf;
}

static void test_lookups(int is64)
{
	struct introspect_symtab *t;
	char err[256];
	uint64_t a = 0;
	const char *cls = is64 ? "ELF64" : "ELF32";

	build(is64);
	is_int(introspect_symtab_load_mem(img, img_len, &t, err, sizeof(err)), 0, "%s loads", cls);
	if (!t)
		return;
	is_int(introspect_symtab_count(t), 7, "%s: 7 symbols (undef, FILE, SECTION, TLS left out)", cls);
	is_str(sym_at(t, 0x1000), "start", "%s: function start, not the NOTYPE alias", cls);
	is_str(sym_at(t, 0x1015), "inner+0x5", "%s: innermost containing function", cls);
	is_str(sym_at(t, 0x1085), "start+0x85", "%s: containing function beats a preceding label", cls);
	is_str(sym_at(t, 0x1100), "label+0x80", "%s: past the end: nearest preceding symbol", cls);
	is_str(sym_at(t, 0x2004), "data_obj+0x4", "%s: object", cls);
	is_str(sym_at(t, 0x3102), "dup+0x2", "%s: duplicate name by address", cls);
	{
		char buf[32];

		is_int(introspect_symtab_symbolize(t, 0x500, buf, sizeof(buf)), -ENOENT, "%s: below all: -ENOENT", cls);
		is_str(buf, "0x500", "%s: below all: hex address", cls);
	}
	ok(introspect_symtab_lookup(t, 0xfff, NULL) == NULL, "%s: lookup below all is NULL", cls);
	{
		/* Which function holds an address: the one answer of rrvm. */
		const struct introspect_sym *h;
		uint64_t off = 0;

		h = introspect_symtab_holder(t, 0x1015, &off);
		ok(h && !strcmp(h->name, "inner") && off == 5, "%s: holder: innermost function", cls);
		h = introspect_symtab_holder(t, 0x1085, NULL);
		ok(h && !strcmp(h->name, "start"), "%s: holder: containing function, not the label",
		   cls);
		h = introspect_symtab_holder(t, 0x1100, NULL);
		ok(h && !strcmp(h->name, "label"), "%s: holder: a label covers up to the next symbol",
		   cls);
		ok(introspect_symtab_holder(t, 0x2008, NULL) == NULL,
		   "%s: holder: past the end of an object: none", cls);
		ok(introspect_symtab_holder(t, 0x3104, NULL) == NULL,
		   "%s: holder: past the end of the last function: none", cls);
		ok(introspect_symtab_holder(t, 0x500, NULL) == NULL, "%s: holder: below all: none",
		   cls);
	}
	is_int(introspect_symtab_find(t, "start", &a), 0, "%s: find start", cls);
	is_int(a, 0x1000, "%s: start address", cls);
	is_int(introspect_symtab_find(t, "dup", &a), 0, "%s: find dup", cls);
	is_int(a, 0x3100, "%s: the global dup is preferred", cls);
	is_int(introspect_symtab_find(t, "ext", &a), -ENOENT, "%s: undefined symbol not found", cls);
	is_int(introspect_symtab_find(t, "tlsvar", &a), -ENOENT, "%s: TLS symbol not found", cls);
	is_int(introspect_symtab_find(t, "zzz", &a), -ENOENT, "%s: unknown name", cls);
	{
		const struct introspect_sym *s0 = introspect_symtab_get(t, 0);
		const struct introspect_sym *s6 = introspect_symtab_get(t, 6);

		ok(s0 && !strcmp(s0->name, "start") && s0->type == INTROSPECT_SYM_FUNC && s0->global &&
		   s0->size == 0x100, "%s: iteration in address order, fields", cls);
		ok(s6 && !strcmp(s6->name, "dup") && s6->addr == 0x3100, "%s: last symbol", cls);
		ok(introspect_symtab_get(t, 7) == NULL, "%s: get past the end is NULL", cls);
	}
	{
		/* The IDT view symbolises handlers when given a symbol table. */
		uint8_t idt[16 * 15] = { 0 };
		char out[2048];
		struct introspect_out o;

		idt[14 * 16 + 0] = 0x15;
		idt[14 * 16 + 1] = 0x10;
		idt[14 * 16 + 2] = 0x08;
		idt[14 * 16 + 5] = 0x8e;
		introspect_out_buffer(&o, out, sizeof(out));
		introspect_format_idt(idt, sizeof(idt), 1, t, &o);
		ok(strstr(out, "#PF  int64   0x0008:0x1015 dpl=0 <inner+0x5>") != NULL,
		   "%s: IDT gate symbolised", cls);
	}
	introspect_symtab_free(t);
}

static int load_fails(const char *what, const char *want_msg)
{
	struct introspect_symtab *t = NULL;
	char err[256] = "";
	int rc = introspect_symtab_load_mem(img, img_len, &t, err, sizeof(err));

	if (rc == 0) {
		introspect_symtab_free(t);
		return ok(0, "%s: must fail", what);
	}
	if (!ok(t == NULL && err[0] && (!want_msg || strstr(err, want_msg)), "%s: rc %d", what, rc))
		diag("message: %s", err);
	else
		diag("%s", err);
	return rc;
}

static void test_malformed(int is64)
{
	struct introspect_symtab *t;
	char err[256];
	size_t full, bad_trunc = 0, crashes_avoided = 0;
	uint8_t save[4096];
	const char *cls = is64 ? "ELF64" : "ELF32";

	build(is64);
	full = img_len;
	for (size_t len = 0; len < full; len++) {
		t = NULL;
		if (introspect_symtab_load_mem(img, len, &t, err, sizeof(err)) == 0 || !err[0]) {
			bad_trunc++;
			introspect_symtab_free(t);
		}
	}
	is_int(bad_trunc, 0, "%s: every truncation (0..%zu bytes) fails with a message", cls, full - 1);
	/* Every single-byte corruption: must not crash (ASan catches overreads). */
	memcpy(save, img, full);
	for (size_t i = 0; i < full; i++) {
		static const uint8_t vals[] = { 0xff, 0x80, 0x7f, 0x00 };

		for (size_t v = 0; v < sizeof(vals); v++) {
			img[i] = vals[v];
			t = NULL;
			if (introspect_symtab_load_mem(img, full, &t, err, sizeof(err)) == 0) {
				/* Whatever loaded must be usable. */
				char buf[64];

				introspect_symtab_symbolize(t, 0x1085, buf, sizeof(buf));
				introspect_symtab_free(t);
			}
			crashes_avoided++;
			img[i] = save[i];
		}
	}
	ok(crashes_avoided == full * 4, "%s: %zu single-byte corruptions survived", cls, crashes_avoided);

	img[0] = 'X';
	load_fails("bad magic", "magic");
	img[0] = 0x7f;
	img[4] = 3;
	load_fails("bad class", "class 3");
	img[4] = is64 ? 2 : 1;
	img[5] = 2;
	load_fails("big-endian", "little-endian");
	img[5] = 1;
	put(img + shoff_pos, 0x7fffffff0ull, is64 ? 8 : 4);
	load_fails("e_shoff beyond the file", "section headers at offset 0x");
	put(img + shoff_pos, sh_base, is64 ? 8 : 4);
	put(img + (is64 ? 58 : 46), 8, 2);
	load_fails("e_shentsize too small", "e_shentsize 8");
	put(img + (is64 ? 58 : 46), is64 ? 64 : 40, 2);
	put(img + shoff_pos, 0, is64 ? 8 : 4);
	is_int(load_fails("no section headers", "e_shoff = 0"), -ENOENT, "no section headers: -ENOENT");
	put(img + shoff_pos, sh_base, is64 ? 8 : 4);
	shdr(is64, 2, 7, 2, symtab_pos, NSYMS * (is64 ? 24 : 16), 99, is64 ? 24 : 16);
	load_fails("symtab sh_link out of range", "sh_link 99");
	shdr(is64, 2, 7, 2, symtab_pos, NSYMS * (is64 ? 24 : 16), 1, is64 ? 24 : 16);
	load_fails("symtab sh_link to PROGBITS", "not a string table");
	shdr(is64, 2, 7, 2, 0x100000, NSYMS * (is64 ? 24 : 16), 3, is64 ? 24 : 16);
	load_fails("symtab offset beyond the file", "symbol table at offset 0x100000");
	shdr(is64, 2, 7, 2, symtab_pos, NSYMS * (is64 ? 24 : 16), 3, 3);
	load_fails("symbol entry size too small", "entry size 3");
	shdr(is64, 2, 7, 2, symtab_pos, NSYMS * (is64 ? 24 : 16), 3, is64 ? 24 : 16);
	put(img + symtab_pos + 3 * (is64 ? 24 : 16), 0x7777, 4);
	load_fails("symbol name beyond the string table", "name offset 0x7777");
	memcpy(img, save, full);
	shdr(is64, 2, 7, 1, symtab_pos, NSYMS * (is64 ? 24 : 16), 3, is64 ? 24 : 16);
	is_int(load_fails("no symbol table", "no .symtab"), -ENOENT, "no symbol table: -ENOENT");
	memcpy(img, save, full);
}

static void test_files(const char *self)
{
	struct introspect_symtab *t;
	char err[512], path[] = "/tmp/introspect_symXXXXXX";
	uint64_t a;
	int fd;

	build(1);
	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, img, img_len) == (ssize_t)img_len, "wrote test ELF to %s", path);
	if (fd >= 0)
		close(fd);
	is_int(introspect_symtab_load_file(path, &t, err, sizeof(err)), 0, "load from file");
	if (t) {
		is_int(introspect_symtab_count(t), 7, "file: 7 symbols");
		introspect_symtab_free(t);
	}
	ok(truncate(path, 100) == 0, "truncate the file to 100 bytes");
	ok(introspect_symtab_load_file(path, &t, err, sizeof(err)) == -ENOEXEC && strstr(err, path),
	   "truncated file: -ENOEXEC, message names the file");
	diag("%s", err);
	unlink(path);
	ok(introspect_symtab_load_file(path, &t, err, sizeof(err)) == -ENOENT && strstr(err, path),
	   "missing file: -ENOENT naming it");
	ok(introspect_symtab_load_file("/tmp", &t, err, sizeof(err)) < 0, "directory refused");

	/* This test program itself: a real toolchain ELF with a .symtab. */
	if (introspect_symtab_load_file(self, &t, err, sizeof(err)) == 0) {
		ok(introspect_symtab_count(t) > 10, "own binary: %zu symbols", introspect_symtab_count(t));
		ok(introspect_symtab_find(t, "main", &a) == 0, "own binary: main found");
		ok(introspect_symtab_find(t, "main", &a) == 0 && !strcmp(sym_at(t, a + 1), "main+0x1"),
		   "own binary: main+0x1 symbolised");
		introspect_symtab_free(t);
	} else {
		ok(0, "own binary %s loads: %s", self, err);
	}
}

int main(void)
{
	test_lookups(1);
	test_lookups(0);
	test_malformed(1);
	test_malformed(0);
	test_files("/proc/self/exe");
	return tap_done();
}
