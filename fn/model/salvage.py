"""What of an invalid config the cross-field rules can still check
(config-api.md "Errors", real-repos.md amendment C: every problem in one run).

`Salvage.value` keeps the parts of a document that validate and drops or
defaults the rest, so the result is what validation returns for a valid
config and the rules run over it as over any: an invalid optional field is
left out (its default applies), of fields that exclude each other the first
stays, an object missing a required field (or all of an exactly-one group)
is left out, and so is a list entry that cannot be kept. It records what it dropped and which list items it
kept, so the rules' problems can be put back at the field paths of the
document as written (`original`) and those a field error may have caused
can be left out (`caused_by_drops`).
"""

from __future__ import annotations

import re

from .schema import List, Obj, OneOf, Problem, Type, join

UNSOUND = object()  # a value that cannot be kept

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")
_SPEC_PATH = re.compile(r"\bspec(?:\.[A-Za-z]+|\[\d+\])+")
_RELATIVE = re.compile(r"(?<![\w.\]])([A-Za-z]+)\[(\d+)\]")  # manifests[0], within the problem's path


class Salvage:
    def __init__(self, named_lists: tuple[str, ...] = ()) -> None:
        """named_lists: list fields whose entries others name (bundles for dependsOn)."""
        self.named_lists = named_lists
        self.kept: dict[str, list[int]] = {}  # list path (as written) -> indices kept
        self.dropped: list[str] = []          # paths of values given but not kept
        self.dropped_names: set[str] = set()  # names of the entries of named lists dropped

    # -- keeping what validates -------------------------------------------------
    def value(self, t: Type, v: object, path: str) -> object:
        """`v` with its invalid parts dropped or defaulted, or UNSOUND."""
        if isinstance(t, Obj):
            return self._obj(t, v, path)
        if isinstance(t, List):
            return self._list(t, v, path)
        if isinstance(t, OneOf):
            alt = t.alternative(v)
            return UNSOUND if alt is None else self.value(alt, v, path)
        problems: list[Problem] = []
        out = t.validate(v, path, problems)
        return UNSOUND if problems else out

    def _obj(self, t: Obj, v: object, path: str) -> object:
        if v is None:
            v = {}
        if not isinstance(v, dict):
            return UNSOUND
        out: dict = {}
        for k, f in t.fields.items():
            if k not in v or (v[k] is None and not f.required):
                continue
            kept = self.value(f.type, v[k], join(path, k))
            if kept is UNSOUND:
                self.dropped.append(join(path, k))
                if f.required:
                    return UNSOUND
            else:
                out[k] = kept
        if any(f.required and k not in out for k, f in t.fields.items()):
            return UNSOUND
        for group in t.exactly_one + t.at_most_one:
            present = [k for k in group if out.get(k) is not None]
            if not present and group in t.exactly_one:
                return UNSOUND
            for k in present[1:]:  # the first one stays
                out.pop(k)
                self.dropped.append(join(path, k))
        return out  # plain data: validating it again fills the defaults

    def _list(self, t: List, v: object, path: str) -> object:
        if not isinstance(v, list):
            return UNSOUND
        out: list = []
        kept: list[int] = []
        named = path.rsplit(".", 1)[-1] in self.named_lists
        for i, item in enumerate(v):
            s = self.value(t.item, item, join(path, i))
            if s is UNSOUND or (t.unique and isinstance(s, (str, int)) and s in out):
                self.dropped.append(join(path, i))
                if named and isinstance(item, dict) and isinstance(item.get("name"), str):
                    self.dropped_names.add(item["name"])
                continue
            out.append(s)
            kept.append(i)
        if len(out) < t.min_items:
            return UNSOUND
        if len(kept) < len(v):
            self.kept[path] = kept
        return out

    # -- the rules' problems, as written -----------------------------------------
    def original(self, path: str) -> str:
        """A path into the salvaged document as a path into the document as written."""
        out = ""
        for name, index in _TOKEN.findall(path):
            if name:
                out = join(out, name)
            else:
                kept = self.kept.get(out)
                i = int(index)
                out = join(out, kept[i] if kept is not None and i < len(kept) else i)
        return out

    def problem(self, p: Problem) -> Problem:
        """`p` with its path, and the paths its message names, as written."""
        if not self.kept:
            return p
        message = _RELATIVE.sub(lambda m: self._relative(m, p.path), p.message)
        message = _SPEC_PATH.sub(lambda m: self.original(m.group(0)), message)
        return Problem(self.original(p.path), message, p.severity)

    def _relative(self, m: re.Match, path: str) -> str:
        """`field[i]` named in a message about `path`, below the same `field` of `path`."""
        at = path.rfind(f".{m.group(1)}[")
        if at < 0:
            return m.group(0)
        whole = self.original(f"{path[:at]}.{m.group(1)}[{m.group(2)}]")
        return whole[whole.rfind(f".{m.group(1)}[") + 1:]

    def caused_by_drops(self, p: Problem, errors: list[Problem]) -> bool:
        """Whether a rule's problem may come from a field error: it is at or
        under a field with an error, at or above a value that was dropped, or
        names an entry that was dropped."""
        return any(_within(p.path, e.path) for e in errors) \
            or any(_within(d, p.path) for d in self.dropped) \
            or any(repr(name) in p.message for name in self.dropped_names)


def _within(path: str, outer: str) -> bool:
    """`path` is `outer` or a field below it."""
    return outer == "" or path == outer or path.startswith((outer + ".", outer + "["))
