/*
 * ptdiff.c — `monitor pt-diff` (internal.h): replay the
 * recording privately to the earlier position, list the mappings, replay
 * on to the later one, list again, diff.
 *
 * The lists are read straight from guest RAM, not through a view's shadow:
 * a shadow is kept fresh from the dirty log, and reading that log here would
 * take the bits this replay's own fingerprint checks need.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"
#include "replay/replay.h"

struct ptdiff_args {
	uint64_t pos[2];
	int with_ad;
};

static void discard(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
}

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len) ? -EFAULT : 0;
}

static int parse_pos(const char *s, uint64_t *out)
{
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int parse_args(const char *args, struct ptdiff_args *a, struct introspect_out *out)
{
	char buf[256], *tok, *save = NULL;
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
		} else if (parse_pos(tok, &a->pos[npos]) == 0) {
			npos++;
		} else {
			introspect_printf(out, "pt-diff: bad position '%s': want an exit count\n", tok);
			return -EINVAL;
		}
	}
	if (npos == 2)
		return 0;
usage:
	introspect_printf(out, "usage: pt-diff [--ad] POS_A POS_B (exit counts)\n");
	return -EINVAL;
}

/* Replay on to exits and list the mappings there. *end_at is the exit
 * count where the recording ended, once it has (UINT64_MAX before): the
 * final state is a position too, but nothing can be replayed past it. */
static int list_at(struct replay *r, uint64_t exits, int with_ad, uint64_t *end_at,
		   struct introspect_maplist *l, struct introspect_out *out)
{
	struct introspect_list_opts opts = { .ignore_ad = !with_ad };
	struct replay_result res = { .stop = REPLAY_STOP_END, .exits = *end_at };
	struct introspect_cpu cpu = { 0 };
	struct introspect_mem mem = { ram_read, replay_vm(r) };
	struct vmm_sregs sr;
	int rc;

	if (*end_at == UINT64_MAX) {
		replay_stop_at(r, exits);
		rc = replay_run(r, &res);
		if (rc) {
			introspect_printf(out, "pt-diff: replaying to exit %" PRIu64 ": %s\n", exits,
					  strerror(-rc));
			return rc;
		}
		if (res.stop == REPLAY_STOP_END)
			*end_at = res.exits;
	}
	if (res.exits != exits || (res.stop != REPLAY_STOP_POSITION && res.stop != REPLAY_STOP_END)) {
		if (res.stop == REPLAY_STOP_END) {
			introspect_printf(out, "pt-diff: position %" PRIu64 " is past the end of the "
					  "recording (it ends at exit %" PRIu64 ")\n", exits, res.exits);
			return -ERANGE;
		}
		introspect_printf(out, "pt-diff: the replay stopped before exit %" PRIu64 " (%s): %s\n",
				  exits, replay_stop_name(res.stop), res.msg);
		return -EIO;
	}
	rc = vmm_get_sregs(replay_vm(r), &sr);
	if (rc) {
		introspect_printf(out, "pt-diff: reading the vCPU at exit %" PRIu64 ": %s\n", exits,
				  strerror(-rc));
		return rc;
	}
	cpu.cr0 = sr.cr0;
	cpu.cr3 = sr.cr3;
	cpu.cr4 = sr.cr4;
	cpu.efer = sr.efer;
	rc = introspect_list(&cpu, &mem, &opts, l);
	if (rc) {
		introspect_printf(out, "pt-diff: at exit %" PRIu64 ": %s\n", exits,
				  rc == -ENOMEM ? "out of memory" : "no valid paging mode in CR0/CR4/EFER");
		return rc;
	}
	return 0;
}

static void summary(const char *name, uint64_t exits, const struct introspect_maplist *l,
		    struct introspect_out *out)
{
	introspect_printf(out, "%s: exit %" PRIu64 ", %s paging, %zu range%s%s\n", name, exits,
			  introspect_paging_name(l->mode), l->n, l->n == 1 ? "" : "s",
			  l->truncated || l->nissues ? " (incomplete: see `pt` there)" : "");
}

int debug_ptdiff(const char *recording_dir, const char *args, struct introspect_out *out)
{
	struct replay_options ro = { .output = { discard, NULL } };
	struct introspect_maplist l[2] = { { 0 }, { 0 } };
	struct introspect_diff d = { 0 };
	struct vmm_error err = { "" };
	struct replay *r = NULL;
	struct ptdiff_args a;
	uint64_t end_at = UINT64_MAX;
	int first, rc;

	rc = parse_args(args, &a, out);
	if (rc)
		return rc;
	rc = replay_open(recording_dir, &ro, &r, &err);
	if (rc) {
		introspect_printf(out, "pt-diff: %s\n", err.msg);
		return rc;
	}
	/* Replay only goes forward: visit the earlier position first. */
	first = a.pos[1] < a.pos[0];
	rc = list_at(r, a.pos[first], a.with_ad, &end_at, &l[first], out);
	if (!rc)
		rc = list_at(r, a.pos[!first], a.with_ad, &end_at, &l[!first], out);
	if (rc)
		goto out;
	rc = introspect_diff(&l[0], &l[1], &d);
	if (rc) {
		introspect_printf(out, "pt-diff: %s\n", rc == -ENOMEM ? "out of memory" : "bad mapping lists");
		goto out;
	}
	summary("from", a.pos[0], &l[0], out);
	summary("to", a.pos[1], &l[1], out);
	if (!a.with_ad)
		introspect_printf(out, "(accessed/dirty bits ignored; --ad to include them)\n");
	introspect_format_diff(&d, out);
out:
	introspect_diff_free(&d);
	introspect_maplist_free(&l[0]);
	introspect_maplist_free(&l[1]);
	replay_close(r);
	return rc;
}
