"""`dataclass` and `field` for kure-fn's own classes, without `dataclasses`.

Importing `dataclasses` imports `inspect`, `ast`, `dis`, `tokenize` and
`linecache`: about a fifth of the function's start-up, paid on every
`kpt fn render` (bench/RESULTS.md). This is the subset kure-fn uses, with the
same meaning: fields from annotations in order (inherited fields first),
defaults and `field(default_factory=...)`, `__init__`, `__repr__`, `__eq__`
(`eq=False`: identity), `frozen=True` (hashable, read-only).
"""

from __future__ import annotations

_MISSING = object()


class FrozenInstanceError(AttributeError):
    pass


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default=_MISSING, default_factory=_MISSING):
        self.default = default
        self.default_factory = default_factory


def field(*, default=_MISSING, default_factory=_MISSING):
    return _Field(default, default_factory)


def dataclass(cls=None, /, *, eq: bool = True, frozen: bool = False):
    def wrap(c):
        return _record(c, eq, frozen)
    return wrap if cls is None else wrap(cls)


def _record(cls, eq: bool, frozen: bool):
    fields: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(base.__dict__.get("__record_fields__", {}))
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, _Field) else _Field(value)
        fields[name] = f
        if isinstance(value, _Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    cls.__record_fields__ = fields
    names = tuple(fields)

    ns: dict = {"_MISSING": _MISSING, "_set": object.__setattr__}
    params, lines = [], []
    for n, f in fields.items():
        value = n
        if f.default_factory is not _MISSING:
            ns[f"_factory_{n}"] = f.default_factory
            params.append(f"{n}=_MISSING")
            value = f"_factory_{n}() if {n} is _MISSING else {n}"
        elif f.default is not _MISSING:
            ns[f"_default_{n}"] = f.default
            params.append(f"{n}=_default_{n}")
        else:
            params.append(n)
        lines.append(f"    _set(self, {n!r}, {value})" if frozen else f"    self.{n} = {value}")
    exec(f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(lines) or "    pass"), ns)
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init

    if "__repr__" not in cls.__dict__:
        def __repr__(self):
            inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
            return f"{type(self).__qualname__}({inner})"
        cls.__repr__ = __repr__
    if eq and "__eq__" not in cls.__dict__:
        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in names)
        cls.__eq__ = __eq__
        if frozen:
            cls.__hash__ = lambda self: hash(tuple(getattr(self, n) for n in names))
        else:
            cls.__hash__ = None
    if frozen:
        def __setattr__(self, name, value):
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self, name):
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        cls.__setattr__ = __setattr__
        cls.__delattr__ = __delattr__
    return cls
