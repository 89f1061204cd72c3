/*
 * child_run.h — run a function in a child process and keep what it wrote,
 * for the tests of code that ends the process (a failed VMM_CHECK aborts).
 *
 * The child's stdout and stderr go to files of their own, it dumps no
 * core, and the parent gets the wait status and both texts. The function
 * runs in the child only: a KVM machine must be made there too (KVM ties
 * a VM to the process that created it).
 *
 * Header-only, all static, like tap.h.
 */
#ifndef RRVM_TESTS_CHILD_RUN_H
#define RRVM_TESTS_CHILD_RUN_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct child_out {
	int status;             /* as waitpid gives it */
	char out[16384];        /* the child's stdout, terminated */
	char err[16384];        /* its stderr */
};

static inline void child_slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* 0 with *o filled, -1 if the child could not be run. */
static inline int child_run(void (*fn)(void *arg), void *arg, struct child_out *o)
{
	FILE *out = tmpfile(), *err = tmpfile();
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (!out || !err)
		goto fail;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		if (dup2(fileno(out), 1) < 0 || dup2(fileno(err), 2) < 0)
			_exit(120);
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &o->status, 0) != pid)
		goto fail;
	child_slurp(out, o->out, sizeof(o->out));
	child_slurp(err, o->err, sizeof(o->err));
	return 0;
fail:
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	return -1;
}

/* Did the child die of SIGABRT? */
static inline int child_aborted(const struct child_out *o)
{
	return WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGABRT;
}

#endif
