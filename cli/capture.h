/*
 * capture.h — the parts of `rrvm capture` (private to cli/): the runs and
 * what became of them (cmd_capture.c), the scheduler that records several
 * runs at once in child processes and decides which failure to keep
 * (capture_jobs.c), and the files written at the end: JUnit, JSON,
 * summary.html and a report.html per kept failure (capture_out.c).
 */
#ifndef RRVM_CLI_CAPTURE_H
#define RRVM_CLI_CAPTURE_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/cli.h"

/* How a finished run counts. */
enum capture_verdict {
	CAPTURE_PASS,
	CAPTURE_FAIL,           /* a failure: the recording is kept */
	CAPTURE_ERROR,          /* rrvm itself failed (no recording): capture stops */
};

enum capture_state {
	CAPTURE_PENDING,        /* not started */
	CAPTURE_RUNNING,
	CAPTURE_DONE,           /* finished and counted */
	CAPTURE_DISCARDED,      /* after the first failure of --until-fail: stopped or ignored */
};

struct capture_run {
	int number;                     /* 1-based */
	uint64_t seed;                  /* chaos seed (when chaos) */
	char name[16];                  /* run-0001 */
	char *dir;                      /* OUTDIR/run-0001 */
	enum capture_state state;
	pid_t pid;
	int fd;                         /* the child's result pipe */
	int status;                     /* exit status of the recording */
	bool recorded;                  /* a recording was made (its manifest has events) */
	enum capture_verdict verdict;
	double secs;
	char msg[256];                  /* a failing run's failure line */
	bool stopped;                   /* sent SIGTERM: it will not count */
	bool kept;                      /* its recording stays in OUTDIR */
	char *report;                   /* its report.html, NULL when none */
	char report_error[256];         /* why there is no report */
};

struct capture_config {
	struct cli_guest_opts guest;
	const char *outdir, *junit, *json, *pass_list;
	bool until_fail, keep_passing, chaos, report, progress;
	uint64_t seed;
	long runs;
	int jobs;
	struct capture_run *run;        /* runs entries */
	long limit;                     /* runs considered: 0..limit-1 (until-fail lowers it) */
	int error_status;               /* an ERROR verdict's status, 0 if none */
	volatile sig_atomic_t stop;     /* set by SIGINT, SIGTERM, SIGHUP */
	bool interrupted;
	double wall_secs;
};

/* The verdict for a finished recording: its exit status against
 * --pass-status, and whether a recording was made at all. The one place
 * where statuses are mapped to pass and fail. */
enum capture_verdict capture_verdict(const struct capture_config *c, int status, bool recorded);

/* Record every run (c->jobs at a time) in run order, printing each run's
 * line in run order; with until_fail, keep only the first failure by run
 * number. Fills c->run[] and c->limit. Returns 0, or -errno when the host
 * failed (fork, pipe). */
int capture_jobs_record(struct capture_config *c) __attribute__((warn_unused_result));
/* Index each kept failure and write its report.html (c->jobs at a time). */
void capture_jobs_report(struct capture_config *c);

/* The end: JUnit, JSON and summary.html (each written to a temporary file
 * and renamed). Returns 0 or CLI_EXIT_USAGE after a message. */
int capture_write_junit(const struct capture_config *c) __attribute__((warn_unused_result));
int capture_write_json(const struct capture_config *c, int exit_status) __attribute__((warn_unused_result));
int capture_write_summary(const struct capture_config *c) __attribute__((warn_unused_result));
/* Where summary.html goes: beside the JUnit file, else in OUTDIR. */
void capture_summary_path(const struct capture_config *c, char *buf, size_t len);
/* Write the report of run r (its recording must be indexed). */
int capture_write_report(const struct capture_config *c, const struct capture_run *r,
			 char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
