"""docs/reference.md, generated from the config schema (`kure-fn docs`).

Every object type of `fn.model.config` becomes a table of its fields with
type, default and description, so the reference cannot drift from what the
function validates (tests/test_docs.py compares the committed file).
"""

from __future__ import annotations

from .config import API_VERSION, CLUSTER, DNS_LABEL, DNS_SUBDOMAIN, DURATION, KIND, Manifest
from .schema import FILL, Any_, Bool, Int, List, Obj, OneOf, Str, StrMap, Type

HEADER = f"""\
<!-- Generated from fn/model/config.py by `kure-fn docs > docs/reference.md`. Do not edit. -->
# `{API_VERSION}` `{KIND}`: field reference

Every field the config accepts, with its type, default and constraints,
generated from the same definitions that validate configs. A field not listed
is an error. Optional fields may be left without a value (`key:`), which
means "not set". Rules that relate several fields (names that must resolve,
dependency cycles, uniqueness across the tree) are described in
[config.md](config.md); the JSON Schema is `schemas/cluster.schema.json`
(`kure-fn schema`).
"""


SHORT = {  # well-known formats, named instead of spelled out
    DNS_LABEL: "DNS-1123 label",
    DNS_SUBDOMAIN: "DNS-1123 subdomain",
    DURATION: "Go duration such as `30s`, `10m`, `1h30m`; no days",
}


def markdown() -> str:
    sections = [HEADER]
    for obj in _object_types(CLUSTER):
        sections.append(_section(obj))
    return "\n".join(sections)


def _object_types(root: Obj) -> list[Obj]:
    """Every Obj reachable from root, breadth-first in field order, once each."""
    seen: list[Obj] = []
    queue = [root]
    while queue:
        obj = queue.pop(0)
        if any(o is obj for o in seen):
            continue
        seen.append(obj)
        for f in obj.fields.values():
            t = f.type
            while isinstance(t, List):
                t = t.item
            for alt in t.types if isinstance(t, OneOf) else (t,):
                if isinstance(alt, Obj):
                    queue.append(alt)
    titles = [o.title for o in seen]
    dup = {t for t in titles if titles.count(t) > 1}
    if dup:
        raise ValueError(f"object types share a title: {sorted(dup)}")
    return seen


def _section(obj: Obj) -> str:
    lines = [f"## {obj.title}", ""]
    if obj.doc:
        lines += [_sentence(obj.doc), ""]
    lines += ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    for name, f in obj.fields.items():
        default = "**required**" if f.required else _default(f)
        lines.append(f"| `{name}` | {_type(f.type)} | {default} | {_cell(f.type.doc)} |")
    rules = [f"Set exactly one of {_keys(g)}." for g in obj.exactly_one]
    rules += [f"Set at most one of {_keys(g)}." for g in obj.at_most_one]
    if rules:
        lines += ["", *rules]
    return "\n".join(lines) + "\n"


def _type(t: Type) -> str:
    if isinstance(t, Obj):
        return f"[{t.title}](#{t.title.lower()})"
    if isinstance(t, OneOf):
        return " or ".join(_type(alt) for alt in t.types)
    if isinstance(t, List):
        return f"list of {_type(t.item)}" + (" (unique)" if t.unique else "")
    if isinstance(t, StrMap):
        keys = f" (keys: {_cell(t.key.hint)})" if t.key is not None and t.key.hint else ""
        return f"map of string to string{keys}"
    if isinstance(t, Str):
        return _str_type(t)
    if isinstance(t, Bool):
        return "boolean"
    if isinstance(t, Int):
        bounds = []
        if t.minimum is not None:
            bounds.append(f"≥ {t.minimum}")
        if t.maximum is not None:
            bounds.append(f"≤ {t.maximum}")
        return "integer" + (f" ({', '.join(bounds)})" if bounds else "")
    if isinstance(t, Manifest):
        return "Kubernetes object (`apiVersion`, `kind`, `metadata.name` required)"
    if isinstance(t, Any_):
        return "mapping, passed through as given" if t.kind is dict else "any value"
    return type(t).__name__


def _str_type(t: Str) -> str:
    if t.enum:
        return " \\| ".join(f"`{v}`" for v in t.enum)
    notes = []
    if t.schema_pattern in SHORT:
        notes.append(SHORT[t.schema_pattern])
    elif t.hint:
        notes.append(t.hint)
    elif t.schema_pattern:
        notes.append(f"matches `{_cell(t.schema_pattern)}`")
    if t.max_len is not None:
        notes.append(f"at most {t.max_len} characters")
    if t.min_len and not t.hint and not t.schema_pattern:
        notes.append("not empty")
    return "string" + (f" ({_cell('; '.join(notes))})" if notes else "")


def _default(f) -> str:
    if f.default is FILL:
        return "all defaults"
    if f.default is None:
        return "[]" if isinstance(f.type, List) else ""
    if isinstance(f.default, bool):
        return f"`{str(f.default).lower()}`"
    return f"`{f.default}`"


def _keys(group) -> str:
    return ", ".join(f"`{k}`" for k in group)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sentence(text: str) -> str:
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."
