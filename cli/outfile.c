/*
 * outfile.c — files that rrvm writes for people and CI (reports, JUnit,
 * JSON, summaries) appear whole or not at all: written to a temporary
 * file in the same directory, fsynced, then renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_outfile_open(struct cli_outfile *o, const char *path)
{
	char copy[4096], dir[4096], base[4096];
	int fd;

	o->f = NULL;
	if (snprintf(o->path, sizeof(o->path), "%s", path) >= (int)sizeof(o->path)) {
		cli_msg("%s: path too long", path);
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(copy));
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(copy));
	if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%.200s.tmp.%ld", dir, base, (long)getpid()) >=
	    (int)sizeof(o->tmp)) {
		cli_msg("%s: path too long", path);
		return -1;
	}
	fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		cli_msg("%s: %s", o->tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

int cli_outfile_commit(struct cli_outfile *o)
{
	int bad = fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) < 0;
	int e = errno;

	if (fclose(o->f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	o->f = NULL;
	if (!bad && rename(o->tmp, o->path) < 0) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		cli_msg("%s: %s", o->path, strerror(e));
		unlink(o->tmp);
		return -1;
	}
	return 0;
}

void cli_outfile_abort(struct cli_outfile *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	unlink(o->tmp);
}
