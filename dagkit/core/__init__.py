"""The foundation: limits, JSON text and pointers, files written atomically and locked."""
