# vmm device models: one file each, plus their unit tests.
