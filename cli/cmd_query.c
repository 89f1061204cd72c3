/*
 * cmd_query.c — `rrvm query DIR 'SQL'`: run SQL against a recording's
 * trace database and print the result as a table, CSV or JSON, or print
 * the query plan.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "tracedb/tracedb.h"

static void usage(void)
{
	printf("Usage: rrvm query [OPTIONS] DIR 'SQL'\n"
	       "Run SQL against DIR/trace.db (written by 'rrvm index DIR') and print the result.\n"
	       "DIR may also be a trace.db file itself. The database is opened read-only; its\n"
	       "tables and views are described in README.md and by '.schema' in 'rrvm shell'.\n\n"
	       "Options:\n"
	       "      --table     aligned columns with a header (the default)\n"
	       "      --csv       CSV with a header row, as 'sqlite3 -csv -header' prints it\n"
	       "      --json      a JSON array of objects per statement\n"
	       "      --explain   print the query plan instead of running the query\n"
	       "  -h, --help      show this help and exit\n\n"
	       "A recording with no trace.db, or one written by another rrvm schema version or\n"
	       "from another recording, is refused with a hint to run 'rrvm index DIR'.\n"
	       "Exit status: 0 done; 1 no usable trace.db; 2 usage errors and SQL errors\n"
	       "(SQLite's message is printed).\n");
}

/* Open DIR/trace.db, or the file itself when given a file. */
int cli_tracedb_open(const char *cmd, const char *where, struct tracedb **db)
{
	struct tracedb_error err = { "" };
	struct stat sb;
	int rc;

	if (stat(where, &sb) < 0)
		return cli_usage_error(cmd, "%s: %s", where, strerror(errno));
	if (S_ISREG(sb.st_mode))
		rc = tracedb_open_file(where, db, &err);
	else if (S_ISDIR(sb.st_mode))
		rc = tracedb_open(where, db, &err);
	else
		return cli_usage_error(cmd, "%s: not a recording directory or a trace.db file", where);
	if (rc) {
		fprintf(stderr, "rrvm %s: %s\n", cmd, err.msg);
		return 1;
	}
	return 0;
}

int cli_cmd_query(int argc, char **argv)
{
	enum { OPT_TABLE = 1000, OPT_CSV, OPT_JSON, OPT_EXPLAIN };
	static const struct option longopts[] = {
		{ "table", no_argument, 0, OPT_TABLE }, { "csv", no_argument, 0, OPT_CSV },
		{ "json", no_argument, 0, OPT_JSON }, { "explain", no_argument, 0, OPT_EXPLAIN },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	enum tracedb_format fmt = TRACEDB_FORMAT_TABLE;
	struct tracedb_error err = { "" };
	struct tracedb *db = NULL;
	bool explain = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case OPT_TABLE:
			fmt = TRACEDB_FORMAT_TABLE;
			break;
		case OPT_CSV:
			fmt = TRACEDB_FORMAT_CSV;
			break;
		case OPT_JSON:
			fmt = TRACEDB_FORMAT_JSON;
			break;
		case OPT_EXPLAIN:
			explain = true;
			break;
		default:
			return cli_usage_error("query", "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("query", argc - optind < 2 ? "expected DIR and 'SQL'"
								  : "too many arguments (quote the SQL)");
	rc = cli_tracedb_open("query", argv[optind], &db);
	if (rc)
		return rc;
	if (explain)
		rc = tracedb_explain(db, argv[optind + 1], stdout, &err);
	else
		rc = tracedb_query(db, argv[optind + 1], fmt, stdout, &err);
	tracedb_close(db);
	if (rc == -EINVAL) {
		fprintf(stderr, "rrvm query: SQL error: %s\n", err.msg);
		return CLI_EXIT_USAGE;
	}
	if (rc) {
		fprintf(stderr, "rrvm query: %s\n", err.msg);
		return 1;
	}
	return 0;
}
