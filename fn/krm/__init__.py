"""KRM I/O: YAML in and out, the ResourceList wire format."""

from ..lazy import import_yaml

import_yaml()  # before any `import yaml` below: see fn/lazy.py
