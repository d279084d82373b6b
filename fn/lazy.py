"""Regular expressions compiled on first use, and PyYAML imported that way.

Python compiles patterns in pure Python at import time, and a KRM function
pays every compile on every run, used or not. PyYAML alone compiles about
10 ms worth when imported (its pure-Python reader's printable check and its
timestamp constructor), which kure-fn's C-parser path never uses: a fifth of
the function's start-up (bench/RESULTS.md).
"""

from __future__ import annotations

import re
import sys

_compile = re.compile


class LazyPattern:
    """A `re.Pattern` that compiles itself on first use; after that each
    attribute (`match`, `search`, ...) is a plain attribute of the proxy."""

    def __init__(self, pattern, flags=0):
        self.__dict__["_args"] = (pattern, flags)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(_compile(*self.__dict__["_args"]), name)
        self.__dict__[name] = value
        return value


def compile(pattern, flags=0) -> LazyPattern:  # noqa: A001 - mirrors re.compile
    return LazyPattern(pattern, flags)


def import_yaml():
    """`import yaml`, with every pattern it compiles at import made lazy."""
    if "yaml" in sys.modules:
        return sys.modules["yaml"]
    re.compile = compile
    try:
        import yaml
    finally:
        re.compile = _compile
    return yaml
