# doc: the manual page (installed by make install) and the schemas of what
# rrvm capture writes for CI (JSON, JUnit XML), used by the tests.
dist_man1_MANS = doc/rrvm.1
EXTRA_DIST += doc/capture.schema.json doc/junit.xsd
