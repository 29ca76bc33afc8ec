"""Delta Lake reads and writes: partition replacement, keyed merge, SCD type 2."""
