"""Delta Lake reads and writes: where tables live, partition replacement, keyed MERGE."""
