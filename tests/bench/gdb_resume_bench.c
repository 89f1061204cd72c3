/*
 * gdb_resume_bench.c — what a resume costs in the gdb stub itself, with
 * the unit tests' fake target (tests/unit/gdb_fake.h, no KVM) served over
 * a socketpair in no-ack mode:
 *   - a step ('s') round trip against a '?' round trip (the same stop
 *     reply, no resume): the difference is the stub's per-resume work
 *     (arming and disarming the Ctrl-C watcher);
 *   - Ctrl-C latency: from the 0x03 sent during an endless continue to
 *     the stop reply (the fake checks for an interrupt every step and
 *     sleeps 0.2 ms every 64 steps, which bounds it from below).
 * Best of several batches; figures only, no timed assertions (the
 * machines are shared and noisy): the ratio measured in the same run is
 * the number to compare.
 */
#define GDB_FAKE_WITH_CLIENT
#include <stdlib.h>

#include "tests/unit/gdb_fake.h"

#define BATCHES 9
#define ROUNDS 1000
#define INTERRUPTS 50

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Time of one round trip of pkt over ROUNDS, in microseconds; -1 on a bad reply. */
static double round_trip(struct gdb_client *c, const char *pkt)
{
	double t = now();

	for (int i = 0; i < ROUNDS; i++) {
		const char *r = cl_call(c, pkt);

		if (!r || r[0] != 'T')
			return -1;
	}
	return (now() - t) / ROUNDS * 1e6;
}

/* Best of BATCHES for '?' and 's', measured in turn so that both see
 * the same load. 0, or -1 on a bad reply. */
static int round_trips(struct gdb_client *c, double *query, double *step)
{
	*query = *step = 1e9;
	for (int b = 0; b < BATCHES; b++) {
		double q = round_trip(c, "?"), s = round_trip(c, "s");

		if (q < 0 || s < 0)
			return -1;
		if (q < *query)
			*query = q;
		if (s < *step)
			*step = s;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median Ctrl-C latency in microseconds; -1 on a bad reply. */
static double interrupt_latency(struct gdb_fake *f, struct gdb_client *c)
{
	double lat[INTERRUPTS];

	for (int i = 0; i < INTERRUPTS; i++) {
		const char *r;
		double t;
		int resumes;

		pthread_mutex_lock(&f->lock);
		resumes = f->resumes;
		pthread_mutex_unlock(&f->lock);
		if (cl_send(c, "c") < 0 || fake_wait_resumes(f, resumes + 1))
			return -1;
		t = now();
		if (cl_send_raw(c, "\x03", 1))
			return -1;
		r = cl_recv(c);
		if (!r || strncmp(r, "T02", 3) != 0)
			return -1;
		lat[i] = (now() - t) * 1e6;
	}
	qsort(lat, INTERRUPTS, sizeof(lat[0]), cmp_double);
	return lat[INTERRUPTS / 2];
}

int main(void)
{
	static struct gdb_fake f;
	struct gdb_target t;
	struct gdb_server *srv;
	struct gdb_client c;
	struct served sv;
	double step, query, intr;
	const char *r;

	fake_init(&f);
	f.step_limit = 0;		/* continue runs until Ctrl-C */
	t = fake_target(&f);
	srv = gdb_server_create(&t, NULL);
	if (!srv || served_start(&sv, srv, &c)) {
		fprintf(stderr, "gdb_resume_bench: cannot start the stub\n");
		return 1;
	}
	r = cl_call(&c, "QStartNoAckMode");
	if (!r || strcmp(r, "OK") != 0) {
		fprintf(stderr, "gdb_resume_bench: no-ack mode refused\n");
		return 1;
	}
	c.noack = true;
	intr = round_trips(&c, &query, &step) ? -1 : interrupt_latency(&f, &c);
	if (intr < 0) {
		fprintf(stderr, "gdb_resume_bench: unexpected reply from the stub\n");
		return 1;
	}
	printf("gdb stub, fake target over a socketpair (best of %d x %d round trips)\n",
	       BATCHES, ROUNDS);
	printf("  '?' round trip (no resume):          %8.1f us\n", query);
	printf("  's' round trip (one resume):         %8.1f us\n", step);
	printf("  per-resume cost in the stub:         %8.1f us (step / '?': %.2f)\n",
	       step - query, step / query);
	printf("  Ctrl-C to stop reply, median of %d: %8.1f us\n", INTERRUPTS, intr);
	cl_send(&c, "k");
	served_stop(&sv, &c);
	gdb_server_destroy(srv);
	return 0;
}
