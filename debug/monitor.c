/*
 * monitor.c — gdb's `monitor` commands: a table, one row per command (its
 * name, what `monitor help` says, the function, whether it needs a
 * recording), then the introspection commands of the view (pt, translate,
 * idt, gdt, tss, cr, shadow).
 *
 * A monitor command never fails at the protocol level: an unknown or
 * failing command prints a one-line reason (with the `monitor help` hint)
 * and the reply is OK, so that a gdb script goes on, as with QEMU's
 * monitor. gdb itself would stop a script at "Protocol error with Rcmd".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"

struct mon_sink {
	gdb_output_fn out;
	void *ctx;
	size_t written;         /* bytes the command printed */
};

static void mon_write(void *ctx, const char *s, size_t len)
{
	struct mon_sink *m = ctx;

	m->written += len;
	m->out(m->ctx, s, len);
}

/* gdb's Ctrl-C (or its next command) stops a long command: see
 * gdb_monitor_interrupted; the commands ask introspect_out_cancelled. */
static int mon_cancelled(void *ctx)
{
	struct mon_sink *m = ctx;

	return gdb_monitor_interrupted(m->ctx);
}

void debug_monitor_watch(struct debug *d, bool on)
{
	if (!d->mon_ctx)
		return;
	gdb_monitor_watch(d->mon_ctx, on);
	if (!on && d->is_replay && gdb_monitor_interrupted(d->mon_ctx))
		debug_replay_drop_interrupt(d);
}

void debug_monitor_goto_interrupted(struct debug *d, const char *to, struct introspect_out *o)
{
	char ps[REPLAY_POS_STRLEN];
	struct replay_pos p;

	if (debug_tl_position(d, &p) == 0)
		introspect_printf(o, "interrupted on the way to position %s: the replay stays at "
				  "position %s\n", to, replay_pos_format(p, ps));
	else
		introspect_printf(o, "interrupted on the way to position %s: the replay stays after "
				  "exit %" PRIu64 "\n", to, vmm_exits(d->vm));
}

static void print_rflags(struct introspect_out *o, uint64_t f)
{
	static const struct { unsigned bit; const char *name; } bits[] = {
		{ 0, "CF" }, { 2, "PF" }, { 4, "AF" }, { 6, "ZF" }, { 7, "SF" }, { 8, "TF" },
		{ 9, "IF" }, { 10, "DF" }, { 11, "OF" }, { 14, "NT" }, { 16, "RF" }, { 17, "VM" },
		{ 18, "AC" }, { 19, "VIF" }, { 20, "VIP" }, { 21, "ID" },
	};

	introspect_printf(o, "rflags=0x%" PRIx64, f);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (f & (1ull << bits[i].bit))
			introspect_printf(o, " %s", bits[i].name);
	introspect_printf(o, " IOPL=%u\n", (unsigned)(f >> 12) & 3);
}

static void print_seg(struct introspect_out *o, const char *name, const struct vmm_segment *s)
{
	introspect_printf(o, "%-4s sel=0x%04x base=0x%016" PRIx64 " limit=0x%08" PRIx32
			  " type=0x%x s=%u dpl=%u p=%u l=%u db=%u g=%u\n", name, s->selector, s->base,
			  s->limit, s->type, s->s, s->dpl, s->present, s->l, s->db, s->g);
}

static int monitor_regs(struct debug *d, struct introspect_out *o)
{
	struct vmm_regs r;
	struct vmm_sregs s;
	struct introspect_cpu cpu = { 0 };
	int rc = vmm_get_regs(d->vm, &r);

	if (!rc)
		rc = vmm_get_sregs(d->vm, &s);
	if (rc) {
		introspect_printf(o, "cannot read the vCPU registers: %s\n", strerror(-rc));
		return rc < 0 ? rc : -EIO;
	}
	cpu = (struct introspect_cpu){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer };
	introspect_printf(o, "rip=0x%016" PRIx64 " cpl=%u\n", r.rip,
			  (s.cr0 & 1) ? s.cs.selector & 3u : 0u);
	print_rflags(o, r.rflags);
	print_seg(o, "cs", &s.cs), print_seg(o, "ss", &s.ss), print_seg(o, "ds", &s.ds);
	print_seg(o, "es", &s.es), print_seg(o, "fs", &s.fs), print_seg(o, "gs", &s.gs);
	print_seg(o, "tr", &s.tr), print_seg(o, "ldt", &s.ldt);
	introspect_printf(o, "gdtr base=0x%016" PRIx64 " limit=0x%04x\n", s.gdt_base, s.gdt_limit);
	introspect_printf(o, "idtr base=0x%016" PRIx64 " limit=0x%04x\n", s.idt_base, s.idt_limit);
	introspect_format_reg(INTROSPECT_CR0, s.cr0, s.cr4, o);
	introspect_printf(o, "cr2=0x%" PRIx64 "\n", s.cr2);
	introspect_format_reg(INTROSPECT_CR3, s.cr3, s.cr4, o);
	introspect_format_reg(INTROSPECT_CR4, s.cr4, s.cr4, o);
	introspect_printf(o, "cr8=0x%" PRIx64 "\n", s.cr8);
	introspect_format_reg(INTROSPECT_EFER, s.efer, s.cr4, o);
	introspect_printf(o, "fs_base=0x%" PRIx64 " gs_base=0x%" PRIx64 " k_gs_base=0x%" PRIx64 "\n",
			  s.fs.base, s.gs.base, s.kernel_gs_base);
	introspect_printf(o, "apic_base=0x%" PRIx64 "\n", s.apic_base);
	introspect_printf(o, "paging: %s\n", introspect_paging_name(introspect_paging_mode(&cpu)));
	return 0;
}

/* The word at *p (skipping blanks), advancing *p past it; length in *len. */
static const char *word(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	*len = strcspn(s, " \t");
	*p = s + *len;
	return s;
}

static bool is_word(const char *w, size_t len, const char *name)
{
	return len == strlen(name) && strncmp(w, name, len) == 0;
}

/* The rest of the line after the command's words, blanks skipped. */
static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int mon_regs(struct debug *d, const char *arg, struct introspect_out *o)
{
	return monitor_regs(d, o);
}

static int mon_phys(struct debug *d, const char *arg, struct introspect_out *o)
{
	size_t an;
	const char *w = word(&arg, &an);

	if (an && (is_word(w, an, "on") || is_word(w, an, "off"))) {
		d->phys = is_word(w, an, "on");
	} else if (an) {
		introspect_printf(o, "usage: monitor phys [on|off]\n");
		return -EINVAL;
	}
	introspect_printf(o, "memory accesses use %s addresses\n",
			  d->phys ? "guest-physical" : "guest-virtual");
	return 0;
}

static int mon_position(struct debug *d, const char *arg, struct introspect_out *o)
{
	if (d->is_replay)
		debug_replay_position(d, o);
	else
		debug_live_position(d, o);
	return 0;
}

static int mon_hash(struct debug *d, const char *arg, struct introspect_out *o)
{
	uint64_t h;
	int rc = vmm_state_hash(d->vm, &h);

	if (rc) {
		introspect_printf(o, "cannot hash the guest state: %s\n", strerror(-rc));
		return rc;
	}
	introspect_printf(o, "state hash 0x%016" PRIx64 ", devices 0x%016" PRIx64 "\n", h,
			  vmm_devices_hash(d->vm));
	return 0;
}

static int mon_ptdiff(struct debug *d, const char *arg, struct introspect_out *o)
{
	return debug_ptdiff(d, arg, o);
}

static int mon_checkpoints(struct debug *d, const char *arg, struct introspect_out *o)
{
	return debug_tl_list(d, o);
}

static int mon_checkpoint(struct debug *d, const char *arg, struct introspect_out *o)
{
	return debug_tl_take_cmd(d, o);
}

static int mon_goto(struct debug *d, const char *arg, struct introspect_out *o)
{
	return debug_tl_goto(d, arg, o);
}

static int mon_translate(struct debug *d, const char *arg, struct introspect_out *o)
{
	char *end, why[256] = "";
	uint64_t va, pa;

	arg = skip_blanks(arg);
	errno = 0;
	va = strtoull(arg, &end, 0);
	if (end == arg || *end || errno) {
		introspect_printf(o, "usage: monitor translate VA (a number, e.g. 0x100000)\n");
		return -EINVAL;
	}
	if (introspect_view_translate(d->view, va, &pa, why, sizeof(why))) {
		introspect_printf(o, "0x%" PRIx64 ": %s\n", va, why[0] ? why : "not mapped");
		return -EFAULT;
	}
	introspect_printf(o, "0x%" PRIx64 " -> 0x%" PRIx64 "\n", va, pa);
	return 0;
}

static int mon_help(struct debug *d, const char *arg, struct introspect_out *o);

/* One row per command. Names of more than one word ("info registers")
 * match word by word. */
static const struct mon_cmd {
	const char *name;
	const char *help;       /* NULL: an alias, not listed */
	int (*fn)(struct debug *d, const char *arg, struct introspect_out *o);
	bool replay_only;
} mon_cmds[] = {
	{ "help", "help                 this list\n", mon_help, false },
	{ "regs", "regs                 every vCPU register, system registers decoded "
		  "(also: info registers)\n", mon_regs, false },
	{ "info registers", NULL, mon_regs, false },
	{ "phys", "phys [on|off]        memory accesses take physical (on) or virtual (off) "
		  "addresses\n", mon_phys, false },
	{ "position", "position             where the guest is: on a replay its position\n"
		      "                     EXITS[+STEPS] (exits since reset, then units after the\n"
		      "                     last), which goto takes\n", mon_position, false },
	{ "hash", "hash                 a hash of the guest state (registers and RAM), as a\n"
		  "                     replay's final state hash, and one of the devices' state\n",
	  mon_hash, false },
	{ "pt-diff", DEBUG_PTDIFF_HELP, mon_ptdiff, true },
	{ "checkpoints", "checkpoints          the replay's checkpoints: position, pages, bytes;\n"
			 "                     memory held against --checkpoint-memory\n",
	  mon_checkpoints, true },
	{ "checkpoint", "checkpoint           take a checkpoint here\n", mon_checkpoint, true },
	{ "goto", "goto POSITION        go to POSITION (EXITS[+STEPS]) of the recording, either "
		  "direction\n", mon_goto, true },
	{ "translate", NULL, mon_translate, false },    /* after the view's own */
};

static int mon_help(struct debug *d, const char *arg, struct introspect_out *o)
{
	for (size_t i = 0; i < sizeof(mon_cmds) / sizeof(mon_cmds[0]); i++)
		if (mon_cmds[i].help && (!mon_cmds[i].replay_only || d->is_replay))
			introspect_printf(o, "%s", mon_cmds[i].help);
	introspect_printf(o, "%s", introspect_view_help());
	return 0;
}

/* Does cmd start with the words of name? *rest is what follows. */
static bool matches(const char *cmd, const char *name, const char **rest)
{
	const char *p = cmd;

	while (*name) {
		size_t n, nn = strcspn(name, " ");
		const char *w = word(&p, &n);

		if (n != nn || strncmp(w, name, n) != 0)
			return false;
		name += nn;
		name = skip_blanks(name);
	}
	*rest = p;
	return true;
}

static const struct mon_cmd *mon_find(const char *cmd, const char **rest)
{
	for (size_t i = 0; i < sizeof(mon_cmds) / sizeof(mon_cmds[0]); i++)
		if (mon_cmds[i].fn != mon_translate && matches(cmd, mon_cmds[i].name, rest))
			return &mon_cmds[i];
	return NULL;
}

int debug_monitor(struct debug *d, const char *cmd, gdb_output_fn out, void *out_ctx)
{
	struct mon_sink sink = { out, out_ctx, 0 };
	struct introspect_out o;
	const struct mon_cmd *c;
	const char *p = cmd, *w, *rest = "";
	size_t n;
	int rc;

	introspect_out_callback(&o, mon_write, &sink);
	introspect_out_cancel(&o, mon_cancelled, &sink);
	w = word(&p, &n);
	if (n == 0)
		return mon_help(d, "", &o);
	c = mon_find(cmd, &rest);
	if (c && c->replay_only && !d->is_replay) {
		introspect_printf(&o, "monitor %s: only on a recording (rrvm replay --gdb); "
				  "'monitor help' lists the commands\n", c->name);
		return 0;
	}
	if (c) {
		d->mon_ctx = out_ctx;
		rc = c->fn(d, rest, &o);
		d->mon_ctx = NULL;
	} else if (introspect_view_command(d->view, cmd, &o)) {
		return 0;
	} else if (is_word(w, n, "translate")) {
		rc = mon_translate(d, p, &o);
	} else {
		introspect_printf(&o, "unknown monitor command '%.*s'; 'monitor help' lists them\n",
				  (int)n, w);
		return 0;
	}
	/* A command that failed says why itself; this line is for one that
	 * could not even say that. */
	if (rc && !sink.written)
		introspect_printf(&o, "monitor %.*s failed (%s); 'monitor help' lists the commands\n",
				  (int)n, w, strerror(-rc));
	return 0;
}
