/*
 * tracedb_observe_test.c — the indexer's replay observer driven by
 * made-up machine steps, log events and guest output, with a fake machine
 * (pending vector, CPL, IF) instead of KVM: exit rows of each kind,
 * interrupts taken at once after a poll, deferred by IF=0, raised by a
 * synchronous exit, and landing at an asynchronous point; serial lines
 * (split across exits, CRLF, over-long, unfinished at the end), debugcon,
 * annotations, serial input, clock reads, the events table, rips
 * symbolised from this test's own ELF symbol table, and full positions
 * (pos): at boundaries, where the indexer's count says, a device's clock
 * read at the exit it serves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/unit/tap.h"
#include "tracedb/internal.h"

struct fake {
	int pending;            /* what the PIC would deliver, -1 none */
	int cpl;
	bool if_flag;
	int cpl_calls;
	/* The indexer's count (tracedb_machine.where): counting from the
	 * boundary of exit we, wn units done, the current one done or not. */
	bool counting, unit_done;
	uint64_t we, wn;
};

static int fake_where(void *ctx, bool unit_start, struct replay_pos *p, const char **why)
{
	struct fake *f = ctx;

	if (!f->counting) {
		*why = "not counted: the fake says so";
		return -1;
	}
	*p = (struct replay_pos){ f->we, f->wn + (!unit_start && f->unit_done) };
	return 0;
}

static int fake_pending(void *ctx)
{
	return ((struct fake *)ctx)->pending;
}

static int fake_cpl(void *ctx)
{
	struct fake *f = ctx;

	f->cpl_calls++;
	return f->cpl;
}

static bool fake_if(void *ctx)
{
	return ((struct fake *)ctx)->if_flag;
}

static struct vmm_event io(uint64_t exits, uint64_t rip, uint16_t port, bool write, uint64_t value,
			   int injected)
{
	struct vmm_event ev = { .kind = VMM_EV_IO, .exits = exits, .rip = rip, .injected = injected };

	ev.u.io.addr = port;
	ev.u.io.size = 1;
	ev.u.io.write = write;
	ev.u.io.value = value;
	return ev;
}

static struct replay_event poll_sync(uint64_t exits)
{
	struct replay_event e = { .type = REPLAY_EV_POLL_SYNC };

	e.poll_sync.exits = exits;
	return e;
}

static struct replay_event clock_ev(uint64_t value)
{
	struct replay_event e = { .type = REPLAY_EV_CLOCK };

	e.clock.kind = REPLAY_CLOCK_MONOTONIC;
	e.clock.value = value;
	return e;
}

static sqlite3 *db;

static long long q_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -999;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		diag("bad query %s: %s", sql, sqlite3_errmsg(db));
	else if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char q_buf[8192];
static const char *q_text(const char *sql)
{
	sqlite3_stmt *st = NULL;

	snprintf(q_buf, sizeof(q_buf), "(none)");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(q_buf, sizeof(q_buf), "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(st);
	return q_buf;
}

int main(void)
{
	char dir[] = "/tmp/tracedb_observe_test.XXXXXX", path[256], symerr[256];
	struct fake f = { .pending = -1, .cpl = 0, .if_flag = true };
	struct tracedb_machine m = { fake_pending, fake_cpl, fake_if, &f, fake_where };
	struct introspect_symtab *syms = NULL;
	struct tracedb_writer *w;
	struct tracedb_obs *o;
	struct tracedb_obs_counts c;
	struct tracedb_error err;
	struct vmm_event ev;
	struct replay_event le;
	uint64_t fn = 0;
	/* Above every symbol of this program (the last is a size-0 marker
	 * such as _end, which must not claim everything after it). */
	const uint64_t far_rip = 0x7ff000000000ull;
	static uint8_t longline[5000];

	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	/* Symbols: this test's own, so a rip inside fake_pending names it. */
	if (introspect_symtab_load_file("/proc/self/exe", &syms, symerr, sizeof(symerr)) ||
	    introspect_symtab_find(syms, "fake_pending", &fn))
		diag("no symbols for this test (%s): symbol checks will fail", symerr);
	if (tracedb_writer_create(path, &w, &err) || tracedb_obs_create(w, syms, &m, &o)) {
		ok(0, "create writer and observer");
		return tap_done();
	}

	/* 1: a COM1 write, the first byte of a line; 2: the rest of it. */
	tracedb_obs_output(o, VMM_OUT_SERIAL, (const uint8_t *)"ab", 2);
	ev = io(1, fn + 1, 0x3f8, true, 'b', -1);
	tracedb_obs_step(o, &ev);
	tracedb_obs_output(o, VMM_OUT_SERIAL, (const uint8_t *)"c\r\n", 3);
	ev = io(2, far_rip, 0x3f8, true, '\n', -1);
	tracedb_obs_step(o, &ev);

	/* A poll after exit 2 raises IRQ 0; taken on the next entry. */
	le = poll_sync(2);
	tracedb_obs_log(o, &le, 2);
	le = clock_ev(5000);
	tracedb_obs_log(o, &le, 2);
	ev = io(3, 0x6000, 0x20, true, 0x20, 0x20);
	ev.injected_source = VMM_IRQ_SRC_PIC;
	tracedb_obs_step(o, &ev);

	/* A poll after exit 3 raises IRQ 0 while the guest has IF=0. */
	f.if_flag = false;
	ev = io(4, 0x6004, 0x21, false, 0, -1);
	tracedb_obs_step(o, &ev);
	le = poll_sync(4);
	tracedb_obs_log(o, &le, 4);
	le = clock_ev(6000);
	tracedb_obs_log(o, &le, 4);
	f.pending = 0x20;
	f.cpl = 3;
	ev = io(5, 0x6008, 0x830, true, 1, -1);
	ev.u.io.msr = true;                     /* an x2APIC ICR write */
	ev.u.io.size = 8;
	tracedb_obs_step(o, &ev);               /* not taken: IF was 0 */
	f.if_flag = true;
	ev = io(6, 0x600c, 0x80, true, 2, -1);
	tracedb_obs_step(o, &ev);               /* still pending */
	f.pending = -1;
	ev = io(7, 0x6010, 0x80, true, 3, 0x20);
	tracedb_obs_step(o, &ev);               /* taken: deferred */

	/* Exit 8 itself raises IRQ 4 (IF=1); taken on the next entry. */
	f.pending = 0x24;
	f.cpl = 0;
	ev = io(8, 0x7000, 0x3f9, true, 2, -1);
	tracedb_obs_step(o, &ev);
	f.pending = -1;
	ev = io(9, 0x7004, 0x20, true, 0x20, 0x24);
	ev.injected_source = VMM_IRQ_SRC_IOAPIC;
	ev.injected_detail = 4;
	tracedb_obs_step(o, &ev);

	/* An asynchronous point after exit 9 at rip fn + 2, the end of raw
	 * unit 7 from its boundary (a single step landing there). */
	f.counting = true;
	f.we = 9;
	f.wn = 6;
	f.unit_done = true;
	ev = (struct vmm_event){ .kind = VMM_EV_DEBUG, .exits = 9, .rip = fn + 2, .injected = -1 };
	tracedb_obs_step(o, &ev);
	le = (struct replay_event){ .type = REPLAY_EV_POLL_ASYNC };
	le.poll_async.exits = 9;
	le.poll_async.rip = fn + 2;
	tracedb_obs_log(o, &le, 9);
	le = clock_ev(7000);
	tracedb_obs_log(o, &le, 9);
	/* Unit 8 starts there and injects. */
	f.wn = 7;
	f.unit_done = false;
	ev = io(10, 0x7008, 0x20, true, 0x20, 0x20);
	ev.injected_source = VMM_IRQ_SRC_LAPIC_TIMER;
	tracedb_obs_step(o, &ev);
	f.counting = false;
	/* A device model reads the clock serving exit 11 (consumed at 10). */
	le = clock_ev(7500);
	tracedb_obs_log(o, &le, 10);

	/* Serial input, an annotation, debugcon, a long line, HLT, the end. */
	le = (struct replay_event){ .type = REPLAY_EV_SERIAL_IN };
	le.serial_in.len = 3;
	le.serial_in.data = (const uint8_t *)"q\r\x01";
	tracedb_obs_log(o, &le, 10);
	tracedb_obs_output(o, VMM_OUT_ANNOTATION, (const uint8_t *)"lock taken", 10);
	ev = io(11, 0x8000, 0xe8, true, '\n', -1);
	tracedb_obs_step(o, &ev);
	tracedb_obs_output(o, VMM_OUT_DEBUGCON, (const uint8_t *)"dbg\n", 4);
	ev = io(12, 0x8004, 0xe9, true, '\n', -1);
	tracedb_obs_step(o, &ev);
	memset(longline, 'x', sizeof(longline));
	tracedb_obs_output(o, VMM_OUT_SERIAL, longline, sizeof(longline));
	tracedb_obs_output(o, VMM_OUT_SERIAL, (const uint8_t *)"\n", 1);
	ev = (struct vmm_event){ .kind = VMM_EV_HLT, .exits = 13, .rip = 0x9000, .injected = -1 };
	tracedb_obs_step(o, &ev);
	tracedb_obs_output(o, VMM_OUT_SERIAL, (const uint8_t *)"PANIC", 5);
	ev = (struct vmm_event){ .kind = VMM_EV_GUEST_EXIT, .exits = 14, .rip = 0x9004, .injected = -1 };
	ev.u.exit_value = 3;
	tracedb_obs_step(o, &ev);
	is_int(tracedb_obs_finish(o), 0, "observer finishes");
	tracedb_obs_get_counts(o, &c);
	is_int(c.exits, 14, "14 exits counted");
	is_int(c.interrupts, 4, "4 interrupts counted");
	is_int(c.events, 8, "8 log events counted");
	is_int(c.last_position, 14, "last position");
	ok(tracedb_writer_finish(w, &err) == 0, "database finished (%s)", err.msg);
	tracedb_obs_free(o);
	tracedb_writer_free(w);

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		ok(0, "open the result");
		return tap_done();
	}
	is_int(q_int("SELECT count(*) FROM exits"), 14, "one exit row per synchronous exit");
	is_str(q_text("SELECT group_concat(kind, ' ') FROM (SELECT kind FROM exits WHERE position IN "
		      "(4, 13, 14) ORDER BY position)"), "pio_in hlt debug_exit", "exit kinds");
	is_int(q_int("SELECT value FROM exits WHERE position = 14"), 3, "debug_exit value");
	is_str(q_text("SELECT printf('%s %#x %d', kind, address, size) || ' ' || ifnull(port, 'NULL') "
		      "FROM exits WHERE position = 5"), "msr_write 0x830 8 NULL",
	       "an MSR exit: its number in address, no port");
	is_str(q_text("SELECT group_concat(ifnull(source, 'NULL') || ':' || ifnull(pin, 'NULL') || ':' "
		      "|| ifnull(irq, 'NULL'), ' ') FROM (SELECT * FROM interrupts ORDER BY id)"),
	       "pic:NULL:0 NULL:NULL:0 ioapic:4:4 lapic-timer:NULL:NULL",
	       "interrupt sources: the 8259, unknown (PIC vector rule), I/O APIC pin 4, LAPIC timer");
	is_str(q_text("SELECT detail FROM timeline WHERE source = 'interrupt' AND position = 8"),
	       "vector 0x24 (irq 4) from ioapic pin 4", "the timeline names the source");
	is_str(q_text("SELECT symbol FROM exits WHERE position = 1"), "fake_pending",
	       "an exit's rip symbolised");
	is_int(q_int("SELECT symbol IS NULL FROM exits WHERE position = 2"), 1,
	       "no symbol for a rip outside every function");

	/* Interrupt 1: prompt after the poll at exit 2. */
	is_str(q_text("SELECT printf('%d %d %d %d %s %d', position, irq, raised_position, deferred, "
		      "clock_ns, cpl) FROM interrupts WHERE id = 1"), "2 0 2 0 5000 0",
	       "prompt: position 2, irq 0, raised at the poll, its clock, cpl 0");
	is_int(q_int("SELECT rip FROM interrupts WHERE id = 1"), (long long)far_rip,
	       "landed at the rip of the exit before the entry");
	/* Interrupt 2: raised by the poll at exit 4, held by IF=0, taken after 6. */
	is_str(q_text("SELECT printf('%d %d %d %s %d', position, raised_position, deferred, clock_ns, "
		      "cpl) FROM interrupts WHERE id = 2"), "6 4 1 6000 3",
	       "deferred: raised at the poll after 4, taken after 6, cpl where it landed");
	/* Interrupt 3: raised by exit 8 itself. */
	is_str(q_text("SELECT printf('%d %d %d %d %d', position, vector, irq, raised_position, "
		      "deferred) || ' ' || ifnull(clock_ns, 'NULL') FROM interrupts WHERE id = 3"),
	       "8 36 4 8 0 NULL", "raised by a synchronous exit: no clock");
	/* Interrupt 4: at the asynchronous point. */
	is_str(q_text("SELECT printf('%d %d %s', position, deferred, clock_ns) || ' ' || symbol "
		      "FROM interrupts WHERE id = 4"), "9 0 7000 fake_pending",
	       "at an asynchronous point, symbolised");
	is_int(q_int("SELECT rip FROM interrupts WHERE id = 4"), (long long)(fn + 2),
	       "landed at the logged rip");
	ok(f.cpl_calls > 0 && f.cpl_calls < 12, "CPL asked only at polls and pending points (%d)",
	   f.cpl_calls);

	is_str(q_text("SELECT printf('%d %d %s', start_position, position, text) FROM serial WHERE id = 1"),
	       "1 2 abc", "a line over two exits, CR dropped");
	is_str(q_text("SELECT stream || ' ' || position || ' ' || text FROM serial WHERE stream = "
		      "'debugcon'"), "debugcon 12 dbg", "debugcon line");
	is_int(q_int("SELECT count(*) FROM serial WHERE text GLOB 'xxxx*'"), 2,
	       "a 5000-byte line is split at 4096");
	is_int(q_int("SELECT sum(length(text)) FROM serial WHERE text GLOB 'xxxx*'"), 5000,
	       "without losing bytes");
	is_str(q_text("SELECT printf('%d %d %s', start_position, position, text) FROM serial "
		      "WHERE text = 'PANIC'"), "14 14 PANIC", "an unfinished last line is kept");
	is_str(q_text("SELECT position || ' ' || text FROM annotations"), "11 lock taken", "annotation");
	is_str(q_text("SELECT position || ' ' || text || ' ' || hex(data) FROM serial_input"),
	       "10 q\\r\\x01 710D01", "serial input");
	is_int(q_int("SELECT count(*) FROM clock_reads"), 4, "clock reads");
	is_str(q_text("SELECT group_concat(type, ',') FROM (SELECT type FROM events ORDER BY seq)"),
	       "poll_sync,clock,poll_sync,clock,poll_async,clock,clock,serial_in", "events in log order");
	is_int(q_int("SELECT count(*) FROM events"), 8, "every fed event stored");
	/* Full positions. */
	is_str(q_text("SELECT group_concat(pos, ' ') FROM (SELECT pos FROM interrupts ORDER BY id)"),
	       "2 6 8 9+7", "interrupts: at the boundary after an exit, or where the count says");
	is_str(q_text("SELECT pos FROM events WHERE type = 'poll_async'"), "9+7",
	       "the asynchronous poll where the unit ended");
	is_str(q_text("SELECT group_concat(position || '=' || pos, ' ') FROM (SELECT position, pos "
		      "FROM clock_reads ORDER BY id)"), "2=2 4=4 9=9+7 11=11",
	       "clock reads: a poll's pos; a device's at the exit it serves");
	is_str(q_text("SELECT group_concat(position || '=' || pos, ' ') FROM (SELECT position, pos "
		      "FROM exits WHERE position IN (1, 14))"), "1=1 14=14", "exits: their count");
	is_str(q_text("SELECT ifnull(pos, 'null') || ' ' || ifnull(pos_note, 'null') FROM "
		      "serial_input"), "10 null", "serial input consumed at a boundary");
	sqlite3_close(db);
	introspect_symtab_free(syms);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
