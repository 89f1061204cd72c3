# vmm: the machine (KVM VM and vCPU, guest memory, loader, exit loop, devices).
noinst_LIBRARIES += vmm/libvmm.a
vmm_libvmm_a_SOURCES =
include $(srcdir)/vmm/devices.mk
