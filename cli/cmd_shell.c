/*
 * cmd_shell.c — `rrvm shell DIR`: an interactive SQL prompt on a
 * recording's trace database (libedit line editing, history in
 * ~/.rrvm_history), with a few dot-commands. Statements may span lines;
 * one runs when it is complete (ends with ';').
 *
 * When standard input is not a terminal the shell reads it plainly, with
 * no prompt, so that `rrvm shell DIR < script.sql` works like sqlite3.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "tracedb/tracedb.h"

#define HISTORY_FILE ".rrvm_history"
#define HISTORY_MAX 1000

struct shell {
	struct tracedb *db;
	enum tracedb_format fmt;
	bool interactive;
	int errors;
};

static void usage(void)
{
	printf("Usage: rrvm shell DIR\n"
	       "An SQL prompt on DIR/trace.db (written by 'rrvm index DIR'; DIR may also be a\n"
	       "trace.db file). Statements end with ';'. Type .help for the dot-commands.\n"
	       "Line editing and history (~/" HISTORY_FILE ") on a terminal; a script on\n"
	       "standard input runs without prompts, and the exit status is then 2 if any\n"
	       "statement failed.\n");
}

static void help(void)
{
	printf(".help            this text\n"
	       ".tables          the tables and views\n"
	       ".schema [NAME]   the CREATE statements (of NAME only)\n"
	       ".mode MODE       output: table (default), csv or json\n"
	       ".explain SQL     the query plan of SQL\n"
	       ".quit, .exit     leave\n"
	       "The schema is described in README.md, section \"Trace database\".\n");
}

static void list(struct shell *sh, const char *sql, const char *arg, const char *sep)
{
	sqlite3 *db = tracedb_handle(sh->db);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "error: %s\n", sqlite3_errmsg(db));
		sh->errors++;
		return;
	}
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		printf("%s%s", (const char *)sqlite3_column_text(st, 0), sep);
	sqlite3_finalize(st);
}

/* Returns 1 to leave the shell. */
static int dot_command(struct shell *sh, char *line)
{
	char *cmd = line, *arg = line + strcspn(line, " \t");
	struct tracedb_error err;

	/* cmd is the first word; arg the rest of the line, trimmed, or NULL. */
	if (*arg) {
		*arg++ = 0;
		arg += strspn(arg, " \t");
		for (char *e = arg + strlen(arg); e > arg && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = 0;
	}
	if (!*arg)
		arg = NULL;
	if (!strcmp(cmd, ".quit") || !strcmp(cmd, ".exit"))
		return 1;
	if (!strcmp(cmd, ".help")) {
		help();
	} else if (!strcmp(cmd, ".tables")) {
		list(sh, "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name "
			 "NOT LIKE 'sqlite_%' ORDER BY name", NULL, "\n");
	} else if (!strcmp(cmd, ".schema")) {
		list(sh, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE "
			 "'sqlite_%' AND (?1 IS NULL OR name = ?1 OR tbl_name = ?1) ORDER BY type "
			 "DESC, name", arg, ";\n");
	} else if (!strcmp(cmd, ".mode") && arg) {
		if (!strcmp(arg, "table")) {
			sh->fmt = TRACEDB_FORMAT_TABLE;
		} else if (!strcmp(arg, "csv")) {
			sh->fmt = TRACEDB_FORMAT_CSV;
		} else if (!strcmp(arg, "json")) {
			sh->fmt = TRACEDB_FORMAT_JSON;
		} else {
			fprintf(stderr, "error: .mode %s: use table, csv or json\n", arg);
			sh->errors++;
		}
	} else if (!strcmp(cmd, ".explain") && arg) {
		if (tracedb_explain(sh->db, arg, stdout, &err)) {
			fprintf(stderr, "SQL error: %s\n", err.msg);
			sh->errors++;
		}
	} else {
		fprintf(stderr, "error: unknown command or missing argument: %s (try .help)\n", cmd);
		sh->errors++;
	}
	return 0;
}

static void run_sql(struct shell *sh, const char *sql)
{
	struct tracedb_error err;

	if (tracedb_query(sh->db, sql, sh->fmt, stdout, &err)) {
		fprintf(stderr, "SQL error: %s\n", err.msg);
		sh->errors++;
	}
}

/* One line of input: the next line, or NULL at the end. Caller frees. */
static char *next_line(struct shell *sh, bool continued)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (sh->interactive)
		return readline(continued ? "   ...> " : "rrvm> ");
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = 0;
	return line;
}

static int append(char **buf, size_t *len, const char *line)
{
	size_t n = strlen(line);
	char *b = realloc(*buf, *len + n + 2);

	if (!b)
		return -ENOMEM;
	memcpy(b + *len, line, n);
	b[*len + n] = '\n';
	b[*len + n + 1] = 0;
	*buf = b;
	*len += n + 1;
	return 0;
}

int cli_cmd_shell(int argc, char **argv)
{
	struct shell sh = { .fmt = TRACEDB_FORMAT_TABLE };
	char *buf = NULL, *line, hist[4096] = "";
	const char *home = getenv("HOME");
	size_t len = 0;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage();
		return 0;
	}
	if (argc != 2)
		return cli_usage_error("shell", argc < 2 ? "missing DIR" : "too many arguments");
	rc = cli_tracedb_open("shell", argv[1], &sh.db);
	if (rc)
		return rc;
	sh.interactive = isatty(STDIN_FILENO);
	if (sh.interactive) {
		using_history();
		stifle_history(HISTORY_MAX);
		if (home && *home) {
			snprintf(hist, sizeof(hist), "%s/" HISTORY_FILE, home);
			read_history(hist);
		}
		printf("rrvm shell on %s: SQL ending with ';', or .help\n", argv[1]);
	}
	while ((line = next_line(&sh, len > 0))) {
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (sh.interactive && *p)
			add_history(line);
		if (len == 0 && *p == '.') {
			int quit = dot_command(&sh, p);
			free(line);
			if (quit)
				break;
			continue;
		}
		if (append(&buf, &len, line)) {
			free(line);
			fprintf(stderr, "rrvm shell: out of memory\n");
			break;
		}
		free(line);
		if (sqlite3_complete(buf)) {
			run_sql(&sh, buf);
			len = 0;
			buf[0] = 0;
		}
	}
	if (len > 0 && buf[strspn(buf, " \t\n")])
		run_sql(&sh, buf);      /* a last statement without ';' */
	if (hist[0])
		write_history(hist);
	free(buf);
	tracedb_close(sh.db);
	return !sh.interactive && sh.errors ? CLI_EXIT_USAGE : 0;
}
