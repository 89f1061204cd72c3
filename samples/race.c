/*
 * race.c - a small preemptive kernel with a data race, the flagship sample
 * for recording a flaky failure and debugging it backwards.
 *
 * RACE_WORKERS ring-0 kernel threads, each on its own stack, are switched
 * round-robin by the PIT interrupt: the IRQ 0 handler stores the
 * interrupted thread's register frame (struct isr_frame, built by isr.S)
 * and returns the next thread's saved frame, which isr.S restores before
 * its iretq. Thread 0 is kmain itself; it waits in hlt until the workers
 * are done and is scheduled only then.
 *
 * The workers move money between the RACE_ACCOUNTS accounts of a bank. The
 * total must stay RACE_ACCOUNTS * RACE_INITIAL_BALANCE forever. Normal
 * transfers (account_transfer) hold bank.lock, a spinlock. Every worker
 * also owns two accounts and sometimes moves money between them with
 * account_transfer_fast(), which skips the lock because "only the owner
 * moves money between its own accounts".
 *
 * THE BUG: that reasoning is wrong. Other workers' locked transfers also
 * debit and credit those accounts (any account can be a transfer's source
 * or destination). account_transfer_fast() reads both balances, writes a
 * journal entry, and only then stores the new balances computed from the
 * values it read. If the timer interrupt lands inside that window (a few
 * tens of instructions) and another worker changes one of the two accounts
 * before this worker runs again, the fast path's store overwrites that
 * change: a lost update, and money is created or destroyed.
 *
 * Every worker audits the bank under the lock every RACE_AUDIT_EVERY
 * operations, and kmain audits once more at the end. A wrong total prints
 * "PANIC: bank total ..." with the balances, then names each account whose
 * balance differs from what the transfers that touched it add up to (each
 * thread keeps its own ledger, thread.moved[], which no one else writes):
 * "PANIC: account K holds X, but its transfers add up to Y: an update to
 * race.bank.balance[K] was lost", and exits through isa-debug-exit with
 * value 3 (status 7). Otherwise the run ends with
 * "race: ok after N operations" and value 0 (status 1). Whether it fails
 * depends only on where the timer interrupts land, and the timer's phase
 * comes from the host clock, so plain runs fail some of the time and a
 * recording of a failing run fails on every replay.
 *
 * Debugging it (scripts/demo.sh ends with this, and
 * tests/integration/gdb_flagship.sh runs it): on a replay of a failing
 * recording, `continue` to bank_panic, `watch -l race.bank.balance[K]`
 * for the account the panic names, and `reverse-continue`: each stop is
 * before a write that changed the balance, in the thread that made it.
 * Repeat (or `condition 2 $_caller_is("account_transfer_fast", 0)` to skip
 * the locked writes) until it stops in account_transfer_fast(); the racing
 * store is the one whose from_balance (or to_balance, for the account it
 * credits) differs from the race.bank.balance[K] it is about to overwrite:
 * another worker's update came in between and this store wipes it out.
 * `bt` names the unlocked path. Or ask the trace database for timer
 * interrupts whose rip lies inside account_transfer_fast.
 *
 * Tuning (failure rate and run time): RACE_TIMER_HZ sets the slice length,
 * RACE_OPS_PER_WORKER the total work, RACE_FAST_ONE_IN how often the
 * unlocked path runs and RACE_JOURNAL_MIX how long its window is. The
 * kernel command line may also say "seed=N" to change the workers' random
 * streams (for estimating the failure rate under a deterministic clock).
 */
#include <stdbool.h>

#include "io.h"
#include "kernel.h"

/* Tuning knobs; each can also be overridden with -D at compile time. */
#ifndef RACE_TIMER_HZ
#define RACE_TIMER_HZ 1000
#endif
#ifndef RACE_OPS_PER_WORKER
#define RACE_OPS_PER_WORKER 2500
#endif
#ifndef RACE_FAST_ONE_IN
#define RACE_FAST_ONE_IN 512
#endif
#ifndef RACE_JOURNAL_MIX
#define RACE_JOURNAL_MIX 4
#endif
#define RACE_WORKERS 3
#define RACE_ACCOUNTS 8
#define RACE_INITIAL_BALANCE 1000
#define RACE_MAX_AMOUNT 50
#define RACE_AUDIT_EVERY 500
#define RACE_PROGRESS_EVERY 1000
#define RACE_STACK_SIZE 16384
#define RACE_SPINS_BEFORE_YIELD 64
#define RACE_JOURNAL_SIZE 16
#define RACE_EXIT_PANIC 3

#ifdef __clang__
#define RACE_NOINLINE __attribute__((noinline))
#else
/* noipa: no clones (no ".constprop" suffix), so the symbol name is exact. */
#define RACE_NOINLINE __attribute__((noinline, noipa))
#endif

struct spinlock {
	volatile uint32_t locked;
	volatile int32_t owner; /* thread id of the holder, -1 when free */
};

struct bank {
	struct spinlock lock;
	volatile int64_t balance[RACE_ACCOUNTS];
};

struct journal_entry {
	uint32_t from, to;
	int64_t amount;
	uint64_t check;
};

enum thread_state { THREAD_WAITING, THREAD_RUNNABLE, THREAD_DONE };

struct thread {
	unsigned id;
	volatile enum thread_state state;
	struct isr_frame *frame; /* saved context while not running */
	uint32_t rng;
	volatile uint32_t ops;
	unsigned own[2]; /* the two accounts this worker "owns" */
	struct journal_entry journal[RACE_JOURNAL_SIZE];
	uint32_t journal_next;
	/* What this thread's transfers moved into (out of, negative) each
	 * account: written only by the thread itself, so no race on it. */
	int64_t moved[RACE_ACCOUNTS];
	uint8_t stack[RACE_STACK_SIZE] __attribute__((aligned(16)));
};

struct race {
	struct bank bank;
	struct spinlock console;
	struct thread threads[RACE_WORKERS + 1]; /* [0] is kmain */
	volatile unsigned current;
	volatile uint64_t ticks;
};

static struct race race;

/* ---- Locks ------------------------------------------------------------ */

static unsigned current_thread(void)
{
	return race.current;
}

static void spin_lock(struct spinlock *l)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		while (l->locked) {
			cpu_pause();
			/* The holder was preempted: sleep out our slice. */
			if (++spins == RACE_SPINS_BEFORE_YIELD) {
				spins = 0;
				cpu_hlt();
			}
		}
	}
	l->owner = (int32_t)current_thread();
}

static void spin_unlock(struct spinlock *l)
{
	l->owner = -1;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* ---- The bank --------------------------------------------------------- */

static int64_t bank_expected_total(void)
{
	return (int64_t)RACE_ACCOUNTS * RACE_INITIAL_BALANCE;
}

/* Caller holds b->lock. */
static int64_t bank_total_locked(struct bank *b)
{
	int64_t sum = 0;
	unsigned i;

	for (i = 0; i < RACE_ACCOUNTS; i++)
		sum += b->balance[i];
	return sum;
}

static uint64_t race_total_ops(void)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 1; i <= RACE_WORKERS; i++)
		n += race.threads[i].ops;
	return n;
}

static void __attribute__((noreturn)) bank_panic(struct bank *b, int64_t total,
						 const char *where)
{
	unsigned i;

	spin_lock(&race.console);
	kprintf("PANIC: bank total is %ld, expected %ld (%s audit, thread %u, "
		"after %lu operations)\n",
		(long)total, (long)bank_expected_total(), where,
		current_thread(), (unsigned long)race_total_ops());
	kprintf("PANIC: balances:");
	for (i = 0; i < RACE_ACCOUNTS; i++)
		kprintf(" %ld", (long)b->balance[i]);
	kprintf("\n");
	/* Which account lost an update: its balance against what the
	 * transfers that touched it add up to. */
	for (i = 0; i < RACE_ACCOUNTS; i++) {
		int64_t want = RACE_INITIAL_BALANCE;
		unsigned t;

		for (t = 1; t <= RACE_WORKERS; t++)
			want += race.threads[t].moved[i];
		if (want != b->balance[i])
			kprintf("PANIC: account %u holds %ld, but its transfers add up "
				"to %ld: an update to race.bank.balance[%u] was lost\n",
				i, (long)b->balance[i], (long)want, i);
	}
	kexit(RACE_EXIT_PANIC);
}

static void bank_audit(struct bank *b, const char *where)
{
	int64_t total;

	spin_lock(&b->lock);
	total = bank_total_locked(b);
	if (total != bank_expected_total())
		bank_panic(b, total, where);
	spin_unlock(&b->lock);
}

/* The correct path: everything under the bank lock. */
RACE_NOINLINE void account_transfer(struct bank *b, struct thread *t,
				    unsigned from, unsigned to, int64_t amount)
{
	spin_lock(&b->lock);
	if (b->balance[from] >= amount) {
		/* Atomic adds: the lock keeps locked transfers apart, and
		 * these keep an unlocked store from being lost under one
		 * (the only lost update left is the fast path's: the bug). */
		__atomic_fetch_sub(&b->balance[from], amount, __ATOMIC_RELAXED);
		__atomic_fetch_add(&b->balance[to], amount, __ATOMIC_RELAXED);
		t->moved[from] -= amount;
		t->moved[to] += amount;
	}
	spin_unlock(&b->lock);
}

static void journal_append(struct thread *t, unsigned from, unsigned to,
			   int64_t amount)
{
	struct journal_entry *e = &t->journal[t->journal_next++ %
					      RACE_JOURNAL_SIZE];
	uint64_t check = 0x9e3779b97f4a7c15ull;
	unsigned i;

	e->from = from;
	e->to = to;
	e->amount = amount;
	for (i = 0; i < RACE_JOURNAL_MIX; i++)
		check = (check ^ (uint64_t)(amount + i)) * 0x100000001b3ull;
	e->check = check;
}

/*
 * BUG (see the top of this file): no lock. Between the loads of the two
 * balances and the stores of the new ones, another thread's locked
 * transfer on either account is overwritten.
 */
RACE_NOINLINE void account_transfer_fast(struct bank *b, struct thread *t,
					 unsigned from, unsigned to,
					 int64_t amount)
{
	int64_t from_balance = b->balance[from];
	int64_t to_balance = b->balance[to];

	if (from_balance < amount)
		return;
	journal_append(t, from, to, amount);
	b->balance[from] = from_balance - amount;
	b->balance[to] = to_balance + amount;
	t->moved[from] -= amount;
	t->moved[to] += amount;
}

/* ---- Workers ---------------------------------------------------------- */

static uint32_t rng_next(uint32_t *s)
{
	/* xorshift32: cheap and good enough to pick accounts. */
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Entered from race_thread_start (below) on the thread's own stack. */
void __attribute__((noreturn, used)) worker_main(struct thread *t);

void worker_main(struct thread *t)
{
	struct bank *b = &race.bank;
	uint32_t op;

	for (op = 1; op <= RACE_OPS_PER_WORKER; op++) {
		uint32_t r = rng_next(&t->rng);
		int64_t amount = 1 + (int64_t)((r >> 8) % RACE_MAX_AMOUNT);

		if (r % RACE_FAST_ONE_IN == 0) {
			bool swap = r & 0x100000;

			account_transfer_fast(b, t, t->own[swap],
					      t->own[!swap], amount);
		} else {
			unsigned from = (r >> 16) % RACE_ACCOUNTS;
			unsigned to = (r >> 24) % RACE_ACCOUNTS;

			if (from == to)
				to = (to + 1) % RACE_ACCOUNTS;
			account_transfer(b, t, from, to, amount);
		}
		t->ops = op;
		if (op % RACE_AUDIT_EVERY == 0)
			bank_audit(b, "periodic");
		if (op % RACE_PROGRESS_EVERY == 0) {
			spin_lock(&race.console);
			kprintf("worker %u: %u operations\n", t->id, op);
			spin_unlock(&race.console);
		}
	}
	t->state = THREAD_DONE;
	/* Never scheduled again after the next tick. */
	for (;;)
		cpu_hlt();
}

/*
 * A thread's first instruction: calls worker_main(t) with t in rdi. Its
 * CFI marks the return address undefined, so gdb's backtrace of a worker
 * ends here cleanly instead of at a made-up frame.
 */
__asm__(".text\n"
	".globl race_thread_start\n"
	".type race_thread_start, @function\n"
	"race_thread_start:\n"
	".cfi_startproc\n"
	".cfi_undefined rip\n"
	"	xorl %ebp, %ebp\n"
	"	call worker_main\n"
	"	ud2\n"
	".cfi_endproc\n"
	".size race_thread_start, . - race_thread_start\n");
void race_thread_start(void);

/*
 * Build the frame the first switch to t will iretq into:
 * race_thread_start on t's stack with interrupts on and t in rdi.
 */
static void thread_create(struct thread *t, unsigned id, uint32_t seed)
{
	uint64_t *top = (uint64_t *)(t->stack + RACE_STACK_SIZE);
	struct isr_frame *f;

	t->id = id;
	t->state = THREAD_RUNNABLE;
	t->rng = seed ? seed : 1;
	t->own[0] = 2 * (id - 1);
	t->own[1] = 2 * (id - 1) + 1;
	/* rsp % 16 == 0 here, so worker_main sees the ABI's rsp % 16 == 8. */
	f = (struct isr_frame *)top - 1;
	memset(f, 0, sizeof(*f));
	f->rip = (uint64_t)(uintptr_t)race_thread_start;
	f->cs = KERNEL_CS;
	f->rflags = RFLAGS_IF | 0x2;
	f->rsp = (uint64_t)(uintptr_t)top;
	f->ss = KERNEL_DS;
	f->rdi = (uint64_t)(uintptr_t)t;
	t->frame = f;
}

/* ---- Scheduler (IRQ 0) ------------------------------------------------ */

static struct isr_frame *race_tick(struct isr_frame *frame, void *ctx)
{
	struct race *r = ctx;
	unsigned i, next = 0;

	r->ticks++;
	r->threads[r->current].frame = frame;
	/* Round-robin over runnable workers; thread 0 only when none is. */
	for (i = 1; i <= RACE_WORKERS; i++) {
		unsigned cand = (r->current + i - 1) % RACE_WORKERS + 1;

		if (r->threads[cand].state == THREAD_RUNNABLE) {
			next = cand;
			break;
		}
	}
	r->current = next;
	return r->threads[next].frame;
}

/* ---- Start-up --------------------------------------------------------- */

void kmain(uint32_t magic, uint32_t info)
{
	uint32_t seed = cmdline_uint(multiboot_cmdline(magic, info), "seed=", 0);
	unsigned i;

	kernel_init();
	race.bank.lock.owner = -1;
	race.console.owner = -1;
	for (i = 0; i < RACE_ACCOUNTS; i++)
		race.bank.balance[i] = RACE_INITIAL_BALANCE;
	race.threads[0].state = THREAD_WAITING;
	for (i = 1; i <= RACE_WORKERS; i++)
		thread_create(&race.threads[i], i,
			      0x2545f491u * i + seed * 0x9e3779b9u);
	race.current = 0;

	kprintf("race: %u workers, %u accounts, timer %u Hz, %u operations\n",
		RACE_WORKERS, RACE_ACCOUNTS, RACE_TIMER_HZ,
		RACE_WORKERS * RACE_OPS_PER_WORKER);
	irq_register(PIT_IRQ, race_tick, &race);
	pit_start_periodic(RACE_TIMER_HZ);
	pic_unmask(PIT_IRQ);

	/* Sleep until the scheduler comes back here: all workers are done. */
	for (;;) {
		bool busy = false;

		for (i = 1; i <= RACE_WORKERS; i++)
			busy |= race.threads[i].state != THREAD_DONE;
		if (!busy)
			break;
		cpu_sti_hlt();
	}
	pic_mask(PIT_IRQ);
	cpu_cli();
	kprintf("race: workers done after %lu timer ticks\n",
		(unsigned long)race.ticks);
	bank_audit(&race.bank, "final");
	kprintf("race: ok after %lu operations\n",
		(unsigned long)race_total_ops());
	kexit(0);
}
