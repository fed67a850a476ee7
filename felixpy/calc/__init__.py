"""The calculation graph: pure functions and indexes, no I/O, no threads, no clocks."""
