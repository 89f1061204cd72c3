# introspect: guest page tables, mappings and their diffs, descriptors,
# control registers and ELF symbols (no KVM inside; see introspect.h), and
# view.c, the same on a running machine (view.h): programs that use the view
# link vmm/libvmm.a after this library.
noinst_LIBRARIES += introspect/libintrospect.a
introspect_libintrospect_a_SOURCES = \
	introspect/introspect.h introspect/internal.h \
	introspect/out.c introspect/paging.c introspect/maps.c \
	introspect/mapdiff.c introspect/shadow.c introspect/cregs.c \
	introspect/desc.c introspect/symbols.c \
	introspect/view.h introspect/view.c

# Fake guest RAM shared by the unit tests and the benchmark.
EXTRA_DIST += introspect/testguest.h

check_PROGRAMS += tests/unit/introspect_paging_test tests/unit/introspect_maps_test \
	tests/unit/introspect_desc_test tests/unit/introspect_symbols_test
TESTS += tests/unit/introspect_paging_test tests/unit/introspect_maps_test \
	tests/unit/introspect_desc_test tests/unit/introspect_symbols_test
tests_unit_introspect_paging_test_LDADD = introspect/libintrospect.a
tests_unit_introspect_maps_test_LDADD = introspect/libintrospect.a
tests_unit_introspect_desc_test_LDADD = introspect/libintrospect.a
tests_unit_introspect_symbols_test_LDADD = introspect/libintrospect.a

noinst_PROGRAMS += tests/bench/introspect_bench
tests_bench_introspect_bench_LDADD = introspect/libintrospect.a
bench_scripts += tests/bench/introspect.sh
EXTRA_DIST += tests/bench/introspect.sh

# The view on a real machine (needs /dev/kvm and samples/hello.elf, else SKIP).
check_PROGRAMS += tests/unit/introspect_view_test
TESTS += tests/unit/introspect_view_test
tests_unit_introspect_view_test_LDADD = introspect/libintrospect.a vmm/libvmm.a

# Test driver: boots a kernel (samples/paging.elf) under the live driver,
# stops at each "stage N" annotation and runs view commands; also finds
# stage positions in a recording and runs pt-diff (debug/ptdiff.c).
noinst_PROGRAMS += tests/tools/ptview
tests_tools_ptview_SOURCES = tests/tools/ptview.c
tests_tools_ptview_LDADD = debug/libdebug.a gdbstub/libgdbstub.a replay/libreplay.a \
	introspect/libintrospect.a vmm/libvmm.a $(LZ4_LIBS) -lpthread

# End to end on samples/paging.elf and race.elf (needs /dev/kvm, else SKIP).
TESTS += tests/integration/paging.sh
EXTRA_DIST += tests/integration/paging.sh

# The view on a live guest mapping 1 GiB in 4K pages (paging.elf big).
bench_scripts += tests/bench/introspect_view.sh
EXTRA_DIST += tests/bench/introspect_view.sh
