"""A planned tree of files, each holding one or more objects."""

from __future__ import annotations

import os

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
        self._names: dict[str, list[str]] = {}  # directory -> its files' names, as added

    def add(self, path: str, obj: dict, owned: bool = True, origin: str | None = None) -> None:
        """`path`: a normalised relative path (no "", "." or ".." segment)."""
        objs = self.files.get(path)
        if objs is None:
            directory, _, name = path.rpartition("/")
            self.files[path] = [(obj, owned)]
            self._names.setdefault(directory, []).append(name)
            self.dirs.add(directory)
        else:
            objs.append((obj, owned))
        if origin is not None:
            self.origins.setdefault(path, origin)

    def ensure_dir(self, directory: str) -> None:
        self.dirs.add(directory)

    def paths(self) -> list[str]:
        return sorted(self.files)

    def files_by_dir(self) -> dict[str, list[str]]:
        return {d: list(names) for d, names in self._names.items()}

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
