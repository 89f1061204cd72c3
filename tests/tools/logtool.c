/*
 * logtool.c — look at and make event logs (events.lz4) by hand.
 *
 *   logtool dump FILE             one event a line in the text form
 *   logtool build [--no-close] TEXT OUT
 *                                 write a log from that text form; with
 *                                 --no-close the frame is flushed but never
 *                                 ended, as a recorder killed by SIGKILL leaves it
 *   logtool check FILE            read the whole log, print counts per type
 *
 * FILE or TEXT may be "-" for stdin. Exit status: 0 for a complete log (or a
 * successful build), 1 for a corrupt log or any other error, 2 for a usage
 * error, 3 for a truncated log. So a test can dump a log, edit one value with
 * sed, build it again and replay the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/eventlog.h"

static int usage(void)
{
	fprintf(stderr, "usage: logtool dump FILE\n"
		"       logtool build [--no-close] TEXT OUT\n"
		"       logtool check FILE\n");
	return 2;
}

static int status_exit(enum replay_log_status st)
{
	switch (st) {
	case REPLAY_LOG_END_OF_LOG:
		return 0;
	case REPLAY_LOG_TRUNCATED:
		return 3;
	default:
		return 1;
	}
}

static struct replay_log_reader *open_log(const char *path)
{
	struct replay_log_reader *r = replay_log_reader_create();
	int err;

	if (!r) {
		fprintf(stderr, "logtool: out of memory\n");
		return NULL;
	}
	if (strcmp(path, "-") == 0)
		err = replay_log_reader_open_fd(r, dup(0), "<stdin>");
	else
		err = replay_log_reader_open(r, path);
	if (err) {
		fprintf(stderr, "logtool: %s\n", err == -ENOMEM ? strerror(ENOMEM) :
			replay_log_reader_error(r));
		replay_log_reader_free(r);
		return NULL;
	}
	return r;
}

/* dump and check share the loop; dump prints each event, check counts them. */
static int read_log(const char *path, int dump)
{
	struct replay_log_reader *r = open_log(path);
	unsigned long long counts[256] = { 0 };
	struct replay_event ev;
	enum replay_log_status st;
	int ret;

	if (!r)
		return 1;
	while ((st = replay_log_next(r, &ev)) == REPLAY_LOG_EVENT) {
		counts[ev.type & 0xff]++;
		if (dump && (replay_event_print(stdout, &ev) < 0 || putchar('\n') == EOF)) {
			fprintf(stderr, "logtool: writing to stdout failed\n");
			replay_log_reader_free(r);
			return 1;
		}
	}
	if (!dump) {
		printf("%llu events", (unsigned long long)replay_log_reader_events(r));
		for (unsigned t = 0; t < 256; t++)
			if (counts[t])
				printf(" %s=%llu", replay_event_type_name(t), counts[t]);
		printf("; %llu bytes decompressed, %llu bytes in the file; %s\n",
		       (unsigned long long)replay_log_reader_offset(r),
		       (unsigned long long)replay_log_reader_file_offset(r),
		       replay_log_status_name(st));
	}
	if (st != REPLAY_LOG_END_OF_LOG)
		fprintf(stderr, "logtool: %s\n", replay_log_reader_error(r));
	ret = status_exit(st);
	replay_log_reader_free(r);
	if (fflush(stdout) == EOF)
		ret = 1;
	return ret;
}

static int build(const char *text, const char *out, int no_close)
{
	FILE *in = strcmp(text, "-") == 0 ? stdin : fopen(text, "r");
	struct replay_event_storage s = { 0 };
	struct replay_log_writer *w = NULL;
	struct replay_event ev;
	char *line = NULL, msg[256];
	size_t cap = 0;
	unsigned long lineno = 0;
	int err, ret = 1;

	if (!in) {
		fprintf(stderr, "logtool: %s: %s\n", text, strerror(errno));
		return 1;
	}
	w = replay_log_writer_create();
	if (!w) {
		fprintf(stderr, "logtool: out of memory\n");
		goto out;
	}
	if (replay_log_writer_open(w, out) < 0) {
		fprintf(stderr, "logtool: %s\n", replay_log_writer_error(w));
		goto out;
	}
	while (getline(&line, &cap, in) >= 0) {
		lineno++;
		err = replay_event_parse(line, &ev, &s, msg, sizeof(msg));
		if (err == 1)
			continue;
		if (err < 0) {
			fprintf(stderr, "logtool: %s:%lu: %s\n", text, lineno,
				err == -ENOMEM ? strerror(ENOMEM) : msg);
			goto out;
		}
		if (replay_log_append(w, &ev) < 0) {
			fprintf(stderr, "logtool: %s:%lu: %s\n", text, lineno,
				replay_log_writer_error(w));
			goto out;
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "logtool: %s: read error\n", text);
		goto out;
	}
	if (no_close ? replay_log_flush(w) < 0 : replay_log_close(w) < 0) {
		fprintf(stderr, "logtool: %s\n", replay_log_writer_error(w));
		goto out;
	}
	ret = 0;
out:
	replay_log_writer_free(w);      /* with --no-close: closes the fd, frame left open */
	replay_event_storage_free(&s);
	free(line);
	if (in != stdin)
		fclose(in);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return read_log(argv[2], 1);
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return read_log(argv[2], 0);
	if (argc == 4 && strcmp(argv[1], "build") == 0)
		return build(argv[2], argv[3], 0);
	if (argc == 5 && strcmp(argv[1], "build") == 0 && strcmp(argv[2], "--no-close") == 0)
		return build(argv[3], argv[4], 1);
	return usage();
}
