/*
 * schema.c — the trace database's schema (tables, indexes, views) and the
 * checks that tell a current rrvm trace database from an old or foreign
 * file.
 *
 * The README documents every table and column; change both together and
 * bump TRACEDB_SCHEMA_VERSION with any change, so that a trace.db written
 * by another version is rebuilt by `rrvm index` and refused by the reader
 * instead of being misread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "replay/replay.h"
#include "tracedb/internal.h"

const char tracedb_schema_tables[] =
	"CREATE TABLE recording(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;\n"
	/* position is the exit count itself: the rowid, so lookups and
	 * ranges by position need no separate index. */
	"CREATE TABLE exits(\n"
	"  position INTEGER PRIMARY KEY,\n"
	"  kind TEXT NOT NULL,\n"
	"  port INTEGER,\n"
	"  address INTEGER,\n"
	"  size INTEGER NOT NULL,\n"
	"  value INTEGER NOT NULL,\n"
	"  rip INTEGER NOT NULL,\n"
	"  symbol TEXT,\n"
	/* An exit's full position is its boundary: the count alone. */
	"  pos TEXT GENERATED ALWAYS AS (CAST(position AS TEXT)) VIRTUAL);\n"
	"CREATE TABLE interrupts(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  position INTEGER NOT NULL,\n"
	"  vector INTEGER NOT NULL,\n"
	"  irq INTEGER,\n"
	"  rip INTEGER NOT NULL,\n"
	"  symbol TEXT,\n"
	"  cpl INTEGER,\n"
	"  deferred INTEGER NOT NULL,\n"
	"  raised_position INTEGER NOT NULL,\n"
	"  clock_ns INTEGER,\n"
	"  source TEXT,\n"
	"  pin INTEGER,\n"
	"  pos TEXT,\n"
	"  pos_note TEXT);\n"
	"CREATE TABLE serial(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  position INTEGER NOT NULL,\n"
	"  start_position INTEGER NOT NULL,\n"
	"  stream TEXT NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  pos TEXT GENERATED ALWAYS AS (CAST(position AS TEXT)) VIRTUAL);\n"
	"CREATE TABLE annotations(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  position INTEGER NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  pos TEXT GENERATED ALWAYS AS (CAST(position AS TEXT)) VIRTUAL);\n"
	"CREATE TABLE clock_reads(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  position INTEGER NOT NULL,\n"
	"  clock TEXT NOT NULL,\n"
	"  value_ns INTEGER NOT NULL,\n"
	"  pos TEXT,\n"
	"  pos_note TEXT);\n"
	"CREATE TABLE serial_input(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  position INTEGER NOT NULL,\n"
	"  data BLOB NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  pos TEXT,\n"
	"  pos_note TEXT);\n"
	"CREATE TABLE events(\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  position INTEGER NOT NULL,\n"
	"  type TEXT NOT NULL,\n"
	"  detail TEXT NOT NULL,\n"
	"  pos TEXT,\n"
	"  pos_note TEXT);\n"
	"CREATE TABLE symbols(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  address INTEGER NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  type TEXT NOT NULL,\n"
	"  global INTEGER NOT NULL);\n";

/* The branches of the timeline: everything that happened, in order.
 * Within one position: the exit, then the output it completed, then
 * interrupts injected after it (ord). */
#define TIMELINE_EXITS                                                                  \
	"SELECT position, 0 AS ord, 'exit' AS source,\n"                               \
	"         kind || CASE WHEN port IS NOT NULL THEN printf(' port 0x%x', port)\n"  \
	"                      WHEN address IS NOT NULL THEN printf(' address 0x%x', address)\n" \
	"                      ELSE '' END\n"                                           \
	"              || CASE WHEN size > 0 OR kind = 'debug_exit'\n"                  \
	"                      THEN printf(' value 0x%x', value) ELSE '' END AS detail,\n" \
	"         rip, symbol, pos FROM exits"
#define TIMELINE_SERIAL                                                                 \
	"SELECT position, 1, 'serial', stream || ': ' || text, NULL, NULL, pos FROM serial"
#define TIMELINE_ANNOTATIONS                                                            \
	"SELECT position, 1, 'annotation', text, NULL, NULL, pos FROM annotations"
#define TIMELINE_INTERRUPTS                                                             \
	"SELECT position, 2, 'interrupt',\n"                                            \
	"         printf('vector 0x%x', vector) || CASE WHEN irq IS NOT NULL\n"         \
	"              THEN printf(' (irq %d)', irq) ELSE '' END\n"                     \
	"              || CASE WHEN source IS NOT NULL THEN ' from ' || source ||\n"   \
	"                   CASE WHEN pin IS NOT NULL THEN printf(' pin %d', pin)\n"   \
	"                   ELSE '' END ELSE '' END\n"                                 \
	"              || CASE WHEN deferred THEN ' deferred' ELSE '' END,\n"           \
	"         rip, symbol, pos FROM interrupts"
/* The first position of the last_events view: the last 1000 exits. */
#define LAST_FROM "(SELECT max(position) - 1000 FROM exits)"

const char tracedb_schema_finish[] =
	/* exits(port, kind) also carries the rowid (position): "writes to
	 * port P between positions A and B" is one index range. Partial
	 * indexes: most exits of a port-I/O guest have no address, and HLTs
	 * no port. */
	"CREATE INDEX exits_port ON exits(port, kind) WHERE port IS NOT NULL;\n"
	"CREATE INDEX exits_address ON exits(address, kind) WHERE address IS NOT NULL;\n"
	"CREATE INDEX exits_symbol ON exits(symbol);\n"
	"CREATE INDEX interrupts_position ON interrupts(position);\n"
	"CREATE INDEX interrupts_vector ON interrupts(vector, position);\n"
	"CREATE INDEX interrupts_symbol ON interrupts(symbol, position);\n"
	"CREATE INDEX interrupts_source ON interrupts(source, position);\n"
	"CREATE INDEX serial_position ON serial(position);\n"
	"CREATE INDEX annotations_position ON annotations(position);\n"
	"CREATE INDEX clock_reads_position ON clock_reads(position);\n"
	"CREATE INDEX serial_input_position ON serial_input(position);\n"
	"CREATE INDEX events_position ON events(position);\n"
	"CREATE INDEX symbols_name ON symbols(name);\n"
	"CREATE INDEX symbols_address ON symbols(address);\n"
	"CREATE VIEW interrupts_per_symbol AS\n"
	"  SELECT symbol, vector, count(*) AS interrupts, sum(deferred) AS deferred\n"
	"  FROM interrupts GROUP BY symbol, vector ORDER BY interrupts DESC, symbol, vector;\n"
	"CREATE VIEW io_per_port AS\n"
	"  SELECT port, count(*) AS accesses, sum(kind = 'pio_in') AS reads,\n"
	"         sum(kind = 'pio_out') AS writes\n"
	"  FROM exits WHERE port IS NOT NULL GROUP BY port ORDER BY accesses DESC, port;\n"
	"CREATE VIEW timeline AS\n"
	TIMELINE_EXITS "\n  UNION ALL " TIMELINE_SERIAL "\n  UNION ALL " TIMELINE_ANNOTATIONS
	"\n  UNION ALL " TIMELINE_INTERRUPTS ";\n"
	/* The same branches, each filtered itself: SQLite does not push a
	 * condition with a subquery down into a compound view, and a filter
	 * on the view would scan every table. */
	"CREATE VIEW last_events AS\n"
	"  SELECT position, source, detail, rip, symbol, pos FROM (\n  "
	TIMELINE_EXITS " WHERE position > " LAST_FROM
	"\n  UNION ALL " TIMELINE_SERIAL " WHERE position > " LAST_FROM
	"\n  UNION ALL " TIMELINE_ANNOTATIONS " WHERE position > " LAST_FROM
	"\n  UNION ALL " TIMELINE_INTERRUPTS " WHERE position > " LAST_FROM
	")\n  ORDER BY position, ord;\n";

uint64_t tracedb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *tracedb_exit_kind_name(unsigned kind)
{
	static const char *const names[] = {
#define TRACEDB_X_(name, text) [TRACEDB_EXIT_##name] = text,
		TRACEDB_EXIT_KINDS(TRACEDB_X_)
#undef TRACEDB_X_
	};
	return kind < TRACEDB_EXIT_NKINDS ? names[kind] : NULL;
}

size_t tracedb_escape(const uint8_t *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

/* A manifest is a few hundred bytes; anything much larger is not one. */
#define MANIFEST_MAX (1u << 20)

int tracedb_manifest_sha256(const char *dir, char hex[65], struct tracedb_error *err)
{
	char path[4096];
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/manifest", dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		tracedb_error_set(err, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MANIFEST_MAX) {
		rc = -EINVAL;
		tracedb_error_set(err, "%s: not a manifest (not a regular file under 1 MiB)", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		tracedb_error_set(err, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			tracedb_error_set(err, "%s: read error at byte %zu", path, got);
			goto out;
		}
		got += (size_t)n;
	}
	replay_sha256(buf, got, hex);
out:
	free(buf);
	close(fd);
	return rc;
}

/* An integer from a one-row PRAGMA; -1 when it cannot be read. */
static int64_t pragma_int(sqlite3 *db, const char *sql, int *sqlite_rc)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	*sqlite_rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (*sqlite_rc == SQLITE_OK) {
		*sqlite_rc = sqlite3_step(st);
		if (*sqlite_rc == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			*sqlite_rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return v;
}

enum tracedb_file_state tracedb_check_file(const char *path, struct tracedb_error *err)
{
	struct stat st;
	sqlite3 *db = NULL;
	enum tracedb_file_state state = TRACEDB_FILE_FOREIGN;
	int64_t app, version;
	int rc;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			tracedb_error_set(err, "%s does not exist", path);
			return TRACEDB_FILE_MISSING;
		}
		tracedb_error_set(err, "%s: %s", path, strerror(errno));
		return TRACEDB_FILE_FOREIGN;
	}
	if (!S_ISREG(st.st_mode)) {
		tracedb_error_set(err, "%s is not a regular file", path);
		return TRACEDB_FILE_FOREIGN;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		tracedb_error_set(err, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	app = pragma_int(db, "PRAGMA application_id", &rc);
	if (rc == SQLITE_NOTADB) {
		tracedb_error_set(err, "%s is not an rrvm trace database: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (rc != SQLITE_OK) {
		/* Locked by a writer, unreadable: not usable now, but say why. */
		tracedb_error_set(err, "%s cannot be read: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (app != TRACEDB_APPLICATION_ID) {
		tracedb_error_set(err, "%s is not an rrvm trace database (SQLite application_id "
				  "0x%08llx, expected 0x%08x)", path, (unsigned long long)app,
				  TRACEDB_APPLICATION_ID);
		goto out;
	}
	version = pragma_int(db, "PRAGMA user_version", &rc);
	if (rc != SQLITE_OK) {
		tracedb_error_set(err, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (version != TRACEDB_SCHEMA_VERSION) {
		tracedb_error_set(err, "%s has trace database schema version %lld; this rrvm uses "
				  "version %d", path, (long long)version, TRACEDB_SCHEMA_VERSION);
		state = TRACEDB_FILE_OLD;
		goto out;
	}
	state = TRACEDB_FILE_CURRENT;
out:
	sqlite3_close(db);
	return state;
}
