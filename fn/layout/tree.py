"""A planned tree of files, each holding one or more objects."""

from __future__ import annotations

import os
import posixpath

from ..krm import yamlio


class Tree:
    """Files by path (relative to the repository root), in a stable order.

    An entry is `owned` when kure-fn generated it; entries that are not owned
    are input objects placed into the tree (selected `resources`).
    """

    def __init__(self) -> None:
        self.files: dict[str, list[tuple[dict, bool]]] = {}
        self.dirs: set[str] = set()
        self.origins: dict[str, str] = {}  # path -> config field of its first object

    def add(self, path: str, obj: dict, owned: bool = True, origin: str | None = None) -> None:
        self.files.setdefault(path, []).append((obj, owned))
        if origin is not None:
            self.origins.setdefault(path, origin)
        self.dirs.add(posixpath.dirname(path))

    def ensure_dir(self, directory: str) -> None:
        self.dirs.add(directory)

    def paths(self) -> list[str]:
        return sorted(self.files)

    def files_by_dir(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for path in self.files:
            d, name = posixpath.split(path)
            out.setdefault(d, []).append(name)
        return out

    def entries(self):
        """(path, index, object, owned, file holds several) for every object, by path."""
        for path in self.paths():
            objs = self.files[path]
            for i, (obj, owned) in enumerate(objs):
                yield path, i, obj, owned, len(objs) > 1

    def objects(self) -> list[dict]:
        return [obj for _, _, obj, _, _ in self.entries()]

    def render(self, path: str) -> str:
        return yamlio.dump_all([obj for obj, _ in self.files[path]])

    def write(self, directory: str | os.PathLike) -> list[str]:
        """Write every file under `directory`; returns the paths written."""
        from pathlib import Path  # directory mode only: keeps it out of the function's start-up

        base = Path(directory)
        for path in self.paths():
            target = base / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.render(path), encoding="utf-8")
        return self.paths()
