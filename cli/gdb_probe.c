/*
 * gdb_probe.c — does this host's KVM stop on a data breakpoint in guest
 * kernel mode?
 *
 * On hardware KVM a write watchpoint in a debug register traps like an
 * instruction breakpoint. On the paravirtual backend of the development
 * machines (PLATFORM.md) kernel-mode guest code is emulated instruction
 * by instruction, and the emulator checks instruction breakpoints but not
 * data breakpoints: a write watchpoint never fires. rrvm doctor's probes
 * do not cover this case, so the gdb targets find out here, with a tiny
 * guest that writes a watched word, and fall back to watchpoints by
 * single-stepping where the debug registers cannot catch writes.
 *
 * The probe guest is a raw Multiboot image (a.out-kludge header, 32-bit
 * code) written to a temporary file, and runs in a thread of its own: the
 * machine's kick signal is per thread, and the caller's machine must keep
 * its own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/gdb_common.h"

#define PROBE_LOAD 0x100000u
#define PROBE_ENTRY (PROBE_LOAD + 0x20)
#define PROBE_WORD (PROBE_LOAD + 0x100)
#define PROBE_MAX_STEPS 64

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);       /* x86 hosts only: little-endian */
}

/* Header, then: movl $0x12345678, PROBE_WORD; movb $0, %al; outb %al, $0xf4; hlt. */
static size_t probe_image(uint8_t img[0x110])
{
	static const uint8_t code[] = {
		0xc7, 0x05, 0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12,
		0xb0, 0x00,
		0xe6, 0xf4,
		0xf4,
	};
	uint32_t magic = 0x1BADB002u, flags = 1u << 16;

	memset(img, 0, 0x110);
	put32(img + 0, magic);
	put32(img + 4, flags);
	put32(img + 8, -(magic + flags));
	put32(img + 12, PROBE_LOAD);    /* header_addr */
	put32(img + 16, PROBE_LOAD);    /* load_addr */
	put32(img + 20, 0);             /* load_end_addr: the whole file */
	put32(img + 24, 0);             /* bss_end_addr */
	put32(img + 28, PROBE_ENTRY);
	memcpy(img + 0x20, code, sizeof(code));
	put32(img + 0x22, PROBE_WORD);
	return 0x110;
}

struct probe {
	const char *path;
	bool traps;
};

static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	struct vmm_config cfg = { .mem_size = VMM_MEM_MIN, .kernel_path = p->path };
	struct vmm_debug dbg = { 0 };
	struct vmm_error err = { "" };
	struct vmm_event ev;
	struct vmm *vm;

	if (vmm_create(&cfg, &vm, &err))
		return NULL;
	dbg.hw[0].enabled = true;
	dbg.hw[0].addr = PROBE_WORD;
	dbg.hw[0].type = 1;
	dbg.hw[0].len = 4;
	if (vmm_set_debug(vm, &dbg) == 0) {
		for (int i = 0; i < PROBE_MAX_STEPS; i++) {
			if (vmm_step(vm, &ev, &err))
				break;
			if (ev.kind == VMM_EV_DEBUG) {
				p->traps = (ev.u.debug.dr6 & 1) != 0;
				break;
			}
			if (ev.kind != VMM_EV_KICK && ev.kind != VMM_EV_IRQ_WINDOW)
				break;  /* ran to the port write: no trap */
		}
	}
	vmm_destroy(vm);
	return NULL;
}

bool cli_gdb_probe_data_bp(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	uint8_t img[0x110];
	size_t len = probe_image(img);
	struct probe p = { path, false };
	pthread_t tid;
	int fd;

	snprintf(path, sizeof(path), "%s/rrvm-probe.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return false;
	if (write(fd, img, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return false;
	}
	close(fd);
	if (pthread_create(&tid, NULL, probe_thread, &p) == 0)
		pthread_join(tid, NULL);
	unlink(path);
	return p.traps;
}
