# doc: the manual page and the schemas of what rrvm capture writes for CI
# (JSON, JUnit XML), installed by make install (the schemas under
# $(pkgdatadir)) and used by the tests.
dist_man1_MANS = doc/rrvm.1
dist_pkgdata_DATA = doc/capture.schema.json doc/junit.xsd
