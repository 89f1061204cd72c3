/*
 * capture_jobs.c — `rrvm capture --jobs N`: N recordings at once, each in a
 * child process of its own (a guest uses one host CPU; a KVM VM and its
 * signal handling belong to one process), and a result that does not
 * depend on which child finished first.
 *
 * The rule for --until-fail is the serial one: the failure kept is the
 * failing run with the lowest number, and every run after it is stopped
 * (or, if it already ended, ignored) and its recording deleted. A failure
 * of run 7 seen while run 5 still runs only stops runs 8 and up; if run 5
 * then fails too, run 7 is dropped in turn. Lines are printed in run
 * order: run K's line waits until runs 1..K-1 are done.
 *
 * A child reports back through a pipe (one fixed-size record) and dies
 * with the parent (PR_SET_PDEATHSIG), so a killed capture leaves no
 * recorder running.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/capture.h"
#include "cli/guest.h"
#include "tracedb/tracedb.h"

/* What a child sends back. */
struct child_result {
	int status;
	int recorded;
	double secs;
	char why[256];
};

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run_output {
	char path[4200];
	FILE *f;
	bool failed;	/* said once; the run goes on, its recording is whole */
};

/* O_NOFOLLOW: a symlink planted as serial.log must not redirect the write
 * (the recording directory is fresh, but a user may share its parent). */
static FILE *open_output(struct run_output *out)
{
	int fd = open(out->path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		fprintf(stderr, "rrvm capture: %s: %s (the recording itself is kept)\n", out->path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		out->failed = true;
	}
	return f;
}

static void write_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct run_output *out = ctx;

	if (stream != VMM_OUT_SERIAL || out->failed)
		return;
	if (!out->f)
		out->f = open_output(out);
	if (out->f)
		fwrite(buf, 1, len, out->f);
}

/* In the child: one recording into r->dir. */
static void child_record(const struct capture_config *c, const struct capture_run *r,
			 struct child_result *res)
{
	struct run_output out = { .f = NULL, .failed = false };
	struct replay_record_options ro = { .chaos = c->chaos, .chaos_seed = r->seed, .dir = r->dir };
	struct replay_manifest m = { .events = 0 };
	double t0 = now_secs();
	int in_fd;

	snprintf(out.path, sizeof(out.path), "%s/serial.log", r->dir);
	ro.output = (struct vmm_output){ write_output, &out };
	/* Every run reads the same input from the start. */
	in_fd = c->guest.serial_in ? cli_guest_open_input(&c->guest) : -1;
	if (c->guest.serial_in && in_fd < 0) {
		res->status = CLI_EXIT_USAGE;
		return;
	}
	res->status = cli_record_run(&c->guest, &ro, in_fd, &m);
	if (in_fd >= 0)
		close(in_fd);
	if (out.f)
		fclose(out.f);
	res->recorded = m.events != 0;
	res->secs = now_secs() - t0;
}

/* In the child: index the recording and write its report. */
static void child_report(const struct capture_config *c, const struct capture_run *r,
			 struct child_result *res)
{
	struct tracedb_index_options io = { 0 };
	struct tracedb_index_stats st;
	struct tracedb_error err = { "" };
	char path[4200];

	snprintf(path, sizeof(path), "%s/" TRACEDB_FILE, r->dir);
	if (tracedb_check_file(path, &err) != TRACEDB_FILE_CURRENT &&
	    tracedb_index(r->dir, &io, &st, &err)) {
		snprintf(res->why, sizeof(res->why), "indexing failed: %.200s", err.msg);
		res->status = 1;
		return;
	}
	res->status = capture_write_report(c, r, res->why, sizeof(res->why)) ? 1 : 0;
}

/* Fork a child that runs work() for r and sends its result. */
static int spawn(const struct capture_config *c, struct capture_run *r,
		 void (*work)(const struct capture_config *, const struct capture_run *,
			      struct child_result *))
{
	pid_t parent = getpid(), pid;
	int fds[2];

	if (pipe(fds) < 0)
		return -errno;
	fflush(NULL);   /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (pid == 0) {
		struct child_result res = { .status = 1 };
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		close(fds[0]);
		/* Until the recorder installs its own handler, a stop request
		 * simply ends the child. */
		sigemptyset(&dfl.sa_mask);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		work(c, r, &res);
		if (write(fds[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	r->pid = pid;
	r->fd = fds[0];
	r->state = CAPTURE_RUNNING;
	return 0;
}

/* Collect a reaped child's result; false when it sent none. */
static bool collect(struct capture_run *r, int wstatus, struct child_result *res)
{
	ssize_t n = read(r->fd, res, sizeof(*res));

	close(r->fd);
	r->fd = -1;
	r->pid = 0;
	if (n == (ssize_t)sizeof(*res))
		return true;
	memset(res, 0, sizeof(*res));
	res->status = 1;
	if (WIFSIGNALED(wstatus))
		snprintf(res->why, sizeof(res->why), "killed by signal %d", WTERMSIG(wstatus));
	else
		snprintf(res->why, sizeof(res->why), "ended without a result (status %d)",
			 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
	return false;
}

static struct capture_run *by_pid(struct capture_config *c, pid_t pid)
{
	for (long i = 0; i < c->runs; i++)
		if (c->run[i].state == CAPTURE_RUNNING && c->run[i].pid == pid)
			return &c->run[i];
	return NULL;
}

/* A passing run leaves nothing: its serial log, then the recording. */
static void remove_files(const struct capture_run *r)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/serial.log", r->dir);
	unlink(path);
	replay_recording_remove(r->dir);
}

/* A run that does not count (past the first failure): nothing of it stays. */
static void discard(struct capture_run *r)
{
	remove_files(r);
	r->state = CAPTURE_DISCARDED;
	r->kept = false;
}

/* What a failing run said: its first line that looks like a failure,
 * else its last line. */
static void failure_line(const char *dir, char *buf, size_t len)
{
	char path[4200], line[512];
	FILE *f;

	snprintf(buf, len, "(no output)");
	snprintf(path, sizeof(path), "%s/serial.log", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		snprintf(buf, len, "%.255s", line);
		if (tracedb_report_is_failure_line(line))
			break;
	}
	fclose(f);
}

static void progress_clear(const struct capture_config *c)
{
	if (c->progress)
		fputs("\r\033[K", stderr);
}

static void progress_draw(const struct capture_config *c, double t0)
{
	long done = 0, failed = 0;
	double secs = now_secs() - t0, rate;

	if (!c->progress)
		return;
	for (long i = 0; i < c->runs; i++) {
		done += c->run[i].state == CAPTURE_DONE;
		failed += c->run[i].state == CAPTURE_DONE && c->run[i].verdict == CAPTURE_FAIL;
	}
	rate = secs > 0 ? (double)done / secs : 0;
	fprintf(stderr, "\r\033[K%ld/%ld runs, %ld failed, %.2f runs/s", done, c->limit, failed, rate);
	if (rate > 0 && c->limit > done)
		fprintf(stderr, ", %.0fs left", (double)(c->limit - done) / rate);
	fflush(stderr);
}

static void print_run(const struct capture_run *r)
{
	if (r->verdict == CAPTURE_FAIL)
		printf("%s: FAIL (status %d): %s\n  recording: %s\n", r->name, r->status, r->msg, r->dir);
	else if (r->verdict == CAPTURE_PASS)
		printf("%s: pass (status %d)\n", r->name, r->status);
}

/* Print the lines of the runs whose predecessors are all done. */
static void print_ready(const struct capture_config *c, long *printed)
{
	bool any = false;

	while (*printed < c->limit && c->run[*printed].state == CAPTURE_DONE) {
		if (!any)
			progress_clear(c);
		any = true;
		print_run(&c->run[(*printed)++]);
	}
	if (any)
		fflush(stdout);
}

/* Ask the running children from run `from` on to stop; their runs will
 * not count. */
static void stop_running(struct capture_config *c, long from)
{
	for (long i = from; i < c->runs; i++)
		if (c->run[i].state == CAPTURE_RUNNING && !c->run[i].stopped) {
			kill(c->run[i].pid, SIGTERM);
			c->run[i].stopped = true;
		}
}

/* Runs from `from` on do not count: stop those running, drop those done. */
static void stop_from(struct capture_config *c, long from)
{
	stop_running(c, from);
	for (long i = from; i < c->runs; i++)
		if (c->run[i].state == CAPTURE_DONE)
			discard(&c->run[i]);
}

static void set_flag(void *ctx)
{
	*(volatile sig_atomic_t *)ctx = 1;
}

/* A finished run: count it, or drop it if it is past the limit. */
static void finished(struct capture_config *c, struct capture_run *r, int wstatus)
{
	struct child_result res;
	bool got = collect(r, wstatus, &res);
	long idx = r->number - 1;

	r->status = res.status;
	r->recorded = got && res.recorded;
	r->secs = res.secs;
	r->state = CAPTURE_DONE;
	/* A run stopped early (past the first failure, or on SIGINT) is
	 * incomplete whatever it returned. */
	if (idx >= c->limit || r->stopped || c->stop) {
		discard(r);
		return;
	}
	r->verdict = got ? capture_verdict(c, r->status, r->recorded) : CAPTURE_ERROR;
	switch (r->verdict) {
	case CAPTURE_PASS:
		if (!c->keep_passing)
			remove_files(r);
		else
			r->kept = true;
		break;
	case CAPTURE_FAIL:
		failure_line(r->dir, r->msg, sizeof(r->msg));
		r->kept = true;
		if (c->until_fail) {
			c->limit = r->number;
			stop_from(c, c->limit);
		}
		break;
	case CAPTURE_ERROR:
		/* rrvm itself failed (bad kernel, host error): every other
		 * run would too. */
		if (*res.why)
			cli_msg("capture: %s: %s", r->name, res.why);
		c->error_status = r->status ? r->status : 1;
		c->limit = idx;
		discard(r);
		stop_from(c, idx);
		break;
	}
}

int capture_jobs_record(struct capture_config *c)
{
	long next = 0, printed = 0;
	int running = 0, rc = 0;
	double t0 = now_secs();

	c->limit = c->runs;
	c->stop = 0;
	cli_on_interrupt(set_flag, (void *)&c->stop);
	for (;;) {
		while (!c->stop && !rc && running < c->jobs && next < c->limit) {
			rc = spawn(c, &c->run[next], child_record);
			if (rc) {
				cli_msg("capture: cannot start %s: %s", c->run[next].name, strerror(-rc));
				c->limit = next;
				stop_from(c, next);
				break;
			}
			next++;
			running++;
		}
		if (!running)
			break;
		{
			int ws;
			pid_t pid = waitpid(-1, &ws, 0);
			struct capture_run *r;

			if (pid < 0) {
				if (errno != EINTR) {
					rc = -errno;
					break;
				}
				if (c->stop)
					stop_running(c, 0);
				continue;
			}
			r = by_pid(c, pid);
			if (!r)
				continue;
			running--;
			finished(c, r, ws);
		}
		if (c->stop && !c->interrupted) {
			c->interrupted = true;
			stop_running(c, 0);
		}
		print_ready(c, &printed);
		progress_draw(c, t0);
	}
	cli_on_interrupt(NULL, NULL);
	if (c->interrupted || c->error_status || rc) {
		/* The result is the runs done without a gap from run 1. */
		long i = 0;
		while (i < c->limit && c->run[i].state == CAPTURE_DONE)
			i++;
		c->limit = i;
		for (; i < c->runs; i++)
			if (c->run[i].state == CAPTURE_DONE)
				discard(&c->run[i]);
	}
	print_ready(c, &printed);
	progress_clear(c);
	c->wall_secs = now_secs() - t0;
	return rc;
}

void capture_jobs_report(struct capture_config *c)
{
	long next = 0;
	int running = 0;
	c->stop = 0;
	cli_on_interrupt(set_flag, (void *)&c->stop);
	for (;;) {
		while (!c->stop && running < c->jobs && next < c->limit) {
			struct capture_run *r = &c->run[next++];
			if (r->state != CAPTURE_DONE || !r->kept || r->verdict != CAPTURE_FAIL)
				continue;
			if (spawn(c, r, child_report)) {
				snprintf(r->report_error, sizeof(r->report_error), "cannot fork");
				continue;
			}
			running++;
		}
		if (!running)
			break;
		{
			int ws;
			pid_t pid = waitpid(-1, &ws, 0);
			struct capture_run *r;
			struct child_result res;

			if (pid < 0) {
				if (errno != EINTR)
					break;
				continue;
			}
			r = by_pid(c, pid);
			if (!r)
				continue;
			running--;
			r->state = CAPTURE_DONE;
			if (!collect(r, ws, &res) || res.status != 0)
				snprintf(r->report_error, sizeof(r->report_error), "%s", res.why);
			else if (asprintf(&r->report, "%s/report.html", r->dir) < 0)
				r->report = NULL;
		}
	}
	if (c->stop)
		c->interrupted = true;
	cli_on_interrupt(NULL, NULL);
}
