/*
 * protect_test.c — write-protected guest pages (vmm/protect.c) on a real
 * guest (needs /dev/kvm and samples/race.elf; skipped without them).
 *
 * race.elf runs under the deterministic driver (det_driver.h) twice: once
 * plainly, once with the page of its `race` structure (the bank's
 * balances, and the stack of a worker) write-protected. The guest must not
 * notice: the same exit count (writes to the page are VMM_EV_WRITE, never
 * counted), the same output and final state hash. The writes must come
 * (many), each inside the page, and a snapshot taken with the page
 * protected must restore and replay to the same end (the writes rrvm
 * completed were marked for the snapshot's incremental save). Bad frames
 * are refused, and removing the protection gives RAM its one slot back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect/introspect.h"
#include "tests/unit/tap.h"
#include "tests/unit/det_driver.h"
#include "vmm/internal.h"

#define MEM (32ull << 20)

static struct det d;

struct end {
	uint64_t exits, hash, writes, outside;
	enum det_end end;
	size_t out_len;
	uint64_t out_hash;
};

/* Run to the end, counting VMM_EV_WRITE events (and those outside frame). */
static void run_to_end(struct det *m, uint64_t frame, struct end *e)
{
	struct vmm_event ev;

	memset(e, 0, sizeof(*e));
	while (m->st.end == DET_RUNNING) {
		if (det_step(m, &ev, false))
			break;
		if (ev.kind == VMM_EV_WRITE) {
			e->writes++;
			e->outside += ev.u.write.gpa / VMM_PAGE_SIZE != frame || !ev.u.write.is_write;
		}
	}
	e->exits = vmm_exits(m->vm);
	e->end = m->st.end;
	e->out_len = m->st.out_len;
	e->out_hash = vmm_hash(m->out, m->st.out_len, 0);
	if (vmm_state_hash(m->vm, &e->hash))
		e->hash = 0;
}

int main(void)
{
	const char *t = getenv("top_builddir");
	char kernel[4200], why[256] = "";
	struct introspect_symtab *syms = NULL;
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *snap = NULL;
	struct vmm_error err = { "" };
	struct det_state saved;
	struct end plain, prot, again;
	uint64_t race, frame, bad;

	snprintf(kernel, sizeof(kernel), "%s/samples/race.elf", t ? t : ".");
	if (access("/dev/kvm", R_OK | W_OK) != 0 || access(kernel, R_OK) != 0) {
		printf("1..0 # SKIP needs /dev/kvm and %s\n", kernel);
		return 0;
	}
	if (introspect_symtab_load_file(kernel, &syms, why, sizeof(why)) ||
	    introspect_symtab_find(syms, "race", &race)) {
		printf("1..0 # SKIP no symbol 'race' in %s: %s\n", kernel, why);
		return 0;
	}
	introspect_symtab_free(syms);
	frame = race / VMM_PAGE_SIZE;   /* the kernel runs identity-mapped */

	if (det_create(&d, kernel, MEM, NULL, &err)) {
		printf("1..0 # SKIP cannot boot %s: %s\n", kernel, err.msg);
		return 0;
	}
	run_to_end(&d, frame, &plain);
	vmm_destroy(d.vm);
	ok(plain.end == DET_EXITED, "race.elf ran to its end unprotected (%s)", det_end_name(plain.end));

	if (det_create(&d, kernel, MEM, NULL, &err)) {
		ok(0, "boot again: %s", err.msg);
		return tap_done();
	}
	bad = MEM / VMM_PAGE_SIZE;
	ok(vmm_protect_pages(d.vm, &bad, 1, &err) == -EFAULT && strstr(err.msg, "outside guest RAM"),
	   "a frame outside RAM is refused: %s", err.msg);
	ok(vmm_protected_pages(d.vm, NULL) == 0, "and nothing is protected after the refusal");
	err.msg[0] = 0;
	ok(vmm_protect_pages(d.vm, &frame, 1, &err) == 0, "protect the page of 'race' (0x%llx)%s",
	   (unsigned long long)(frame * VMM_PAGE_SIZE), err.msg);
	ok(d.vm->nslots == 3, "RAM is split in three slots around it (%u)", d.vm->nslots);
	det_run(&d, 300);
	ok(vmm_pagestore_new(&ps) == 0 && vmm_snapshot_save(d.vm, ps, &snap, &err) == 0,
	   "snapshot at exit 300 with the page protected%s", err.msg);
	saved = d.st;
	run_to_end(&d, frame, &prot);
	ok(prot.writes > 100, "the guest's writes to the page come to rrvm (%llu)",
	   (unsigned long long)prot.writes);
	ok(prot.outside == 0, "each one a write inside the protected page");
	ok(prot.end == plain.end && prot.exits == plain.exits,
	   "the same end and exit count as unprotected (%llu, %llu): those writes are not counted",
	   (unsigned long long)prot.exits, (unsigned long long)plain.exits);
	ok(prot.out_len == plain.out_len && prot.out_hash == plain.out_hash, "the same output");
	ok(prot.hash == plain.hash && plain.hash != 0, "the same final state hash");

	ok(snap && vmm_snapshot_restore(d.vm, snap, NULL, &err) == 0, "restore the snapshot%s",
	   err.msg);
	d.st = saved;
	run_to_end(&d, frame, &again);
	ok(again.exits == plain.exits && again.hash == plain.hash && again.writes > 0,
	   "from the restored snapshot, protected still, the same end again");

	ok(vmm_protect_pages(d.vm, NULL, 0, &err) == 0 && d.vm->nslots == 1 &&
	   vmm_protected_pages(d.vm, NULL) == 0, "unprotecting gives RAM its one slot back");
	vmm_snapshot_free(snap);
	vmm_pagestore_free(ps);
	vmm_destroy(d.vm);
	return tap_done();
}
