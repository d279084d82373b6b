"""A small declarative schema: one definition validates a document, fills
defaults, reports every problem with its field path, and exports JSON Schema.

`Obj.validate` returns a `Record`: one attribute per field, spelled as in the
config (`bundle.dependsOn`), None when an optional field is absent; a
misspelt name raises AttributeError instead of reading None. Free-form
content (`Any_`, `StrMap`) stays plain data.

It exists instead of pydantic because start-up time is paid on every
`kpt fn render`: importing this costs well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import lazy
from ..records import dataclass, field


@dataclass(frozen=True)
class Problem:
    """A problem of a config, at the field path a user has to change."""

    path: str
    message: str
    severity: str = "error"  # error | warning (a warning does not stop the run)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def warning(path: str, message: str) -> Problem:
    return Problem(path, message, "warning")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _close_matches(word: str, choices) -> list[str]:
    import difflib  # only on an error: keeps it out of start-up
    return difflib.get_close_matches(word, choices, n=1, cutoff=0.6)


def _type_name(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "a number"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    if type(v).__name__ == "DistinctKey":  # a key YAML tells from an equal one ({1: a, true: b})
        return _type_name(v.value)
    return type(v).__name__


class Type:
    doc: str = ""

    def validate(self, value: object, path: str, errors: list[Problem]) -> object:
        raise NotImplementedError

    def json_schema(self, ctx: "SchemaContext") -> dict:
        raise NotImplementedError

    def _schema(self, s: dict) -> dict:
        if self.doc:
            s["description"] = self.doc
        return s


class Str(Type):
    def __init__(self, doc: str = "", *, pattern: str | None = None, hint: str = "",
                 enum: tuple[str, ...] | None = None, max_len: int | None = None,
                 min_len: int = 0, check: Callable[[str], str | None] | None = None,
                 schema_pattern: str | None = None):
        self.doc = doc
        self.pattern = lazy.compile(pattern) if pattern else None
        self.schema_pattern = schema_pattern or pattern
        self.hint = hint
        self.enum = enum
        self.max_len = max_len
        self.min_len = min_len
        self.check = check

    def validate(self, value, path, errors):
        if not isinstance(value, str):
            got = _type_name(value)
            if self.enum:
                errors.append(Problem(path, f"expected one of {', '.join(self.enum)}, got {got}"))
            elif isinstance(value, (bool, int, float)) and self._valid(yaml_text(value)):
                how = ("quote it as you meant it, e.g." if isinstance(value, float)
                       and not hasattr(value, "written") else "quote it:")
                errors.append(Problem(path, f"expected a string, got {got}; {how} \"{yaml_text(value)}\""))
            else:
                shown = f" {yaml_text(value)}" if isinstance(value, (bool, int, float)) else ""
                errors.append(Problem(path, f"expected a string, got {got}{shown}"
                                            + (f": {self.hint}" if self.hint else "")))
            return value
        if self.enum is not None and value not in self.enum:
            close = _close_matches(value, self.enum)
            tip = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(Problem(path, f"{value!r} is not one of {', '.join(self.enum)}{tip}"))
            return value
        if len(value) < self.min_len:
            errors.append(Problem(path, "must not be empty"))
            return value
        if self.max_len is not None and len(value) > self.max_len:
            errors.append(Problem(path, f"{value!r} is {len(value)} characters long; "
                                        f"at most {self.max_len} are allowed"))
            return value
        if self.pattern is not None and not self.pattern.fullmatch(value):
            errors.append(Problem(path, f"{value!r} is not valid" + (f": {self.hint}" if self.hint else "")))
            return value
        if self.check is not None:
            msg = self.check(value)
            if msg:
                errors.append(Problem(path, msg))
        return value

    def _valid(self, text: str) -> bool:
        problems: list[Problem] = []
        self.validate(text, "", problems)
        return not problems

    def json_schema(self, ctx):
        s: dict = {"type": "string"}
        if self.enum is not None:
            s["enum"] = list(self.enum)
        if self.schema_pattern:
            s["pattern"] = "^(?:" + self.schema_pattern + ")$"
        if self.max_len is not None:
            s["maxLength"] = self.max_len
        if self.min_len:
            s["minLength"] = self.min_len
        return self._schema(s)


def yaml_text(v) -> str:
    """A scalar as the user wrote it: the reader keeps the text of a number
    spelt otherwise than Python prints it (`0755`, `1.10`, `1e3`)."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    return getattr(v, "written", None) or str(v)


_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


class Bool(Type):
    def __init__(self, doc: str = ""):
        self.doc = doc

    def validate(self, value, path, errors):
        if not isinstance(value, bool):
            got = f"{_type_name(value)} {value!r}" if isinstance(value, (str, int, float)) \
                else _type_name(value)
            tip = "; write true or false, without quotes"
            if isinstance(value, str) and value.lower() in _YAML11_BOOLS:
                tip += f" ({value} is a string in YAML 1.2, which kpt and Flux read)"
            errors.append(Problem(path, f"expected true or false, got {got}{tip}"))
        return value

    def json_schema(self, ctx):
        return self._schema({"type": "boolean"})


class Int(Type):
    def __init__(self, doc: str = "", *, minimum: int | None = None, maximum: int | None = None):
        self.doc = doc
        self.minimum = minimum
        self.maximum = maximum

    def validate(self, value, path, errors):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 3.0 is 3, as in JSON (and JSON Schema "integer")
        if isinstance(value, bool) or not isinstance(value, int):
            shown = f" {value!r}" if isinstance(value, (str, float)) else ""
            tip = "; write it without quotes" if isinstance(value, str) and \
                value.lstrip("-").isdigit() else ""
            errors.append(Problem(path, f"expected a whole number, got {_type_name(value)}{shown}{tip}"))
            return value
        if self.minimum is not None and value < self.minimum:
            errors.append(Problem(path, f"must be at least {self.minimum}, got {value}"))
        if self.maximum is not None and value > self.maximum:
            errors.append(Problem(path, f"must be at most {self.maximum}, got {value}"))
        return value

    def json_schema(self, ctx):
        s: dict = {"type": "integer"}
        if self.minimum is not None:
            s["minimum"] = self.minimum
        if self.maximum is not None:
            s["maximum"] = self.maximum
        return self._schema(s)


class Any_(Type):
    """Free-form content, passed through exactly."""

    def __init__(self, doc: str = "", *, kind: type | None = None):
        self.doc = doc
        self.kind = kind

    def validate(self, value, path, errors):
        if self.kind is dict and not isinstance(value, dict):
            errors.append(Problem(path, f"expected a mapping, got {_type_name(value)}"))
        return value

    def json_schema(self, ctx):
        if self.kind is dict:
            return self._schema({"type": "object"})
        return self._schema({})


class StrMap(Type):
    """A mapping of string keys to string values (labels, substitutions)."""

    def __init__(self, doc: str = "", *, key: Str | None = None, value_hint: str = ""):
        self.doc = doc
        self.key = key
        self.value_hint = value_hint

    def validate(self, value, path, errors):
        if not isinstance(value, dict):
            errors.append(Problem(path, f"expected a mapping of strings, got {_type_name(value)}"))
            return value
        for k, v in value.items():
            p = join(path, str(k))
            if not isinstance(k, str):
                errors.append(Problem(p, f"keys must be strings, got {_type_name(k)}"))
                continue
            if self.key is not None:
                self.key.validate(k, p, errors)
            if not isinstance(v, str):
                tip = f"; quote it: \"{yaml_text(v)}\"" if isinstance(v, (bool, int, float)) else ""
                errors.append(Problem(p, f"values must be strings, got {_type_name(v)}{tip}"))
        return value

    def json_schema(self, ctx):
        s: dict = {"type": "object", "additionalProperties": {"type": "string"},
                   "propertyNames": {"type": "string"}}  # YAML allows other keys; JSON does not
        if self.key is not None and self.key.schema_pattern:
            s["propertyNames"]["pattern"] = "^(?:" + self.key.schema_pattern + ")$"
        return self._schema(s)


class List(Type):
    def __init__(self, item: Type, doc: str = "", *, unique: bool = False, min_items: int = 0):
        self.item = item
        self.doc = doc
        self.unique = unique
        self.min_items = min_items

    def validate(self, value, path, errors):
        if not isinstance(value, list):
            errors.append(Problem(path, f"expected a list, got {_type_name(value)}; "
                                        "write one entry per line, each starting with '- '"))
            return []
        if len(value) < self.min_items:
            errors.append(Problem(path, f"needs at least {self.min_items} entries"))
        out = [self.item.validate(v, join(path, i), errors) for i, v in enumerate(value)]
        if self.unique:
            seen: dict = {}
            for i, v in enumerate(value):
                if isinstance(v, (str, int)) and v in seen:
                    errors.append(Problem(join(path, i), f"{v!r} is listed twice; remove this entry"))
                elif isinstance(v, (str, int)):
                    seen[v] = i
        return out

    def json_schema(self, ctx):
        s: dict = {"type": "array", "items": self.item.json_schema(ctx)}
        if self.unique:
            s["uniqueItems"] = True
        if self.min_items:
            s["minItems"] = self.min_items
        return self._schema(s)


class OneOf(Type):
    """One of several types that take different YAML kinds (a string or a
    mapping, say): the value's kind picks the type that judges it."""

    def __init__(self, *types: Type, doc: str = ""):
        self.types = types
        self.doc = doc

    @staticmethod
    def _takes(t: Type, value) -> bool:
        if isinstance(t, Str):
            return isinstance(value, str)
        if isinstance(t, (Obj, StrMap)):
            return isinstance(value, dict)
        if isinstance(t, List):
            return isinstance(value, list)
        if isinstance(t, Bool):
            return isinstance(value, bool)
        if isinstance(t, Int):
            return isinstance(value, int) and not isinstance(value, bool)
        return True

    def alternative(self, value) -> Type | None:
        """The type that judges `value`, or None."""
        return next((t for t in self.types if self._takes(t, value)), None)

    def validate(self, value, path, errors):
        t = self.alternative(value)
        if t is None:
            what = " or ".join(_kind_name(t) for t in self.types)
            errors.append(Problem(path, f"expected {what}, got {_type_name(value)}"))
            return value
        return t.validate(value, path, errors)

    def json_schema(self, ctx):
        return self._schema({"oneOf": [t.json_schema(ctx) for t in self.types]})


def _kind_name(t: Type) -> str:
    if isinstance(t, Obj):
        return f"a mapping ({t.title})"
    return {Str: "a string", StrMap: "a mapping", List: "a list", Bool: "true or false",
            Int: "a whole number"}.get(type(t), "a value")


FILL = object()  # default of an object field: the object with all its own defaults


@dataclass
class Field:
    type: Type
    required: bool = False
    default: object = None  # a value, FILL, or None (absent); lists default to []

    def default_value(self):
        if self.default is FILL:
            return self.type.validate({}, "", [])
        if self.default is None and isinstance(self.type, List):
            return []
        if isinstance(self.default, list):
            return list(self.default)  # never share a mutable default
        return self.default


class SchemaContext:
    """One JSON Schema export: the objects being built (a recursive one met
    again becomes a `$ref`) and the definitions of the recursive ones.

    `partial`: the schema of a part of a config that is merged with others
    (a Profile, a Cluster with profiles): nothing is required but the `name`
    of named entries, and "exactly one of" becomes "at most one of";
    definitions are named `Partial<title>`.

    `extension`: schemas the model does not own, for its free-form fields
    (an engine's overlays): `fields` maps (object title, field) to the
    field's schema, `all_of` an object title to conditions added to its
    `allOf` (a field whose schema depends on a sibling)."""

    def __init__(self, partial: bool = False, extension: "SchemaExtension | None" = None) -> None:
        self.building: set = set()
        self.recursive: dict = {}  # title -> schema (None while it is being built)
        self.partial = partial
        self.prefix = "Partial" if partial else ""
        self.extension = extension or SchemaExtension()

    def definitions(self) -> dict:
        return {k: v for k, v in self.recursive.items() if v is not None}


@dataclass
class SchemaExtension:
    """JSON Schema for free-form fields, given by whoever owns their content
    (see `SchemaContext`); `definitions` are what `fields` and `all_of` refer to."""

    fields: dict = field(default_factory=dict)  # (object title, field) -> schema
    all_of: dict = field(default_factory=dict)  # object title -> [schema, ...]
    definitions: dict = field(default_factory=dict)  # name -> schema


def json_schema_document(root: Type, partial: bool = False,
                         extension: SchemaExtension | None = None) -> dict:
    """`root`'s JSON Schema, with the definitions of the recursive types it meets."""
    ctx = SchemaContext(partial, extension)
    s = root.json_schema(ctx)
    defs = ctx.definitions()
    return {**s, "definitions": defs} if defs else s


class Record:
    """A validated config object: one slot per field of its `Obj`, spelled as
    in the config; an absent optional field reads as None (a list as []).

    Each `Obj` makes its own subclass once (`Obj.record`); reading or setting
    a name that is no field raises AttributeError. Not frozen: a frozen
    record's construction costs about half as much again (object.__setattr__
    per field instead of the interpreter's own slot store).
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __init__(self, **values) -> None:
        unknown = [k for k in values if k not in self._fields]
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {unknown[0]!r}")
        for k in self._fields:
            setattr(self, k, values.get(k))

    @classmethod
    def _of(cls, values: dict) -> "Record":
        """From a validated mapping (its keys are fields): no checks."""
        rec = _new(cls)
        for k in cls._fields:
            setattr(rec, k, values.get(k))
        return rec

    def to_data(self) -> dict:
        """Plain data again, absent fields omitted: for copying a user-given
        structure into generated objects."""
        out = {}
        for k in self._fields:
            v = getattr(self, k)
            if v is not None:
                out[k] = _data(v)
        return out

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self._fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields
                          if getattr(self, k) is not None)
        return f"{type(self).__name__}({inner})"


_new = object.__new__


def _data(value):
    if isinstance(value, Record):
        return value.to_data()
    if isinstance(value, list):
        return [_data(v) for v in value]
    return value


class Obj(Type):
    """A mapping with known keys. Unknown keys are errors (strict decoding).

    `fields` may be a function of the object being declared, for a recursive
    type: `Obj("Node", lambda node: {..., "children": List(node)})`.
    """

    def __init__(self, title: str,
                 fields: dict[str, Field | Type] | Callable[["Obj"], dict[str, Field | Type]],
                 doc: str = "", *,
                 exactly_one: tuple[tuple[str, ...], ...] = (),
                 at_most_one: tuple[tuple[str, ...], ...] = ()):
        self.title = title
        self.doc = doc
        if callable(fields):
            fields = fields(self)
        self.fields = {k: (f if isinstance(f, Field) else Field(f)) for k, f in fields.items()}
        self.exactly_one = exactly_one
        self.at_most_one = at_most_one
        # the fields an absent key still matters for (required, or a default
        # to fill): `validate` visits only these beside the given keys
        self._filled = tuple((k, f) for k, f in self.fields.items() if f.required or
                             f.default is not None or isinstance(f.type, List))
        self.record = type(title, (Record,), {"__slots__": tuple(self.fields),
                                              "_fields": tuple(self.fields)})

    def validate(self, value, path, errors):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            errors.append(Problem(path, f"expected a mapping ({self.title}), got {_type_name(value)}"))
            return self.record._of({k: f.default_value() for k, f in self.fields.items()})
        out: dict = {}
        for k, v in value.items():
            f = self.fields.get(k) if isinstance(k, str) else None
            if f is None:
                close = _close_matches(str(k), list(self.fields))
                tip = f"; did you mean {close[0]!r}?" if close else \
                    f"; known fields: {', '.join(self.fields)}"
                errors.append(Problem(join(path, str(k)), f"unknown field {str(k)!r}{tip}"))
                continue
            if v is None and not f.required:
                continue  # `key:` with no value means "not set"
            out[k] = f.type.validate(v, join(path, k), errors)
        for k, f in self._filled:
            if k not in out:
                if f.required:
                    what = f": {f.type.doc}" if f.type.doc else ""
                    errors.append(Problem(join(path, k), f"{k} is required{what}"))
                else:
                    default = f.default_value()
                    if default is not None:  # an unset optional field stays absent
                        out[k] = default
        for group in self.exactly_one:
            present = [k for k in group if value.get(k) is not None]
            if len(present) != 1:
                which = " and ".join(present) if present else "none"
                errors.append(Problem(path, f"set exactly one of {', '.join(group)} (found {which})"))
        for group in self.at_most_one:
            present = [k for k in group if value.get(k) is not None]
            if len(present) > 1:
                errors.append(Problem(path, f"set at most one of {', '.join(group)} "
                                            f"(found {' and '.join(present)})"))
        return self.record._of(out)

    def json_schema(self, ctx):
        ref = {"$ref": f"#/definitions/{ctx.prefix}{self.title}"}
        if self in ctx.building:  # a recursive type: refer to its definition
            ctx.recursive[ctx.prefix + self.title] = None
            return ref
        ctx.building.add(self)
        try:
            s = self._object_schema(ctx)
        finally:
            ctx.building.discard(self)
        if ctx.prefix + self.title in ctx.recursive:
            ctx.recursive[ctx.prefix + self.title] = s
            return ref
        return s

    def _object_schema(self, ctx):
        props = {}
        given = ctx.extension.fields
        for k, f in self.fields.items():
            props[k] = dict(given[self.title, k]) if (self.title, k) in given else f.type.json_schema(ctx)
            if f.default is not None and f.default is not FILL:
                props[k]["default"] = f.default
            if not f.required:
                props[k] = _nullable(props[k])
        s: dict = {"type": "object", "title": self.title, "properties": props,
                   "additionalProperties": False}
        req = [k for k, f in self.fields.items() if f.required and (k == "name" or not ctx.partial)]
        if req:
            s["required"] = req
        all_of = []
        for group in () if ctx.partial else self.exactly_one:
            all_of.append({"oneOf": [_set(k) for k in group]})
        for group in self.at_most_one + (self.exactly_one if ctx.partial else ()):
            all_of.append({"not": {"anyOf": [_set(a, b) for i, a in enumerate(group)
                                             for b in group[i + 1:]]}})
        all_of += ctx.extension.all_of.get(self.title, [])
        if all_of:
            s["allOf"] = all_of
        return self._schema(s)


def _nullable(s: dict) -> dict:
    """An optional field also accepts null: `key:` with no value means "not set"."""
    if "$ref" in s or any(k in s for k in ("allOf", "anyOf", "oneOf", "not")):
        return {"anyOf": [s, {"type": "null"}]}  # the combinators must not judge null
    if "type" in s and isinstance(s["type"], str):
        s = {**s, "type": [s["type"], "null"]}
        if "enum" in s:
            s["enum"] = [*s["enum"], None]
        return s
    return s  # no type: anything, null included


def _set(*keys: str) -> dict:
    """JSON Schema for "these keys are present with a value other than null"."""
    return {"required": list(keys), "properties": {k: {"not": {"type": "null"}} for k in keys}}
