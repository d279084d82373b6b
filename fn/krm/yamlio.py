"""YAML in and out, bounded and faithful.

Reading: strict UTF-8, a size cap, a nesting cap checked *before* the C
composer runs (it recurses natively and crashes on very deep documents), an
expansion cap against alias bombs, duplicate mapping keys refused. Scalars
resolve as kyaml (yaml.v3) reads them in kpt, kustomize and Flux: dates,
sexagesimal-looking values (`1:20`) and the YAML 1.1 words yes/no/on/off/y/n
stay strings; only true/false are booleans.

Writing: a small block-style emitter for the objects kure-fn generates. It
quotes every string that a YAML 1.1 or 1.2 reader could take for something
else (`yes`, `on`, `y`, `1e3`, `0755`, `2024-01-01`, ...), writes multi-line
strings as literal blocks, keeps key order, and is deterministic.
"""

from __future__ import annotations

import math
import re

import yaml

from .. import lazy
from ..records import dataclass

try:  # the C parser is much faster; the pure one is a correct fallback
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


@dataclass(frozen=True)
class Limits:
    """Input limits; every breach is a clean error, never a crash."""

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 200
    # Parsed nodes: what bounds memory. The lean reader (parser events straight
    # to values) needs ~150 bytes a node; inputs it leaves to the full node
    # graph (anchors, aliases, merge keys, tags) need ~0.5 KB a node, so they
    # get a quarter of this limit.
    max_nodes: int = 4_000_000
    max_expanded_nodes: int = 5_000_000

    @property
    def max_graph_nodes(self) -> int:
        return max(1, self.max_nodes // 4)


DEFAULT_LIMITS = Limits()


class YAMLInputError(Exception):
    """Input that cannot be read; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


# --------------------------------------------------------------------------
# decoding and limits
# --------------------------------------------------------------------------

def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    if len(data) > limits.max_bytes:
        raise YAMLInputError(
            f"input is {len(data)} bytes, over the limit of {limits.max_bytes} bytes "
            "(set KURE_FN_MAX_INPUT_BYTES to raise it)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise YAMLInputError(
            f"input is not UTF-8: byte 0x{data[e.start]:02x} at offset {e.start}; "
            "save the file as UTF-8", line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


_BRACKETS = re.compile(r"[\[\]{}]")
_BLOCK_LEAD = re.compile(r"^[ \t?:-]+", re.M)


def _nesting_bound(text: str) -> int:
    """An upper bound of the nesting depth, in linear time without parsing.

    Block nesting needs indentation or `- ` / `? ` indicators at the start of
    a line; flow nesting needs brackets. Brackets inside quoted strings only
    make the bound larger, never smaller.
    """
    block = max((len(m.group()) for m in _BLOCK_LEAD.finditer(text)), default=0)
    flow = best = 0
    if "[" in text or "{" in text:
        for m in _BRACKETS.finditer(text):
            if m.group() in "[{":
                flow += 1
                if flow > best:
                    best = flow
            elif flow:
                flow -= 1
    return block + best + 2


_NODE_MARKS = ",:-?[{\n"


def _node_bound(text: str) -> int:
    """An upper bound of the number of nodes, in linear time without parsing.

    Every node but a document's root starts after one of `,:-?[{` or a line
    break, and each of those starts at most two nodes (`[a` starts the
    sequence and its first entry).
    """
    return 2 * sum(text.count(c) for c in _NODE_MARKS) + 2


def _exact_scan(text: str, limits: Limits, max_nodes: int) -> None:
    """Walk parser events (iterative in libyaml) and fail past the depth or
    node limit, before anything is built from them."""
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limits.max_depth:
                    raise YAMLInputError(f"document nests deeper than {limits.max_depth} levels",
                                         event.start_mark.line + 1)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                continue
            elif not isinstance(event, yaml.ScalarEvent):
                continue
            nodes += 1
            if nodes > max_nodes:
                raise YAMLInputError(
                    f"input has more than {max_nodes} YAML nodes (set KURE_FN_MAX_NODES "
                    "to raise the limit, or split the package)", event.start_mark.line + 1)
    except yaml.YAMLError as e:
        if "maximum nesting depth" in str(getattr(e, "problem", "")):
            # libyaml (PyYAML >= 6.0.4) stops deep flow nesting itself while it
            # scans ahead, before the event of level `max_depth` reaches us; its
            # own bound is far above ours, so the verdict is the same
            mark = getattr(e, "problem_mark", None)
            raise YAMLInputError(f"document nests deeper than {limits.max_depth} levels",
                                 mark.line + 1 if mark is not None else None) from None
        raise _yaml_error(e, text) from None


def _yaml_error(e: yaml.YAMLError, text: str = "") -> YAMLInputError:
    if isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        return YAMLInputError(f"invalid YAML: control character U+{char:04X} at offset "
                              f"{e.position}; remove it (YAML allows no control characters)",
                              text.count("\n", 0, e.position) + 1 if text else None)
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    msg = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None and text[mark.index:mark.index + 1] == "\t":
        msg += "; indent with spaces: YAML does not allow tabs for indentation"
    return YAMLInputError(msg, mark.line + 1 if mark is not None else None)


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------

class _Loader(_BaseLoader):
    """Safe loading with Kubernetes' scalar rules: no timestamps, no base-60."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_IMPLICIT = _Loader.yaml_implicit_resolvers
_MAP_TAG = _Loader.DEFAULT_MAPPING_TAG
_SEQ_TAG = _Loader.DEFAULT_SEQUENCE_TAG


def _resolve(self, kind, value, implicit):
    """The tag of a node, as PyYAML's resolver decides it, without its overhead.

    The C composer calls this once per node: a plain scalar whose first
    character starts no implicit type is a string after one dict look-up.
    """
    if kind is yaml.ScalarNode:
        if implicit[0]:
            for tag, rx in _IMPLICIT.get(value[0] if value else "", ()):
                if rx.match(value):
                    return tag
        return _STR_TAG
    return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


_Loader.resolve = _resolve
_SEXAGESIMAL = lazy.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_constructors: list = []  # a SafeLoader, only for its int/float helpers (rare values)


def _constructor():
    if not _constructors:
        _constructors.append(yaml.SafeLoader(""))
    return _constructors[0]


def _scalar_value(node: yaml.ScalarNode):
    tag, value = node.tag, node.value
    if tag == _STR_TAG:
        return value
    if tag == _INT_TAG:
        if value.isdigit() and (value[0] != "0" or len(value) == 1):
            return int(value)
        if _SEXAGESIMAL.match(value):
            return value
        return _constructor().construct_yaml_int(node)  # signs, 0x, 0b, 0755 octal, 1_000
    if tag == _FLOAT_TAG:
        if _SEXAGESIMAL.match(value):
            return value
        return _constructor().construct_yaml_float(node)
    if tag == _BOOL_TAG:  # YAML 1.2 booleans only; yes/no/on/off stay strings
        return {"true": True, "false": False}.get(value.lower(), value)
    if tag == _NULL_TAG:
        return None
    return value  # any other tag (explicit or custom): keep the text


class _Converter:
    """Node graph -> Python values, counting expansion and refusing duplicates."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.memo: dict[int, tuple[object, int]] = {}
        self.expanded = 0

    def convert(self, node: yaml.Node):
        value, _ = self._node(node)
        return value

    def _count(self, n: int, node: yaml.Node) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_expanded_nodes:
            raise YAMLInputError(
                f"document expands to more than {self.limits.max_expanded_nodes} nodes "
                "(an alias bomb?)", node.start_mark.line + 1)

    def _node(self, node: yaml.Node):
        key = id(node)
        hit = self.memo.get(key)
        if hit is not None:  # an alias: shared value, but its size counts again
            self._count(hit[1], node)
            return hit
        if isinstance(node, yaml.ScalarNode):
            self._count(1, node)
            return _scalar_value(node), 1
        start = self.expanded
        if isinstance(node, yaml.SequenceNode):
            value: object = []
            self.memo[key] = (value, 1)
            value.extend(self._node(child)[0] for child in node.value)
        else:
            value = {}
            self.memo[key] = (value, 1)
            self._mapping(node, value)
        size = self.expanded - start + 1
        self._count(1, node)
        self.memo[key] = (value, size)
        return value, size

    def _mapping(self, node: yaml.MappingNode, out: dict) -> None:
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in (value_node.value if isinstance(value_node, yaml.SequenceNode)
                               else [value_node]):
                    src = self._node(source)[0]
                    if not isinstance(src, dict):
                        raise YAMLInputError("a merge key (<<) needs a mapping",
                                             source.start_mark.line + 1)
                    for k, v in src.items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YAMLInputError("mapping keys must be scalars", key_node.start_mark.line + 1)
            k = self._node(key_node)[0]
            if k in out:
                raise YAMLInputError(f"duplicate mapping key {k!r}; keep only one of them (tools "
                                     "disagree on which one wins)", key_node.start_mark.line + 1)
            out[k] = self._node(value_node)[0]
        for k, v in merged.items():
            out.setdefault(k, v)


def compose_all(text: str, limits: Limits = DEFAULT_LIMITS) -> list[yaml.Node]:
    """Parse every document of `text` into nodes (with marks), within limits."""
    if _nesting_bound(text) > limits.max_depth or _node_bound(text) > limits.max_graph_nodes:
        _exact_scan(text, limits, limits.max_graph_nodes)
    try:
        return [n for n in yaml.compose_all(text, Loader=_Loader) if n is not None]
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None


def to_python(node: yaml.Node, limits: Limits = DEFAULT_LIMITS):
    return _Converter(limits).convert(node)


def load(text: str, limits: Limits = DEFAULT_LIMITS):
    """The single document of `text` as Python values (None when empty)."""
    nodes = compose_all(text, limits)
    if len(nodes) > 1:
        raise YAMLInputError("expected one YAML document, found several",
                             nodes[1].start_mark.line + 1)
    return to_python(nodes[0], limits) if nodes else None


# --------------------------------------------------------------------------
# fast loading: Python values straight from parser events
# --------------------------------------------------------------------------

class Fallback(Exception):
    """The event path met what only the node path decides: anchors, aliases,
    tags, merge keys, complex or duplicate keys, invalid YAML, a limit."""


_NO_KEY = object()


def load_with_spans(text: str, limits: Limits = DEFAULT_LIMITS):
    """(documents, spans) of `text`, without building a node graph.

    Same values as `compose_all` + `to_python` (same resolver and scalar
    rules) at a fraction of the memory: the node graph of a large input is
    twenty times its size. `spans` maps each key of the first document's
    root mapping whose value is a sequence to its entries' (start, end,
    column, flow) offsets in `text` (None for an entry that is no mapping).
    Raises `Fallback` for anything it leaves to the node path, which then
    gives the answer or the error.
    """
    if _nesting_bound(text) > limits.max_depth:
        _exact_scan(text, limits, limits.max_nodes)
    get = _Loader(text).get_event
    limit = limits.max_nodes  # counted while building: memory stays bounded without a pre-scan
    docs: list = []
    spans: dict = {}
    stack: list = []  # (container, pending key) of every open container's parent
    cur = None  # the open container being filled (None: the document level)
    key = _NO_KEY  # when `cur` is a mapping: its key waiting for a value
    seq_spans = None  # entries of the top-level sequence being read
    open_span = None
    count = 0
    result = None
    try:
        while True:
            ev = get()
            cls = ev.__class__
            if cls is _ScalarEvent:
                if ev.anchor is not None:
                    raise Fallback()
                tag, value = ev.tag, ev.value
                if tag is None and ev.implicit[0]:
                    if value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1):
                        value = int(value)  # a plain decimal: what the int resolver says
                    elif (resolvers := _IMPLICIT.get(value[0] if value else "")) is not None:
                        for rtag, rx in resolvers:
                            if rx.match(value):
                                if rtag == _MERGE_TAG:
                                    raise Fallback()
                                value = _typed(rtag, value)
                                break
                elif tag is not None and tag != "!":
                    raise Fallback()
                if seq_spans is not None and len(stack) == 2:
                    seq_spans.append(None)
                count += 1
            elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
                if ev.anchor is not None or (ev.tag is not None and ev.tag != "!"):
                    raise Fallback()
                depth = len(stack)
                if depth == 2 and seq_spans is not None:
                    if cls is _MappingStartEvent:
                        open_span = [ev.start_mark.index, 0, ev.start_mark.column, ev.flow_style]
                        seq_spans.append(open_span)
                    else:
                        seq_spans.append(None)
                elif (depth == 1 and cls is _SequenceStartEvent and not docs
                      and cur.__class__ is dict and isinstance(key, str)):
                    seq_spans = spans[key] = []
                stack.append((cur, key))
                cur = {} if cls is _MappingStartEvent else []
                key = _NO_KEY
                continue
            elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
                value = cur
                cur, key = stack.pop()
                depth = len(stack)
                if depth == 2 and open_span is not None and cls is _MappingEndEvent:
                    open_span[1] = ev.end_mark.index
                    open_span = None
                elif depth == 1 and cls is _SequenceEndEvent:
                    seq_spans = None
                count += 1
            elif cls is _DocumentEndEvent:
                if result is None:
                    raise Fallback()
                docs.append(result)
                result = None
                continue
            elif cls is _StreamEndEvent:
                break
            elif cls is _AliasEvent:
                raise Fallback()
            else:
                continue
            if count > limit:
                raise YAMLInputError(
                    f"input has more than {limit} YAML nodes (set KURE_FN_MAX_NODES to raise "
                    "the limit, or split the package)", ev.start_mark.line + 1)
            # a finished value (scalar or container) goes into its parent
            if cur is None:
                result = value
            elif cur.__class__ is list:
                cur.append(value)
            elif key is _NO_KEY:
                if value.__class__ is dict or value.__class__ is list or value in cur:
                    raise Fallback()  # complex or duplicate key: the node path reports it
                key = value
            else:
                cur[key] = value
                key = _NO_KEY
    except yaml.YAMLError:
        raise Fallback() from None
    return docs, {k: [tuple(s) if s else None for s in v] for k, v in spans.items()}


_ScalarEvent, _AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
_MappingStartEvent, _MappingEndEvent = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStartEvent, _SequenceEndEvent = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_DocumentEndEvent, _StreamEndEvent = yaml.DocumentEndEvent, yaml.StreamEndEvent


def _typed(tag: str, value: str):
    """A plain scalar's value once its implicit tag is known."""
    return _scalar_value(yaml.ScalarNode(tag, value))


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------

_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
# Everything a YAML 1.1 (PyYAML, go-yaml v2) or 1.2 reader may resolve to a
# non-string, plus timestamps and the `<<` / `=` keys.
_AMBIGUOUS = re.compile(r"""^(?:
    y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
  | null|Null|NULL|~|<<|=
  | [-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
  | [-+]?0[bB][01_]+ | [-+]?0[oO]?[0-7_]+ | [-+]?0[xX][0-9a-fA-F_]+
  | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
  | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
  | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
      (?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?
)$""", re.X)
_PLAIN_BAD = re.compile(r": |:$| #|[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_LITERAL_BAD = lazy.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff\r]")
# Characters a double-quoted scalar must escape: quote, backslash, C0 and C1
# controls, DEL, line/paragraph separators, BOM, non-characters, surrogates.
_DQ_SPECIAL = re.compile(r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]')
_DQ_NAMED = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
             "\t": "\\t", "\u0085": "\\N", "\u2028": "\\L", "\u2029": "\\P", "\ufeff": "\\uFEFF"}
_scalar_cache: dict[str, str] = {}


def _plain_ok(s: str) -> bool:
    if not s or s[0] in _INDICATORS or s[0].isspace() or s[-1].isspace():
        return False
    if _PLAIN_BAD.search(s) or _AMBIGUOUS.match(s):
        return False
    return True




def _double_quoted(s: str) -> str:
    return '"' + _DQ_SPECIAL.sub(_dq_escape, s) + '"'


def _dq_escape(m) -> str:
    c = m.group()
    return _DQ_NAMED.get(c) or f"\\u{ord(c):04x}"


def quote(s: str) -> str:
    """The single-line rendering of string `s`: plain when safe, else double-quoted."""
    r = _scalar_cache.get(s)
    if r is None:
        r = s if _plain_ok(s) else _double_quoted(s)
        if len(_scalar_cache) < 200_000:
            _scalar_cache[s] = r
    return r


def _scalar(v) -> str:
    if isinstance(v, str):
        return quote(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        r = repr(v)
        if "e" in r and "." not in r.split("e")[0]:
            m, e = r.split("e")
            r = f"{m}.0e{e}"
        return r
    raise TypeError(f"cannot write a {type(v).__name__} as YAML")


def _literal(s: str, ind: str) -> str | None:
    """`|` block for a multi-line string, or None when it cannot be one."""
    if _LITERAL_BAD.search(s):
        return None
    body = s.rstrip("\n")
    trailing = len(s) - len(body)
    if not body:
        return None
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    head = "|" + ("2" if body[0] == " " else "") + chomp
    lines = [f"{ind}{line}" if line else "" for line in s.split("\n")]
    if trailing:
        lines = lines[: len(lines) - 1]  # the final "" after the last newline
    return head + "\n" + "\n".join(lines)


def _value(v, ind: str) -> str:
    if isinstance(v, str) and "\n" in v:
        lit = _literal(v, ind + "  ")
        if lit is not None:
            return lit
        return _double_quoted(v)
    return _scalar(v)


def _emit_map(d: dict, ind: str, out: list) -> None:
    append = out.append
    for k, v in d.items():
        key = _scalar_cache.get(k) if k.__class__ is str else None
        if key is None:
            key = quote(k) if isinstance(k, str) else _scalar(k)
        t = v.__class__
        if t is str and "\n" not in v:  # the common case first
            text = _scalar_cache.get(v)
            append(f"{ind}{key}: {quote(v) if text is None else text}")
        elif t is dict or t is list or isinstance(v, (dict, list)):
            if not v:
                append(f"{ind}{key}: {_empty(v)}")
            elif isinstance(v, dict):
                append(f"{ind}{key}:")
                _emit_map(v, ind + "  ", out)
            else:
                append(f"{ind}{key}:")
                _emit_seq(v, ind, out)
        else:
            append(f"{ind}{key}: {_value(v, ind)}")


def _emit_seq(seq: list, ind: str, out: list) -> None:
    inner = ind + "  "
    for v in seq:
        if isinstance(v, (dict, list)) and v:
            start = len(out)
            (_emit_map if isinstance(v, dict) else _emit_seq)(v, inner, out)
            out[start] = f"{ind}- {out[start][len(inner):]}"
        elif isinstance(v, (dict, list)):
            out.append(f"{ind}- {_empty(v)}")
        else:
            out.append(f"{ind}- {_value(v, ind)}")


def _empty(v) -> str:
    return "{}" if isinstance(v, dict) else "[]"


def dump(value, indent: str = "") -> str:
    """Block YAML for a mapping or sequence (one document, no `---`)."""
    out: list[str] = []
    if isinstance(value, dict) and value:
        _emit_map(value, indent, out)
    elif isinstance(value, list) and value:
        _emit_seq(value, indent, out)
    else:
        out.append(indent + (_empty(value) if isinstance(value, (dict, list)) else _value(value, indent)))
    return "\n".join(out) + "\n"


def dump_all(values) -> str:
    return "---\n".join(dump(v) for v in values)
