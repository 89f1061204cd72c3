/*
 * ptdiff.c — `monitor pt-diff` (internal.h) on the timeline: go to the
 * first position (timeline.c, either direction, from the nearest
 * checkpoint), list the mappings there, go to the second, list again,
 * diff, and go back to where the replay was. gdb's Ctrl-C stops it on the
 * way to either position (monitor.c: debug_monitor_watch) or while
 * listing; it still goes back.
 *
 * The lists are read straight from guest RAM, not through the view's
 * shadow, which follows the replay where it is now.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"
#include "replay/replay.h"

struct ptdiff_args {
	char pos[2][64];
	int with_ad;
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len) ? -EFAULT : 0;
}

static int parse_args(const char *args, struct ptdiff_args *a, struct introspect_out *out)
{
	char buf[256], *tok, *save = NULL;
	struct replay_pos p;
	int npos = 0;

	memset(a, 0, sizeof(*a));
	if (!args || strlen(args) >= sizeof(buf))
		goto usage;
	strcpy(buf, args);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (strcmp(tok, "--ad") == 0) {
			a->with_ad = 1;
		} else if (npos == 2) {
			goto usage;
		} else if (strlen(tok) < sizeof(a->pos[0]) && replay_pos_parse(tok, &p) == 0) {
			strcpy(a->pos[npos++], tok);
		} else {
			introspect_printf(out, "pt-diff: bad position '%s': want EXITS or "
					  "EXITS+STEPS, as 'monitor position' prints\n", tok);
			return -EINVAL;
		}
	}
	if (npos == 2)
		return 0;
usage:
	introspect_printf(out, "usage: pt-diff [--ad] POS_A POS_B (positions: EXITS[+STEPS])\n");
	return -EINVAL;
}

/* Go to pos and list the mappings there. */
static int list_at(struct debug *d, const char *pos, int with_ad, struct introspect_maplist *l,
		   struct introspect_out *out)
{
	struct introspect_list_opts opts = { .ignore_ad = !with_ad, .cancel = out };
	struct introspect_cpu cpu = { 0 };
	struct introspect_mem mem = { ram_read, d->vm };
	struct vmm_sregs sr;
	int rc = debug_tl_go(d, pos, out);

	if (rc)
		return rc;
	rc = vmm_get_sregs(d->vm, &sr);
	if (rc) {
		introspect_printf(out, "pt-diff: reading the vCPU at position %s: %s\n", pos,
				  strerror(-rc));
		return rc;
	}
	cpu.cr0 = sr.cr0;
	cpu.cr3 = sr.cr3;
	cpu.cr4 = sr.cr4;
	cpu.efer = sr.efer;
	rc = introspect_list(&cpu, &mem, &opts, l);
	if (rc) {
		introspect_printf(out, "pt-diff: at position %s: %s\n", pos,
				  rc == -ENOMEM ? "out of memory" : "no valid paging mode in CR0/CR4/EFER");
		return rc;
	}
	return 0;
}

static void summary(const char *name, const char *pos, const struct introspect_maplist *l,
		    struct introspect_out *out)
{
	introspect_printf(out, "%s: position %s, %s paging, %zu range%s%s\n", name, pos,
			  introspect_paging_name(l->mode), l->n, l->n == 1 ? "" : "s",
			  l->truncated || l->nissues ? " (incomplete: see `pt` there)" : "");
}

int debug_ptdiff(struct debug *d, const char *args, struct introspect_out *out)
{
	struct introspect_maplist l[2] = { { 0 }, { 0 } };
	struct introspect_diff df = { 0 };
	char ps[REPLAY_POS_STRLEN];
	struct debug_ckpt back;
	struct ptdiff_args a;
	int rc, rc2;

	rc = parse_args(args, &a, out);
	if (rc)
		return rc;
	rc = debug_tl_mark(d, &back);
	if (rc) {
		introspect_printf(out, "pt-diff: cannot note where the replay is: %s\n",
				  d->why[0] ? d->why : strerror(-rc));
		d->why[0] = 0;
		return rc;
	}
	rc = list_at(d, a.pos[0], a.with_ad, &l[0], out);
	if (!rc)
		rc = list_at(d, a.pos[1], a.with_ad, &l[1], out);
	rc2 = d->failed ? -EIO : debug_tl_return(d, &back);
	if (rc2)
		introspect_printf(out, "pt-diff: could not go back to where the replay was: %s\n",
				  d->why[0] ? d->why : strerror(-rc2));
	else if (rc == -EINTR || (!rc && introspect_out_cancelled(out)))
		introspect_printf(out, "pt-diff: interrupted; the replay is back at position %s\n",
				  replay_pos_format(back.pos, ps));
	debug_tl_unmark(&back);
	if (rc == -EINTR)
		rc = 0;		/* said so */
	if (rc || introspect_out_cancelled(out))
		goto out;
	rc = introspect_diff(&l[0], &l[1], &df);
	if (rc) {
		introspect_printf(out, "pt-diff: %s\n", rc == -ENOMEM ? "out of memory" : "bad mapping lists");
		goto out;
	}
	summary("from", a.pos[0], &l[0], out);
	summary("to", a.pos[1], &l[1], out);
	if (!a.with_ad)
		introspect_printf(out, "(accessed/dirty bits ignored; --ad to include them)\n");
	introspect_format_diff(&df, out);
out:
	introspect_diff_free(&df);
	introspect_maplist_free(&l[0]);
	introspect_maplist_free(&l[1]);
	return rc ? rc : rc2;
}
