# samples/ioheavy.elf: heavy port I/O, for trace database benchmarks.
