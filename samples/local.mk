# samples: sources, libraries and tests of this directory.
