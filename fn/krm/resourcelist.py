"""The KRM function wire format: ResourceList in, ResourceList out.

In the spirit of the Go KRM SDK (`fn.ResourceList`, `KubeObject`, `Results`).
Items that pass through keep their original text byte for byte, so quote
styles and everything else the orchestrator does not restore survive; only
items the function creates or changes are written by the emitter.
"""

from __future__ import annotations

import math
import re

import yaml

from .. import lazy
from ..records import dataclass, field
from . import yamlio
from .yamlio import Limits, YAMLInputError

RESOURCE_LIST_API = "config.kubernetes.io/v1"
RESOURCE_LIST_APIS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1",
                      "config.kubernetes.io/v1alpha1")

PATH = "internal.config.kubernetes.io/path"
INDEX = "internal.config.kubernetes.io/index"
ID = "internal.config.kubernetes.io/id"
LEGACY_PATH = "config.kubernetes.io/path"
LEGACY_INDEX = "config.kubernetes.io/index"
LEGACY_ID = "config.k8s.io/id"
LOCAL_CONFIG = "config.kubernetes.io/local-config"
FUNCTION = "config.kubernetes.io/function"


class KubeObject:
    """One item: its parsed content, plus its original text while unchanged."""

    __slots__ = ("data", "source")

    def __init__(self, data: dict, source: str | None = None):
        self.data = data
        self.source = source  # verbatim YAML text of an input item; None once changed

    # -- identity ---------------------------------------------------------
    @property
    def api_version(self) -> str:
        v = self.data.get("apiVersion")
        return v if isinstance(v, str) else ""

    @property
    def kind(self) -> str:
        v = self.data.get("kind")
        return v if isinstance(v, str) else ""

    @property
    def metadata(self) -> dict:
        m = self.data.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        v = self.metadata.get("name")
        return v if isinstance(v, str) else ""

    @property
    def namespace(self) -> str:
        v = self.metadata.get("namespace")
        return v if isinstance(v, str) else ""

    @property
    def annotations(self) -> dict:
        a = self.metadata.get("annotations")
        return a if isinstance(a, dict) else {}

    @property
    def labels(self) -> dict:
        v = self.metadata.get("labels")
        return v if isinstance(v, dict) else {}

    def annotation(self, key: str) -> str | None:
        m = self.data.get("metadata")  # the properties above, inlined: a hot path
        a = m.get("annotations") if isinstance(m, dict) else None
        v = a.get(key) if isinstance(a, dict) else None
        return v if isinstance(v, str) else None

    def is_gvk(self, api_version: str, kind: str) -> bool:
        return self.api_version == api_version and self.kind == kind

    @property
    def path(self) -> str | None:
        return self.annotation(PATH) or self.annotation(LEGACY_PATH)

    @property
    def index(self) -> int:
        v = self.annotation(INDEX) or self.annotation(LEGACY_INDEX) or "0"
        return int(v) if v.isdigit() else 0

    def is_local_config(self) -> bool:
        return str(self.annotations.get(LOCAL_CONFIG, "")).lower() == "true"

    def is_kptfile(self) -> bool:
        return self.kind == "Kptfile" and self.api_version.startswith("kpt.dev/")

    # -- changes ------------------------------------------------------------
    def set_annotation(self, key: str, value: str) -> None:
        self.set_annotations({key: value})

    def set_annotations(self, values: dict) -> None:
        meta = self.data.setdefault("metadata", {})
        anns = meta.get("annotations")
        if not isinstance(anns, dict):
            anns = meta["annotations"] = {}
        anns.update(values)
        self.source = None

    def set_path(self, path: str, index: int | None = None) -> None:
        """Place the item in a file: internal and legacy annotations alike."""
        if path.startswith("/") or ".." in path.split("/") or not path:
            raise ValueError(f"unsafe item path {path!r}")
        anns = self.annotations
        same = anns.get(PATH, path) == path and anns.get(LEGACY_PATH) == path
        if index is not None:
            same = same and anns.get(INDEX, str(index)) == str(index) \
                and anns.get(LEGACY_INDEX) == str(index)
        if same:
            return
        updates = {PATH: path, LEGACY_PATH: path}
        if index is not None:
            updates.update({INDEX: str(index), LEGACY_INDEX: str(index)})
        updates = {k: v for k, v in updates.items() if anns.get(k) != v}
        source = self.source
        self.set_annotations(updates)
        if source is not None:  # keep the user's text: edit only these annotation lines
            self.source = _with_annotations(source, updates, self.data)

    def ref(self) -> dict:
        """A Result `resourceRef` for this object."""
        ref = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            ref["namespace"] = self.namespace
        return ref

    def file_ref(self) -> dict | None:
        """A Result `file` for this object, from its path annotation."""
        path = self.path
        if not path:
            return None
        return {"path": path, "index": self.index}

    def to_yaml_entry(self) -> str:
        """This item as one `items:` sequence entry (ending with a newline)."""
        if self.source is not None:
            return self.source
        return yamlio.dump([self.data])

    def __repr__(self) -> str:
        return f"KubeObject({self.api_version}/{self.kind} {self.namespace}/{self.name})"


@dataclass
class Result:
    message: str
    severity: str = "error"  # error | warning | info
    resource_ref: dict | None = None
    field_path: str | None = None
    file: dict | None = None
    tags: dict | None = None

    def to_dict(self) -> dict:
        d: dict = {"message": self.message, "severity": self.severity}
        if self.resource_ref:
            d["resourceRef"] = self.resource_ref
        if self.field_path:
            d["field"] = {"path": self.field_path}
        if self.file:
            d["file"] = self.file
        if self.tags:
            d["tags"] = self.tags
        return d

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file["path"] + ": "
        field_path = f"{self.field_path}: " if self.field_path else ""
        return f"[{self.severity}] {where}{field_path}{self.message}"


class Results(list):
    """Results of a function run, as the Go SDK's `fn.Results`: a list of
    `Result` with helpers that add one."""

    def error(self, message: str, *, ref=None, path=None, file=None) -> None:
        self.append(Result(message, "error", ref, path, file))

    def warning(self, message: str, *, ref=None, path=None, file=None) -> None:
        self.append(Result(message, "warning", ref, path, file))

    def info(self, message: str, *, ref=None, path=None, file=None) -> None:
        self.append(Result(message, "info", ref, path, file))

    def has_errors(self) -> bool:
        return any(r.severity == "error" for r in self)


@dataclass
class ResourceList:
    items: list[KubeObject] = field(default_factory=list)
    function_config: dict | None = None
    results: Results = field(default_factory=Results)
    wire: str = "yaml"  # yaml | json: the output follows the input

    # -- results --------------------------------------------------------------
    def has_errors(self) -> bool:
        return any(r.severity == "error" for r in self.results)

    # -- reading --------------------------------------------------------------
    @classmethod
    def parse(cls, data: bytes, limits: Limits = yamlio.DEFAULT_LIMITS) -> "ResourceList":
        """Read a ResourceList (YAML or JSON), a v1 List, or a plain stream."""
        text = yamlio.decode(data, limits)
        if not text.strip():
            raise YAMLInputError("no input: expected a ResourceList on standard input")
        if text.lstrip()[:1] in "{[":
            try:
                return cls._from_json(text, limits)
            except _NotJSON:
                pass
        return cls._from_yaml(text, limits)

    @classmethod
    def _from_json(cls, text: str, limits: Limits) -> "ResourceList":
        import json  # the JSON wire only: keeps it out of start-up

        def pairs(kv):
            d = {}
            for k, v in kv:
                if k in d:
                    raise YAMLInputError(f"duplicate key {k!r} in JSON input; keep only one of them")
                d[k] = v
            return d
        def number(s):  # what a 64-bit float (Go's, kpt's, Kubernetes') cannot hold
            f = float(s)
            return _Unreadable(s) if math.isinf(f) else f

        def integer(s):  # exact, up to where no float holds it (and int() has a digit limit)
            return int(s) if len(s) < 300 else number(s)

        try:
            doc = json.loads(text, object_pairs_hook=pairs, parse_float=number,
                             parse_int=integer, parse_constant=_Unreadable)
        except RecursionError:
            raise YAMLInputError(f"document nests deeper than {limits.max_depth} levels") from None
        except json.JSONDecodeError:
            raise _NotJSON() from None
        _check_json(doc, limits.max_depth, _SURROGATE_ESCAPE.search(text) is not None)
        rl = cls._from_documents([doc])
        rl.wire = "json"
        return rl

    @classmethod
    def _from_yaml(cls, text: str, limits: Limits) -> "ResourceList":
        try:  # the common case, lean: values straight from parser events
            docs, spans = yamlio.load_with_spans(text, limits)
        except yamlio.Fallback:
            return cls._from_nodes(text, limits)
        present = [(d, s) for d, s in zip(docs, spans) if d is not None]
        rl = cls._from_documents([d for d, _ in present])
        if len(present) == 1 and _is_wrapper(present[0][0]):
            entries = present[0][1][1].get("items")
            if entries is None or len(entries) != len(rl.items):
                return rl
        else:  # a plain stream: each document is an item
            entries = [root for _, (root, _) in present]
        for item, span in zip(rl.items, entries):
            if span is not None:
                item.source = _verbatim(text, span[0], span[1], span[2], item.data, span[3])
        return rl

    @classmethod
    def _from_nodes(cls, text: str, limits: Limits) -> "ResourceList":
        """The full path: anchors, aliases, merge keys, tags, and every error."""
        converter = yamlio._Converter(limits)
        present = [(n, d) for n in yamlio.compose_all(text, limits)
                   if (d := converter.convert(n)) is not None]
        rl = cls._from_documents([d for _, d in present])
        if len(present) == 1 and _is_wrapper(present[0][1]):
            items_node = _child(present[0][0], "items")
            if not isinstance(items_node, yaml.SequenceNode) \
                    or len(items_node.value) != len(rl.items):
                return rl
            nodes = items_node.value
        else:  # a plain stream: each document is an item
            nodes = [n for n, _ in present]
        for item, node in zip(rl.items, nodes):
            item.source = _verbatim_entry(text, node, item.data)
        return rl

    @classmethod
    def _from_documents(cls, docs: list) -> "ResourceList":
        """The list that documents (empty ones left out) hold: a ResourceList
        or v1 List unwrapped, else each document an item."""
        if len(docs) == 1 and _is_wrapper(docs[0]):
            doc = docs[0]
            raw_items = doc.get("items") or []
            if not isinstance(raw_items, list):
                raise YAMLInputError("ResourceList.items must be a list")
            fc = doc.get("functionConfig")
            if fc is not None and not isinstance(fc, dict):
                raise YAMLInputError("ResourceList.functionConfig must be a mapping")
        else:  # a plain stream of objects
            raw_items, fc = docs, None
        items = []
        for i, it in enumerate(raw_items):
            if not isinstance(it, dict):
                raise YAMLInputError(f"items[{i}] is not a Kubernetes object (a mapping)")
            items.append(KubeObject(it))
        return cls(items=items, function_config=fc)

    # -- writing --------------------------------------------------------------
    def to_text(self) -> str:
        if self.wire == "json":
            import json

            doc = {"apiVersion": RESOURCE_LIST_API, "kind": "ResourceList",
                   "items": [it.data for it in self.items]}
            if self.results:
                doc["results"] = [r.to_dict() for r in self.results]
            return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        parts = [f"apiVersion: {RESOURCE_LIST_API}\nkind: ResourceList\n"]
        parts.append("items:\n" if self.items else "items: []\n")
        parts.extend(it.to_yaml_entry() for it in self.items)
        if self.results:
            parts.append("results:\n")
            parts.append(yamlio.dump([r.to_dict() for r in self.results]))
        return "".join(parts)


class _NotJSON(Exception):
    pass


class _Unreadable:
    """A JSON number no 64-bit float holds (`1e400`) or a constant JSON does
    not have (`NaN`, `Infinity`): refused by `_check_json`, with its path."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_SURROGATE_ESCAPE = lazy.compile(r"\\u[dD][89a-fA-F]")  # may be one: look at the strings
_LONE_SURROGATE = lazy.compile("[\ud800-\udfff]")  # json.loads joins the pairs


def _is_wrapper(doc) -> bool:
    return isinstance(doc, dict) and (
        (doc.get("kind") == "ResourceList" and doc.get("apiVersion") in RESOURCE_LIST_APIS)
        or (doc.get("kind") == "List" and doc.get("apiVersion") == "v1"))


def _child(mapping: yaml.MappingNode, key: str):
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _verbatim_entry(text: str, node: yaml.Node, data: dict) -> str | None:
    """The original text of an item node as an `items:` entry, or None."""
    if not isinstance(node, yaml.MappingNode):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    body = text[start:end]
    if ("*" in body or "&" in body) and _has_outside_alias(node):
        return None
    return _verbatim(text, start, end, node.start_mark.column, data, node.flow_style)


def _verbatim(text: str, start: int, end: int, col: int, data: dict,
              flow: bool = False) -> str | None:
    """The mapping text[start:end] (starting at column `col`) as an entry at
    column 0, or None.

    A block mapping's lines keep their absolute columns, so the entry is
    re-anchored with a dash two columns left of the content; an item indented
    deeper (`items:` written with an indented sequence) is shifted left as a
    whole, a document of a plain stream (column 0) right. A left shift and
    flow style are checked by reading the entry back.
    """
    body = text[start:end].rstrip(" \t\r\n")  # YAML white space only: a plain "\\xa0" is content
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start]
    # the entry's own line must hold only the dash (and spaces) before the content
    if prefix.strip(" ") not in ("-", "") or "\t" in prefix:
        return None
    shift = col - 2
    if shift:
        body = _shift_left(body, shift)
        if body is None:
            return None
    entry = "- " + body + "\n"
    # Moving a block mapping right as a whole changes nothing YAML reads
    # (indentation is relative, folding drops leading spaces); only moving
    # left may cut content, and flow text may sit left of its entry.
    if shift > 0 or flow or (shift and "\t" in body):
        try:
            if yamlio.load(entry) != [data]:
                return None
        except YAMLInputError:
            return None
    return entry


def _shift_left(body: str, n: int) -> str | None:
    """Every line after the first `n` columns further left (right when `n`
    is negative), or None when one holds content in those columns (comments
    and blank lines may)."""
    lines = body.split("\n")
    if n < 0:
        pad = " " * -n
        return "\n".join([lines[0]] + [pad + line if line else line for line in lines[1:]])
    for i in range(1, len(lines)):
        line = lines[i]
        lead = len(line) - len(line.lstrip(" "))
        if lead >= n:
            lines[i] = line[n:]
        elif not line.strip() or line.lstrip(" ").startswith("#"):
            lines[i] = line[lead:]
        else:
            return None
    return "\n".join(lines)


def _with_annotations(entry: str, updates: dict[str, str], expected: dict) -> str | None:
    """`entry` (an item's verbatim text) with the values of existing annotation
    lines replaced, or None when that cannot be done safely.

    The edit is checked by reading the result back: it must equal `expected`.
    """
    for key, value in updates.items():
        line = re.compile(r"^( +)(['\"]?)" + re.escape(key) + r"\2:[ \t]+\S.*$", re.M)
        found = line.findall(entry)
        if len(found) != 1:
            return None
        entry = line.sub(lambda m: f"{m.group(1)}{m.group(2)}{key}{m.group(2)}: "
                                   f"{yamlio.quote(value)}", entry)
    try:
        back = yamlio.load(entry)
    except YAMLInputError:
        return None
    return entry if back == [expected] else None


def _has_outside_alias(node: yaml.Node) -> bool:
    """True when `node` uses an alias whose anchor lies outside it."""
    start, end = node.start_mark.index, node.end_mark.index
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if not (start <= n.start_mark.index and n.end_mark.index <= end):
            return True
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.append(k)
                stack.append(v)
    return False


def _check_json(doc, limit: int, surrogates: bool) -> None:
    """Refuse a JSON document nested deeper than `limit`, or holding what no
    output can carry: an `_Unreadable` number, or (when the text has such
    escapes, `surrogates`) a lone UTF-16 surrogate, which is no character."""
    problems = []
    stack = [(doc, 1, "")]
    while stack:
        v, d, path = stack.pop()
        if d > limit:
            raise YAMLInputError(f"document nests deeper than {limit} levels")
        if isinstance(v, dict):
            for k, x in v.items():
                if surrogates and _LONE_SURROGATE.search(k):
                    k = _LONE_SURROGATE.sub(_escape, k)
                    problems.append(_surrogate_problem(f"{path}.{k}" if path else k, "key", k))
                stack.append((x, d + 1, f"{path}.{k}" if path else k))
        elif isinstance(v, list):
            stack.extend((x, d + 1, f"{path}[{i}]") for i, x in enumerate(v))
        elif v.__class__ is _Unreadable:
            text = v.text if len(v.text) < 30 else f"{v.text[:12]}...({len(v.text)} characters)"
            if v.text in ("NaN", "Infinity", "-Infinity"):
                problems.append(f"{path}: {text} is no JSON number (JSON has no NaN or Infinity); "
                                f"write a string: \"{text}\"")
            else:
                problems.append(f"{path}: {text} is beyond the range of a 64-bit float, the "
                                "numbers Kubernetes, kpt and kustomize read; write a smaller "
                                "number, or quote it as a string")
        elif surrogates and isinstance(v, str) and _LONE_SURROGATE.search(v):
            problems.append(_surrogate_problem(path, "string", _LONE_SURROGATE.sub(_escape, v)))
    if problems:
        raise YAMLInputError("; ".join(sorted(problems)))


def _escape(m) -> str:
    return f"\\u{ord(m.group()):04x}"


def _surrogate_problem(path: str, what: str, escaped: str) -> str:
    c = escaped[escaped.index("\\u"):][:6]
    return (f"{path}: the JSON {what} holds {c}, one half of a UTF-16 surrogate pair without "
            "the other: that is no character, and no YAML or UTF-8 text can carry it; write "
            "the character itself, or both halves of its pair")
