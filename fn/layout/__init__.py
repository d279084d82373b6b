"""The tree: where every generated object is written (shared by all engines)."""
