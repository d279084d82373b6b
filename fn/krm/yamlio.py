"""YAML in and out, bounded and faithful.

Reading: strict UTF-8, a size cap, a nesting cap checked *before* the C
composer runs (it recurses natively and crashes on very deep documents), an
expansion cap against alias bombs, duplicate mapping keys refused (keys YAML
tells apart, `1` and `true`, are both kept), an anchor may be defined again.
Scalars resolve as kustomize (go-yaml v3) reads them, and so as Flux applies
them (`plain_scalar`): only true/false are booleans, `1e3` is 1000.0,
`0o644` and `0755` are octal ints; dates, sexagesimal-looking values (`1:20`)
and the YAML 1.1 words yes/no/on/off/y/n stay strings.

Writing: a small block-style emitter for the objects kure-fn generates. It
quotes every string that a YAML 1.1 or 1.2 reader could take for something
else (`yes`, `on`, `y`, `1e3`, `0755`, `2024-01-01`, ...), writes numbers in
their plain form (`493`, `1000.0`), writes multi-line strings as literal
blocks, keeps key order, and is deterministic.
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
    """Safe loading with kustomize's scalar rules (`plain_scalar`)."""


_MAP_TAG = _Loader.DEFAULT_MAPPING_TAG
_SEQ_TAG = _Loader.DEFAULT_SEQUENCE_TAG
_PLAIN_TAG = "!kure-fn/plain"  # a plain scalar: `plain_scalar` gives its value
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _resolve(self, kind, value, implicit):
    """The tag of a node, without PyYAML's resolver and its overhead: the C
    composer calls this once per node. A plain scalar is resolved later, by
    `plain_scalar`; only the merge key `<<` is decided here."""
    if kind is yaml.ScalarNode:
        if implicit[0]:
            return _MERGE_TAG if value == "<<" else _PLAIN_TAG
        return _STR_TAG
    return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG


_Loader.resolve = _resolve


class _RedefiningLoader(yaml.composer.Composer, _Loader):
    """The node path for a stream that defines one anchor name twice (two
    files of a kpt package, or the `configPath` config that kpt sends as an
    item and again as functionConfig). YAML allows it: an alias names the
    latest definition before it. libyaml's composer refuses it; PyYAML's own
    composer, on the same C parser events, does it once told to forget the
    earlier definition."""

    def __init__(self, stream):
        _Loader.__init__(self, stream)
        yaml.composer.Composer.__init__(self)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if event.anchor is not None and not isinstance(event, yaml.AliasEvent):
            self.anchors.pop(event.anchor, None)
        return super().compose_node(parent, index)


# --------------------------------------------------------------------------
# scalars, as kustomize reads them
# --------------------------------------------------------------------------
# Flux applies what kustomize builds, and kustomize (kyaml) reads every plain
# scalar with go-yaml v3: YAML 1.2 core types plus 1.1 octals (`0755`), and
# every `_` removed before a number is parsed. kure-fn reads them the same
# way, so that an inline manifest or helm values it writes out are the object
# the user wrote. One exception: go-yaml turns a date (`2024-01-01`) into a
# timestamp; kure-fn keeps the text. (docs/guarantees.md has the table,
# measured with `kubectl kustomize`.)

_SPECIAL = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_NUMBER_START = frozenset("+-.0123456789")
# first characters of every plain scalar that is not a string
_RESOLVABLE = _NUMBER_START | frozenset("tTfFnN~")
# Go's strconv.ParseInt(s, 0, 64) syntax; groups: sign, hex, binary, octal, 1.1 octal, decimal
_GO_INT = lazy.compile(
    r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|0([0-7]*)|([1-9][0-9]*))")
_GO_FLOAT = lazy.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_LONE_UNDERSCORE = lazy.compile(r"(?<![0-9])_|_(?![0-9])")
_BASES = (16, 2, 8, 8, 10)
_UINT64 = 1 << 64
_INT64 = 1 << 63
_NOT_SPECIAL = object()


class SpelledInt(int):
    """An int the user wrote otherwise than in decimal digits (`0755`,
    `0x1F`, `1_000`, `+1`); `written` keeps the text for messages
    (`quote it: "0755"`). The emitter writes the value (`493`)."""

    def __new__(cls, value: int, written: str):
        self = super().__new__(cls, value)
        self.written = written
        return self

    def __getnewargs__(self):  # copy.deepcopy and pickle
        return int(self), self.written


class SpelledFloat(float):
    """A float the user wrote otherwise than Python prints it (`1e3`,
    `1.10`); `written` keeps the text for messages."""

    def __new__(cls, value: float, written: str):
        self = super().__new__(cls, value)
        self.written = written
        return self

    def __getnewargs__(self):  # copy.deepcopy and pickle
        return float(self), self.written


def plain_scalar(s: str):
    """The value of a plain (unquoted, untagged) scalar, as go-yaml v3
    resolves it, dates excepted: `true`/`false`, null, ints in Go syntax
    (`0x1F`, `0o644`, `0b101`, and `0755` octal), floats (`1e3`, `.5`,
    `.inf`); anything else, `yes` and `1:20` too, is the string itself."""
    v = _SPECIAL.get(s, _NOT_SPECIAL)
    if v is not _NOT_SPECIAL:
        return v
    if s[0] not in _NUMBER_START:
        return s
    if s[0] == "." and "_" in s and _LONE_UNDERSCORE.search(s):
        return s  # go-yaml hands `.5_0` to Go's ParseFloat as it is: `_` only between digits
    plain = s.replace("_", "")
    m = _GO_INT.fullmatch(plain)
    if m is not None:
        sign = m.group(1)
        for i, base in enumerate(_BASES, 2):
            digits = m.group(i)
            if digits is not None:
                break
        digits = digits.lstrip("0")
        if len(digits) <= 64:  # longer is beyond uint64 in any base (and int() limits decimals)
            n = int(digits, base) if digits else 0
            if sign == "-":
                n = -n
            if -_INT64 <= n < _INT64 or (not sign and n < _UINT64):  # int64, else uint64
                return n if str(n) == s else SpelledInt(n, s)
    if _GO_FLOAT.fullmatch(plain):
        f = float(plain)
        if not math.isinf(f):  # out of range: go-yaml keeps the text
            return f if repr(f) == s else SpelledFloat(f, s)
    return s


def _scalar_value(node: yaml.ScalarNode):
    tag, value = node.tag, node.value
    if tag == _PLAIN_TAG:
        return plain_scalar(value)
    if tag in _TYPED:  # an explicit !!int, !!float, !!bool or !!null: its value if it is one
        v = plain_scalar(value)
        if isinstance(v, _TYPED[tag]) and (v.__class__ is not bool or tag == _BOOL_TAG):
            return float(v) if tag == _FLOAT_TAG else v
    return value  # !!str, any other tag (explicit or custom), a mismatch: keep the text


_TYPED = {_INT_TAG: int, _FLOAT_TAG: (int, float), _BOOL_TAG: bool, _NULL_TAG: type(None)}


class DistinctKey:
    """A mapping key that YAML tells apart from an equal Python key of the
    same mapping: `{1: a, true: b, 1.0: c}` has three keys (an int, a bool,
    a float) where Python has 1 == True == 1.0. The later ones are kept as
    DistinctKey(value), so that no entry is lost; the emitter writes the
    value, and a second one of the same type is still a duplicate."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return (other.__class__ is DistinctKey and _yaml_type(other.value) is _yaml_type(self.value)
                and other.value == self.value)

    def __hash__(self):
        return hash(self.value)

    def __repr__(self):
        return _scalar(self.value)


def _yaml_type(v) -> type:
    return bool if v.__class__ is bool else int if isinstance(v, int) else \
        float if isinstance(v, float) else v.__class__


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
                k = _distinct_key(out, k, key_node)
            out[k] = self._node(value_node)[0]
        for k, v in merged.items():
            out.setdefault(k, v)


def _distinct_key(mapping: dict, k, key_node: yaml.Node):
    """The key under which `k` goes into `mapping`, which holds a key equal
    to it in Python; an error when YAML finds them equal too."""
    same = next(x for x in mapping if x == k)
    if _yaml_type(same) is not _yaml_type(k):  # 1 and true: two keys for YAML
        k = DistinctKey(k)
        if k not in mapping:
            return k
    value = k.value if k.__class__ is DistinctKey else k
    same = "" if isinstance(value, str) or _scalar(value) == key_node.value else \
        f" (YAML reads it as {_yaml_type(value).__name__} {_scalar(value)}, a key already there)"
    raise YAMLInputError(f"duplicate mapping key {key_node.value!r}{same}; keep only one of them "
                         "(tools disagree on which one wins)", key_node.start_mark.line + 1)


def compose_all(text: str, limits: Limits = DEFAULT_LIMITS) -> list[yaml.Node]:
    """Parse every document of `text` into nodes (with marks), within limits.
    An empty document (`---` alone) is a null scalar node."""
    if _nesting_bound(text) > limits.max_depth or _node_bound(text) > limits.max_graph_nodes:
        _exact_scan(text, limits, limits.max_graph_nodes)
    try:
        return [n for n in yaml.compose_all(text, Loader=_Loader) if n is not None]
    except yaml.YAMLError as e:
        if not isinstance(e, yaml.composer.ComposerError) or "duplicate anchor" not in str(e):
            raise _yaml_error(e, text) from None
    try:  # an anchor defined twice: valid YAML, composed by PyYAML's composer
        return [n for n in yaml.compose_all(text, Loader=_RedefiningLoader) if n is not None]
    except yaml.YAMLError as e:
        raise _yaml_error(e, text) from None
    except RecursionError:  # PyYAML's composer recurses; _exact_scan bounds the depth first
        raise YAMLInputError(f"document nests deeper than {limits.max_depth} levels") from None


def to_python(node: yaml.Node, limits: Limits = DEFAULT_LIMITS):
    return _Converter(limits).convert(node)


def load(text: str, limits: Limits = DEFAULT_LIMITS):
    """The single document of `text` as Python values (None when empty)."""
    nodes = compose_all(text, limits)
    if len(nodes) > 1:
        raise YAMLInputError("expected one YAML document, found several",
                             nodes[1].start_mark.line + 1)
    return to_python(nodes[0], limits) if nodes else None


def copy_data(value):
    """A copy of loaded YAML data that can be changed without touching the
    original: new mappings and sequences, the scalars shared (they are
    immutable). The copy of the data kure-fn handles, several times cheaper
    than `copy.deepcopy`."""
    if isinstance(value, dict):
        return {k: copy_data(v) if isinstance(v, NESTED) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) if isinstance(v, NESTED) else v for v in value]
    return value


NESTED = (dict, list)  # the containers of loaded data (scalars are immutable)


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
    twenty times its size. An empty document is None. `spans` has one
    `(root, sequences)` per document: the (start, end, column, flow) offsets
    in `text` of its root mapping (None when the root is no mapping), and a
    map from each key of that mapping whose value is a sequence to the same
    offsets of its entries (None for an entry that is no mapping).
    Raises `Fallback` for anything it leaves to the node path, which then
    gives the answer or the error.
    """
    if _nesting_bound(text) > limits.max_depth:
        _exact_scan(text, limits, limits.max_nodes)
    get = _Loader(text).get_event
    limit = limits.max_nodes  # counted while building: memory stays bounded without a pre-scan
    docs: list = []
    spans: list = []
    root_span = None  # the root mapping of the document being read
    seqs: dict = {}  # its sequences' entries
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
                    if (value.isdigit() and value.isascii() and len(value) < 19
                            and (value[0] != "0" or len(value) == 1)):
                        value = int(value)  # a plain decimal int64: what plain_scalar says
                    elif not value:
                        value = None
                    elif value[0] in _RESOLVABLE:
                        value = plain_scalar(value)
                    elif value == "<<":
                        raise Fallback()  # a merge key
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
                elif (depth == 1 and cls is _SequenceStartEvent
                      and cur.__class__ is dict and isinstance(key, str)):
                    seq_spans = seqs[key] = []
                elif depth == 0 and cls is _MappingStartEvent:
                    root_span = [ev.start_mark.index, 0, ev.start_mark.column, ev.flow_style]
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
                elif depth == 0 and cls is _MappingEndEvent:
                    root_span[1] = ev.end_mark.index
                count += 1
            elif cls is _DocumentEndEvent:
                docs.append(result)
                spans.append((tuple(root_span) if root_span else None,
                              {k: [tuple(s) if s else None for s in v] for k, v in seqs.items()}))
                result = root_span = None
                seqs = {}
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
    return docs, spans


_ScalarEvent, _AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
_MappingStartEvent, _MappingEndEvent = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStartEvent, _SequenceEndEvent = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_DocumentEndEvent, _StreamEndEvent = yaml.DocumentEndEvent, yaml.StreamEndEvent


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
    # what kustomize reads as a number (`1_0`, `+_1`, `0_x1F`: go-yaml drops every `_`)
    return s[0] not in _NUMBER_START or plain_scalar(s) is s




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
    if v.__class__ is DistinctKey:
        return _scalar(v.value)
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


class Commented(str):
    """A string that the emitter writes with a line comment after it
    (`key: value # comment`), e.g. a setter marker that another tool finds
    by its comment. Equal to, and hashed as, the plain string."""

    def __new__(cls, value: str, comment: str):
        s = super().__new__(cls, value)
        s.comment = comment
        return s

    def __reduce__(self):  # copy.deepcopy and pickle keep the comment
        return (Commented, (str(self), self.comment))


def _value(v, ind: str) -> str:
    if v.__class__ is Commented:
        return f"{_value(str(v), ind)} # {v.comment}"
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
