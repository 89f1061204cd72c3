# gdbstub: sources, libraries and tests of this directory.
