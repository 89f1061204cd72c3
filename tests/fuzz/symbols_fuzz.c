/*
 * symbols_fuzz.c — libFuzzer target for the guest ELF symbol loader.
 *
 * The input is an ELF file (any class and layout). introspect_symtab_load_mem
 * must load it or refuse it with a message. A loaded table must be sorted
 * by address, and lookups, symbolization and name searches over it (at
 * addresses taken from the table and from the input) must be consistent:
 * a symbol found by name symbolizes back to a name. Built by `make fuzz`.
 */
#include <stdlib.h>
#include <string.h>

#include "introspect/introspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct introspect_symtab *t = NULL;
	char err[256] = "", buf[128];
	uint64_t addr, off;
	size_t n;

	if (introspect_symtab_load_mem(data, size, &t, err, sizeof(err)) != 0) {
		if (!err[0] || t)
			abort();
		return 0;
	}
	n = introspect_symtab_count(t);
	for (size_t i = 0; i < n; i++) {
		const struct introspect_sym *s = introspect_symtab_get(t, i), *l;

		if (i && introspect_symtab_get(t, i - 1)->addr > s->addr)
			abort();        /* not in address order */
		l = introspect_symtab_lookup(t, s->addr, &off);
		if (!l || l->addr > s->addr || off != s->addr - l->addr)
			abort();
		if (s->addr + (size & 0xff) >= s->addr &&       /* no wrap below every symbol */
		    introspect_symtab_symbolize(t, s->addr + (size & 0xff), buf, sizeof(buf)) != 0)
			abort();
		if (introspect_symtab_find(t, s->name, &addr) != 0)
			abort();        /* every listed name can be found */
		if (i > 64)
			break;
	}
	for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
		memcpy(&addr, data + i, 8);
		introspect_symtab_lookup(t, addr, &off);
		introspect_symtab_symbolize(t, addr, buf, sizeof(buf));
	}
	introspect_symtab_free(t);
	return 0;
}
