# vmm device models: one file each, plus their unit tests.
vmm_libvmm_a_SOURCES += \
	vmm/devices.c \
	vmm/devtime.c \
	vmm/dev_pic.c \
	vmm/dev_pit.c \
	vmm/dev_rtc.c \
	vmm/dev_uart.c \
	vmm/dev_debugexit.c \
	vmm/dev_debugcon.c \
	vmm/dev_rrvmport.c \
	vmm/dev_lapic.c \
	vmm/dev_ioapic.c \
	vmm/dev_fwcfg.c \
	vmm/dev_acpipm.c

device_tests = \
	tests/unit/pic_test \
	tests/unit/pit_test \
	tests/unit/rtc_test \
	tests/unit/uart_test \
	tests/unit/debugports_test \
	tests/unit/lapic_test \
	tests/unit/ioapic_test \
	tests/unit/fwcfg_test \
	tests/unit/acpi_test
check_PROGRAMS += $(device_tests)
TESTS += $(device_tests)
EXTRA_DIST += tests/unit/fake_bus.h

tests_unit_pic_test_SOURCES = tests/unit/pic_test.c
tests_unit_pic_test_LDADD = vmm/libvmm.a
tests_unit_pit_test_SOURCES = tests/unit/pit_test.c
tests_unit_pit_test_LDADD = vmm/libvmm.a
tests_unit_rtc_test_SOURCES = tests/unit/rtc_test.c
tests_unit_rtc_test_LDADD = vmm/libvmm.a
tests_unit_uart_test_SOURCES = tests/unit/uart_test.c
tests_unit_uart_test_LDADD = vmm/libvmm.a
tests_unit_debugports_test_SOURCES = tests/unit/debugports_test.c
tests_unit_debugports_test_LDADD = vmm/libvmm.a
tests_unit_lapic_test_SOURCES = tests/unit/lapic_test.c
tests_unit_lapic_test_LDADD = vmm/libvmm.a
tests_unit_ioapic_test_SOURCES = tests/unit/ioapic_test.c
tests_unit_ioapic_test_LDADD = vmm/libvmm.a
tests_unit_fwcfg_test_SOURCES = tests/unit/fwcfg_test.c
tests_unit_fwcfg_test_LDADD = vmm/libvmm.a
tests_unit_acpi_test_SOURCES = tests/unit/acpi_test.c
tests_unit_acpi_test_LDADD = vmm/libvmm.a
