"""Offline validation of a Flux object's `.spec` against the Flux CRD schemas
shipped in `fn/flux/crds` (written by scripts/flux-schemas.py from the
Flux v2.9 CRDs), with kure-fn's kind of messages and the config's field path.

    validate("Kustomization", spec, "spec.nodes[0].bundles[2].kustomization")
    -> [("spec.nodes[0].bundles[2].kustomization.interval",
         "'1d' is not a duration: ...")]

It covers the part of OpenAPI v3 / Kubernetes structural schemas those CRDs
use: `type` (string, boolean, integer, number, object, array), `properties`,
`required`, `additionalProperties` (a schema or a boolean), `items`, `enum`,
`pattern` (Go durations and URL schemes get plain words), `minLength` /
`maxLength`, `minimum` / `maximum` (and the exclusive forms), `minItems` /
`maxItems`, `format` int32/int64 (the only formats a spec could break; the
CRDs' specs carry none today), `nullable`, `x-kubernetes-int-or-string`,
`x-kubernetes-preserve-unknown-fields`, `x-kubernetes-embedded-resource`,
`x-kubernetes-list-type` set/map (duplicates), `allOf` / `anyOf` / `oneOf` /
`not`, and the CEL rules of `x-kubernetes-validations` (fn/flux/cel.py; after
the schema defaults are applied, as the API server does, and only on a value
with no other problem inside, as validate-flux.py does). Not evaluated:
transition rules (`oldSelf`, e.g. FluxInstance `spec.sync.name` "is
immutable": there is no previous object), and rules outside `.spec` (the
FluxInstance name must be `flux`).

kure-fn is stricter than the API server in two places: an unknown field is an
error (the API server would prune it silently), and so is a null (it would
drop it), because either is a mistake in a config.

Nothing here runs, and no schema is read, until `validate` is first called.
"""

from __future__ import annotations

from ..model.schema import _close_matches, _type_name, join
from ..model.schema import yaml_text as _yaml_text
from . import cel

_INDEX: dict = {}
_SCHEMAS: dict[str, dict] = {}
_PATTERNS: dict = {}
_RULES: dict = {}
_INT_RANGES = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}


def _read(name: str) -> dict:
    """A file of fn/flux/crds (package data). A plain read, not
    importlib.resources: that imports shutil, tempfile and zipfile."""
    import json
    import os
    with open(os.path.join(os.path.dirname(__file__), "crds", name), encoding="utf-8") as f:
        return json.load(f)


def index() -> dict:
    """The shipped index: kind → apiVersion, file, upstream component, licence."""
    if not _INDEX:
        _INDEX.update(_read("index.json"))
    return _INDEX


def schema(kind: str) -> dict:
    """The openAPIV3Schema of `kind`'s `.spec`."""
    if kind not in _SCHEMAS:
        kinds = index()["kinds"]
        if kind not in kinds:
            raise ValueError(f"no Flux schema for kind {kind!r}; known: {', '.join(sorted(kinds))}")
        _SCHEMAS[kind] = _read(kinds[kind]["file"])
    return _SCHEMAS[kind]


def validate(kind: str, spec: object, path_prefix: str = "spec") -> list[tuple[str, str]]:
    """Every problem of `spec` as a `kind` .spec: (field path, message) pairs,
    in document order; the paths start with `path_prefix`."""
    out: list[tuple[str, str]] = []
    if not isinstance(spec, dict):
        out.append((path_prefix, f"expected a mapping ({kind} spec), got {_type_name(spec)}"))
    else:
        _check(schema(kind), spec, path_prefix, out)
    return out


def check(s: dict, value: object, path: str) -> list[tuple[str, str]]:
    """Every problem of `value` against the schema `s` (e.g. a kind's spec
    schema read as an overlay's, fn/flux/overlays.py)."""
    out: list[tuple[str, str]] = []
    _check(s, value, path, out)
    return out


# -- the walk ---------------------------------------------------------------------------

def _check(s: dict, v: object, path: str, out: list, strict: bool = True) -> bool:
    """Check `v` against `s`; append problems to `out`; True if none. Outside
    `strict` (the branches of allOf/anyOf/oneOf/not) unknown fields are not
    judged: there, as in Kubernetes, they only constrain values."""
    before = len(out)
    if v is None:
        if not s.get("nullable") and _kind(s):
            out.append((path, f"{_expected(s)}, got null"))
        return len(out) == before
    if not _type_ok(s, v):
        out.append((path, _type_message(s, v)))
        return False
    if "enum" in s and v not in s["enum"]:
        out.append((path, _enum_message(s["enum"], v)))
        return False
    if isinstance(v, str):
        _string(s, v, path, out)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        _number(s, v, path, out)
    elif isinstance(v, list):
        _array(s, v, path, out, strict)
    elif isinstance(v, dict):
        _object(s, v, path, out, strict)
    _combinators(s, v, path, out)
    if len(out) == before and s.get("x-kubernetes-validations"):
        _rules(s, v, path, out)
    return len(out) == before


def _kind(s: dict) -> str | None:
    if s.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    return s.get("type")


def _type_ok(s: dict, v: object) -> bool:
    kind = _kind(s)
    if kind is None:
        return True
    if isinstance(v, bool):
        return kind == "boolean"
    return {
        "int-or-string": isinstance(v, (int, str)) or (isinstance(v, float) and v.is_integer()),
        "string": isinstance(v, str),
        "boolean": False,
        "integer": isinstance(v, int) or (isinstance(v, float) and v.is_integer()),
        "number": isinstance(v, (int, float)),
        "object": isinstance(v, dict),
        "array": isinstance(v, list),
    }.get(kind, True)


def _expected(s: dict) -> str:
    if "enum" in s:
        return f"expected one of {', '.join(map(str, s['enum']))}"
    return "expected " + {
        "int-or-string": "a number or a string",
        "string": "a string",
        "boolean": "true or false",
        "integer": "a whole number",
        "number": "a number",
        "object": "a mapping",
        "array": "a list",
    }[_kind(s)]


def _type_message(s: dict, v: object) -> str:
    kind = _kind(s)
    got = _type_name(v)
    scalar = isinstance(v, (bool, int, float, str))
    if kind == "string" and "enum" not in s and scalar:
        text = _yaml_text(v)
        if not _check(s, text, "", []):
            return f"expected a string, got {got} {text}"
        return f"expected a string, got {got} {text}; quote it: \"{text}\""
    if kind == "boolean":
        shown = f" {v!r}" if scalar else ""
        tip = "; write true or false, without quotes" if isinstance(v, str) else ""
        return f"expected true or false, got {got}{shown}{tip}"
    if kind in ("integer", "number"):
        shown = f" {v!r}" if isinstance(v, (str, float)) else ""
        tip = "; write it without quotes" if isinstance(v, str) and _is_number(v) else ""
        return f"{_expected(s)}, got {got}{shown}{tip}"
    if kind == "array":
        return f"expected a list, got {got}; write one entry per line, each starting with '- '"
    return f"{_expected(s)}, got {got}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _enum_message(enum: list, v: object) -> str:
    choices = ", ".join(map(str, enum))
    if not isinstance(v, str):
        return f"expected one of {choices}, got {_type_name(v)} {_yaml_text(v)}"
    words = [e for e in enum if isinstance(e, str)]
    close = [e for e in words if e.lower() == v.lower()] or _close_enum(v, words)
    tip = f"; did you mean {close[0]!r}?" if close else ""
    return f"{v!r} is not one of {choices}{tip}"


def _close_enum(word: str, choices: list[str]) -> list[str]:
    """Nearer than a field-name guess: a valid value elsewhere (HelmRepository
    for a Kustomization's sourceRef) must not be "corrected" to another one."""
    import difflib
    return difflib.get_close_matches(word, choices, n=1, cutoff=0.8)


def _string(s: dict, v: str, path: str, out: list) -> None:
    low, high = s.get("minLength"), s.get("maxLength")
    if low is not None and len(v) < low:
        out.append((path, "must not be empty" if low == 1 else
                    f"{v!r} is {len(v)} characters long; at least {low} are needed"))
    elif high is not None and len(v) > high:
        out.append((path, f"{v!r} is {len(v)} characters long; at most {high} are allowed"))
    elif "pattern" in s and not _pattern(s["pattern"]).search(v):
        out.append((path, _pattern_message(s["pattern"], v)))


def _pattern(p: str):
    compiled = _PATTERNS.get(p)
    if compiled is None:
        import re
        compiled = _PATTERNS[p] = re.compile(p)
    return compiled


def _pattern_message(p: str, v: str) -> str:
    import re
    duration = re.fullmatch(r"\^\(\[0-9\]\+\(\\\.\[0-9\]\+\)\?\(([a-z|]+)\)\)\+\$", p)
    if duration:
        units = duration.group(1).split("|")
        example = "30s, 5m or 1h30m" if "h" in units else "500ms, 30s or 5m"
        days = "; there is no unit for days: write 24h" if "h" in units and re.fullmatch(r"[0-9.]+d", v) else ""
        return (f"{v!r} is not a duration: write numbers with the units "
                f"{', '.join(units[:-1])} or {units[-1]}, e.g. {example}{days}")
    schemes = re.fullmatch(r"\^\(?([a-z|]+)\)?://\.\*\$", p)
    if schemes:
        names = [f"{x}://" for x in schemes.group(1).split("|")]
        which = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        return f"{v!r} must start with {which}"
    return f"{v!r} does not match the pattern {p}"


def _number(s: dict, v: float, path: str, out: list) -> None:
    low, high = s.get("minimum"), s.get("maximum")
    if low is not None and (v <= low if s.get("exclusiveMinimum") else v < low):
        word = "greater than" if s.get("exclusiveMinimum") else "at least"
        out.append((path, f"must be {word} {low}, got {_yaml_text(v)}"))
    elif high is not None and (v >= high if s.get("exclusiveMaximum") else v > high):
        word = "less than" if s.get("exclusiveMaximum") else "at most"
        out.append((path, f"must be {word} {high}, got {_yaml_text(v)}"))
    elif s.get("format") in _INT_RANGES:
        lo, hi = _INT_RANGES[s["format"]]
        if not lo <= v <= hi:
            out.append((path, f"{_yaml_text(v)} does not fit in an {s['format']} ({lo} to {hi})"))


def _array(s: dict, v: list, path: str, out: list, strict: bool) -> None:
    low, high = s.get("minItems"), s.get("maxItems")
    if low is not None and len(v) < low:
        out.append((path, f"needs at least {low} {'entry' if low == 1 else 'entries'}"))
    if high is not None and len(v) > high:
        out.append((path, f"has {len(v)} entries; at most {high} are allowed"))
    items = s.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(v):
            _check(items, item, join(path, i), out, strict)
    list_type = s.get("x-kubernetes-list-type")
    keys = s.get("x-kubernetes-list-map-keys") or ()
    if list_type == "set" or s.get("uniqueItems"):
        _unique(v, path, out, lambda item: item, lambda item: f"{_yaml_text(item)!r} is listed twice")
    elif list_type == "map" and keys:
        _unique(v, path, out, lambda item: tuple(item.get(k) for k in keys) if isinstance(item, dict) else None,
                lambda item: "another entry has the same " + ", ".join(f"{k} {item.get(k)!r}" for k in keys))


def _unique(v: list, path: str, out: list, key, message) -> None:
    """Lists Kubernetes keeps as sets or maps: no entry (or key) twice."""
    seen: dict = {}
    for i, item in enumerate(v):
        k = key(item)
        if k is None:
            continue
        k = _canonical(k)
        if k in seen:
            out.append((join(path, i), f"{message(item)} (entry {seen[k]}); remove one"))
        else:
            seen[k] = i


def _canonical(v: object) -> object:
    """A hashable form of a YAML value; equal values (as JSON) get equal forms."""
    if isinstance(v, dict):
        return ("map", frozenset((str(k), _canonical(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return ("list", tuple(_canonical(x) for x in v))
    return (type(v).__name__ if isinstance(v, (bool, str)) or v is None else "number", v)


def _object(s: dict, v: dict, path: str, out: list, strict: bool) -> None:
    props = s.get("properties") or {}
    extra = s.get("additionalProperties")
    open_ = not strict or extra is True or s.get("x-kubernetes-preserve-unknown-fields") \
        or s.get("x-kubernetes-embedded-resource")
    for k, item in v.items():
        if not isinstance(k, str):
            out.append((join(path, str(k)), f"keys must be strings, got {_type_name(k)}"))
        elif k in props:
            _check(props[k], item, join(path, k), out, strict)
        elif isinstance(extra, dict):
            _check(extra, item, join(path, k), out, strict)
        elif not open_:
            close = _close_matches(k, list(props))
            tip = (f"; did you mean {close[0]!r}?" if close else
                   f"; known fields: {', '.join(props)}" if props else "; this mapping takes no fields")
            out.append((join(path, k), f"unknown field {k!r}{tip}"))
    required = list(s.get("required") or ())
    if s.get("x-kubernetes-embedded-resource"):
        required += [k for k in ("apiVersion", "kind") if k not in required]
    for k in required:
        if k not in v:
            doc = _first_sentence((props.get(k) or {}).get("description", ""))
            out.append((join(path, k), f"{k} is required" + (f": {doc}" if doc else "")))


def _first_sentence(text: str) -> str:
    import re
    text = " ".join(text.split())
    end = re.search(r"\.\s(?=[A-Z])", text)  # not at "e.g. 'x'"
    return text if end is None else text[:end.start() + 1]


def _combinators(s: dict, v: object, path: str, out: list) -> None:
    for branch in s.get("allOf") or ():
        _check(branch, v, path, out, strict=False)
    for key in ("anyOf", "oneOf"):
        branches = s.get(key)
        if not branches:
            continue
        tries = []
        for branch in branches:
            found: list = []
            _check(branch, v, path, found, strict=False)
            tries.append(found)
        passing = sum(1 for t in tries if not t)
        if passing == 0:
            out.extend(min(tries, key=len))
        elif key == "oneOf" and passing > 1:
            out.append((path, f"matches {passing} of the {len(branches)} forms allowed here; "
                              "it must match exactly one"))
    if isinstance(s.get("not"), dict) and _check(s["not"], v, path, [], strict=False):
        out.append((path, "this value is not allowed here (it matches a form the schema forbids)"))


# -- CEL rules --------------------------------------------------------------------------

def _rules(s: dict, v: object, path: str, out: list) -> None:
    value = _defaulted(s, v)
    for rule in s["x-kubernetes-validations"]:
        ast = _rule(rule.get("rule", ""))
        if ast is None:
            continue
        try:
            ok = cel.evaluate(ast, value) is True
        except cel.EvalError:  # e.g. a field it reads is absent: only in a part of a spec
            ok = bool(s.get("x-kure-partial"))
        if not ok:
            where = path + rule["fieldPath"] if str(rule.get("fieldPath", "")).startswith(".") else path
            out.append((where, rule.get("message") or f"fails the rule {rule.get('rule')}"))


def _rule(text: str):
    """The parsed rule, or None for one that is not evaluated here."""
    if text not in _RULES:
        try:
            _RULES[text] = None if cel.is_transition_rule(text) else cel.parse(text)
        except cel.Unsupported:
            _RULES[text] = None  # tests/test_openapi.py: no shipped rule gets here
    return _RULES[text]


def _defaulted(s: dict, v: object) -> object:
    """`v` with the schema's defaults filled in (a copy), as the API server
    defaults an object before it runs the CEL rules."""
    if isinstance(v, dict) and not s.get("x-kubernetes-preserve-unknown-fields"):
        props = s.get("properties") or {}
        extra = s.get("additionalProperties")
        out = {}
        for k, item in v.items():
            sub = props.get(k) or (extra if isinstance(extra, dict) else None)
            out[k] = _defaulted(sub, item) if sub else item
        for k, sub in props.items():
            if k not in out and "default" in sub:
                out[k] = _defaulted(sub, sub["default"])
        return out
    if isinstance(v, list) and isinstance(s.get("items"), dict):
        return [_defaulted(s["items"], item) for item in v]
    return v
