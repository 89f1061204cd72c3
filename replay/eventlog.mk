# replay event log: encoding, LZ4 frame file, tests.
