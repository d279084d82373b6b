"""`kure-fn import`: an existing Flux repository read back into a Cluster config.

A shell-level package, beside `fn.render`: `tree` reads the repository as
Flux would (`kustomize` builds each directory in Python, nothing executed,
nothing fetched), `mapping` turns what Flux applies into a config, `main` is
the command. It uses the KRM layer (limits, YAML), `fn.kinds` and the config
model's names; nothing imports it but `fn.cli`.
"""
