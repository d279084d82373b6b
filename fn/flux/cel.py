"""The subset of CEL that the Flux CRDs' `x-kubernetes-validations` use.

Literals (strings, numbers, true/false/null, lists), `self` and field
selection, `has()`, `size()`, `! && || ?:`, comparisons and `in`, `+ -`,
string methods (`startsWith`, `endsWith`, `contains`, `matches`,
`substring`, `lowerAscii`, `size`) and the macros `all`, `exists`,
`exists_one`. `&&` and `||` are commutative as in CEL: an error on one side
is absorbed when the other side decides the result.

Transition rules (those naming `oldSelf`) compare an object with its previous
version; a rendered tree has none, and the API server skips them on create,
so they are not evaluated. A rule outside this subset raises `Unsupported`
when it is parsed (tests/test_openapi.py parses every shipped rule).
"""

from __future__ import annotations

import re


class Unsupported(Exception):
    """A rule this subset cannot parse or evaluate."""


class EvalError(Exception):
    """A CEL runtime error (e.g. selecting a field that is absent)."""


_TOKEN = re.compile(r"""
    \s+
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[!<>().,\[\]?:+\-])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_KEYWORDS = {"true": True, "false": False, "null": None}
_MACROS = ("all", "exists", "exists_one")
_REGEX_CACHE: dict[str, re.Pattern] = {}


def _tokens(src: str) -> list[tuple[str, object]]:
    out, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise Unsupported(f"cannot read {src[pos:pos + 12]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind is None:
            continue
        text = m.group(kind)
        if kind == "num":
            out.append(("lit", float(text) if "." in text else int(text)))
        elif kind == "str":
            body = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), "\\" + e.group(1)), text[1:-1])
            out.append(("lit", body))
        elif kind == "id" and text in _KEYWORDS:
            out.append(("lit", _KEYWORDS[text]))
        elif kind == "id" and text == "in":
            out.append(("op", "in"))
        else:
            out.append((kind, text))
    out.append(("end", None))
    return out


class _Parser:
    """Recursive descent over the tokens; the AST is nested tuples."""

    def __init__(self, src: str):
        self.toks = _tokens(src)
        self.i = 0

    def _at(self, *ops: str) -> bool:
        kind, text = self.toks[self.i]
        return kind == "op" and text in ops

    def _take(self, op: str | None = None):
        tok = self.toks[self.i]
        if op is not None and tok != ("op", op):
            raise Unsupported(f"expected {op!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self._ternary()
        if self.toks[self.i][0] != "end":
            raise Unsupported(f"unexpected {self.toks[self.i][1]!r}")
        return node

    def _ternary(self):
        cond = self._binary(0)
        if self._at("?"):
            self._take()
            yes = self._ternary()
            self._take(":")
            return ("?:", cond, yes, self._ternary())
        return cond

    _LEVELS = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in"), ("+", "-"))

    def _binary(self, level: int):
        if level == len(self._LEVELS):
            return self._unary()
        node = self._binary(level + 1)
        while self._at(*self._LEVELS[level]):
            op = self._take()[1]
            node = (op, node, self._binary(level + 1))
        return node

    def _unary(self):
        if self._at("!", "-"):
            op = self._take()[1]
            return ("not" if op == "!" else "neg", self._unary())
        return self._member()

    def _member(self):
        node = self._primary()
        while True:
            if self._at("."):
                self._take()
                kind, name = self._take()
                if kind != "id":
                    raise Unsupported("expected a name after '.'")
                node = ("call", name, node, self._args()) if self._at("(") else ("sel", node, name)
            elif self._at("["):
                self._take()
                index = self._ternary()
                self._take("]")
                node = ("index", node, index)
            else:
                return node

    def _args(self) -> list:
        self._take("(")
        args = []
        while not self._at(")"):
            args.append(self._ternary())
            if not self._at(")"):
                self._take(",")
        self._take(")")
        return args

    def _primary(self):
        kind, text = self._take()
        if kind == "lit":
            return ("lit", text)
        if kind == "id":
            return ("call", text, None, self._args()) if self._at("(") else ("var", text)
        if (kind, text) == ("op", "("):
            node = self._ternary()
            self._take(")")
            return node
        if (kind, text) == ("op", "["):
            items = []
            while not self._at("]"):
                items.append(self._ternary())
                if not self._at("]"):
                    self._take(",")
            self._take("]")
            return ("list", items)
        raise Unsupported(f"unexpected {text!r}")


def parse(rule: str):
    """The AST of `rule`; `Unsupported` when it is outside the subset."""
    return _Parser(rule).parse()


def is_transition_rule(rule: str) -> bool:
    return re.search(r"\boldSelf\b", rule) is not None


def evaluate(ast, self_value) -> object:
    """The value of a parsed rule with `self` bound; `EvalError` on a CEL error."""
    return _eval(ast, {"self": self_value})


def _bool(v) -> bool:
    if not isinstance(v, bool):
        raise EvalError("expected a boolean")
    return v


def _eval(node, env: dict):
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "var":
        if node[1] not in env:
            raise Unsupported(f"unknown variable {node[1]!r}")
        return env[node[1]]
    if op == "list":
        return [_eval(n, env) for n in node[1]]
    if op == "sel":
        base = _eval(node[1], env)
        if isinstance(base, dict) and node[2] in base:
            return base[node[2]]
        raise EvalError(f"no such key: {node[2]}")
    if op == "index":
        base, key = _eval(node[1], env), _eval(node[2], env)
        try:
            return base[key]
        except (KeyError, IndexError, TypeError):
            raise EvalError(f"no such key: {key!r}") from None
    if op == "not":
        return not _bool(_eval(node[1], env))
    if op == "neg":
        v = _eval(node[1], env)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise EvalError("'-' needs a number")
        return -v
    if op in ("||", "&&"):
        decisive = op == "||"  # the value that decides the result on its own
        error = None
        for side in node[1:]:
            try:
                if _bool(_eval(side, env)) is decisive:
                    return decisive
            except EvalError as e:
                error = e
        if error is not None:
            raise error
        return not decisive
    if op == "?:":
        return _eval(node[2] if _bool(_eval(node[1], env)) else node[3], env)
    if op == "call":
        return _call(node, env)
    a, b = _eval(node[1], env), _eval(node[2], env)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "in":
        if not isinstance(b, (list, dict)):
            raise EvalError("'in' needs a list or a map")
        return a in b
    try:
        return {"<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b, ">=": lambda: a >= b,
                "+": lambda: a + b, "-": lambda: a - b}[op]()
    except TypeError:
        raise EvalError(f"no matching overload for {op!r}") from None


def _call(node, env: dict):
    _, name, target, args = node
    if target is None:
        if name == "has":
            if len(args) != 1 or args[0][0] != "sel":
                raise Unsupported("has() needs a field selection")
            base = _eval(args[0][1], env)
            return isinstance(base, dict) and args[0][2] in base
        if name == "size" and len(args) == 1:
            return _size(_eval(args[0], env))
        raise Unsupported(f"function {name}()")
    if name in _MACROS:
        if len(args) != 2 or args[0][0] != "var":
            raise Unsupported(f"macro {name}() needs a variable and an expression")
        coll = _eval(target, env)
        if not isinstance(coll, (list, dict)):
            raise EvalError(f"{name}() needs a list or a map")
        var, body = args[0][1], args[1]
        results = [_bool(_eval(body, {**env, var: item})) for item in coll]
        if name == "all":
            return all(results)
        if name == "exists":
            return any(results)
        return results.count(True) == 1
    recv = _eval(target, env)
    vals = [_eval(a, env) for a in args]
    if name == "size" and not vals:
        return _size(recv)
    if not isinstance(recv, str) or not all(isinstance(v, (str, int)) for v in vals):
        raise EvalError(f"no matching overload for {name}()")
    if name == "startsWith":
        return recv.startswith(vals[0])
    if name == "endsWith":
        return recv.endswith(vals[0])
    if name == "contains":
        return vals[0] in recv
    if name == "matches":
        pattern = _REGEX_CACHE.get(vals[0])
        if pattern is None:
            pattern = _REGEX_CACHE[vals[0]] = re.compile(vals[0])
        return pattern.search(recv) is not None
    if name == "lowerAscii":
        return recv.lower()
    if name == "substring":
        start, end = vals[0], vals[1] if len(vals) > 1 else len(recv)
        if not 0 <= start <= end <= len(recv):
            raise EvalError("substring index out of range")
        return recv[start:end]
    raise Unsupported(f"method {name}()")


def _size(v) -> int:
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise EvalError("size() needs a string, a list or a map")
