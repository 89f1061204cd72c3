/*
 * devices.c — the machine's device table: every emulated device, in the
 * order the machine resets them. The PIC comes first so that it exists
 * before anything can raise a line on it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vmm/devices.h"

const struct vmm_device *const vmm_devices[] = {
	&vmm_dev_pic,
	&vmm_dev_pit,
	&vmm_dev_rtc,
	&vmm_dev_uart,
	&vmm_dev_debugexit,
	&vmm_dev_debugcon,
	&vmm_dev_rrvmport,
	&vmm_dev_lapic,
	&vmm_dev_ioapic,
	&vmm_dev_fwcfg,
	&vmm_dev_acpipm,
};

const unsigned vmm_device_count = sizeof(vmm_devices) / sizeof(vmm_devices[0]);

void vmm_dev_trace(const struct vmm_bus *bus, const char *dev, const char *fmt, ...)
{
	va_list ap;

	if (!bus->trace_io)
		return;
	fprintf(stderr, "rrvm: %s: ", dev);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
