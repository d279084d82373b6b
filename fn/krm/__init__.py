"""KRM I/O, the SDK layer: YAML in and out, the ResourceList wire format,
and `run.as_main`. Knows nothing of kure-fn's domain."""
