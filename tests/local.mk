# tests: the TAP helper shared by the unit tests; the unit and integration
# tests themselves are listed in the local.mk of the module they test.
EXTRA_DIST += tests/unit/tap.h
include $(srcdir)/tests/fuzz/local.mk
include $(srcdir)/tests/guests/local.mk
