"""The lean event path of ResourceList.parse must read exactly what the node
path reads: the same values, the same verbatim item text, the same errors."""

import pytest

from fn.krm import yamlio
from fn.krm.resourcelist import ResourceList
from helpers import EXAMPLES, package_items, resource_list

HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"

CASES = {
    "scalars": HEAD + """items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
  data:
    quoted: "true"
    single: '0755'
    octal: 0755
    not octal: 089
    zero: 0
    decimal: 10
    big: 123456789012345678901234567890
    arabic digits: ١٢
    hex: 0x1F
    under: 1_000
    neg: -12
    float: 1.5
    exp: 1e3
    expdot: 1.0e3
    inf: .inf
    nan: .NaN
    yes11: yes
    on11: on
    off11: Off
    date: 2024-01-01
    stamp: 2024-01-01T10:00:00Z
    sexa: 1:20
    null1: ~
    null2:
    null3: null
    equals: =
    empty: ""
    unicode: "caf\\u00e9 \\u2028"
    colon: "a: b"
""",
    "blocks": HEAD + """items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: blocks
      annotations:
        note: |
          line one
            indented
          - not an item
    data:
      keep: |+
        a

      strip: >-
        folded
        text
      plain multi: first
        second
# a comment between items
  - apiVersion: v1   # trailing comment
    kind: Secret
    metadata: {name: flow-meta}
""",
    "flow item": HEAD + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: f}}\n"
                        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: g\n",
    "anchors": HEAD + """items:
- apiVersion: v1
  kind: ConfigMap
  metadata: &meta
    name: a
- apiVersion: v1
  kind: ConfigMap
  metadata: *meta
""",
    "merge key": HEAD + """items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    <<: {name: m, namespace: x}
    namespace: y
""",
    "tags": HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: t}\n"
                   "  data:\n    a: !!str 12\n    b: !custom x\n    c: ! 13\n",
    "duplicate key": HEAD + "items:\n- apiVersion: v1\n  kind: A\n  kind: B\n",
    "duplicate root key": HEAD + "items: []\nitems: []\n",
    "complex key": HEAD + "items:\n- ? [a, b]\n  : c\n",
    "invalid": HEAD + "items:\n- apiVersion: v1\n  kind: [unclosed\n",
    "scalar items": HEAD + "items:\n- just text\n- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n",
    "list kind": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n  metadata:\n    name: a\n",
    "stream": "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: B\n"
              "metadata:\n  name: b\n",
    "empty document": "---\n---\napiVersion: v1\nkind: A\n",
    "empty documents around a list": "---\n~\n---\n" + HEAD + "items:\n- apiVersion: v1\n"
                                     "  kind: A\n  metadata: {name: a}\n---\n---\n",
    "stream with comments": "# head\napiVersion: v1   # trailing\nkind: A\nmetadata:\n  name: a\n"
                            "data:\n  q: 'single'\n  o: 0755\n  lit: |\n    x\n\n    y\n# between\n"
                            "---\n{apiVersion: v1, kind: B}\n---\n  apiVersion: v1\n  kind: C\n",
    "stream with anchors": "apiVersion: v1\nkind: A\ndata: {x: &x 1, y: *x}\n---\n"
                           "apiVersion: v1\nkind: B\ndata: {x: &x 2, y: *x}\n",
    "anchor defined twice": HEAD + "items:\n- apiVersion: v1\n  kind: A\n  data: {x: &x 1, y: *x}\n"
                            "- apiVersion: v1\n  kind: B\n  data: {x: &x 2, y: *x}\n"
                            "functionConfig:\n  data: {x: &x 3, y: *x}\n",
    "keys equal in python": HEAD + "items:\n- apiVersion: v1\n  kind: A\n"
                            "  data: {1: int, true: bool, 1.0: float, \"1\": str}\n",
    "yaml 1.2 numbers": HEAD + "items:\n- apiVersion: v1\n  kind: A\n  data: {a: 1e3, b: 0o644, "
                        "c: +_1, d: 1.10, e: 1e400, f: 18446744073709551616, g: '1e3'}\n",
    "function config": HEAD + "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n"
                              "  data: {x: '1'}\nitems:\n- apiVersion: v1\n  kind: A\n  metadata:\n"
                              "    name: a\n",
    "no items": HEAD,
    "items not a list": HEAD + "items: {a: 1}\n",
    "item at column 0": HEAD + "items:\n-\n  apiVersion: v1\n  kind: A\n",
    "tab prefix": HEAD + "items:\n-\tapiVersion: v1\n  kind: A\n",
}


def _read(text: str, path: str):
    try:
        rl = getattr(ResourceList, path)(yamlio.decode(text.encode()), yamlio.DEFAULT_LIMITS)
    except yamlio.YAMLInputError as e:
        return "error", str(e)
    # repr, not JSON: keys YAML tells apart from equal Python keys are no JSON keys
    return repr([[it.data, it.source] for it in rl.items]), repr(rl.function_config)


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_path_reads_what_the_node_path_reads(name):
    text = CASES[name]
    assert _read(text, "_from_yaml") == _read(text, "_from_nodes")


@pytest.mark.parametrize("name", ["scalars", "blocks", "flow item", "scalar items",
                                  "empty documents around a list", "stream with comments",
                                  "yaml 1.2 numbers"])
def test_plain_documents_take_the_event_path(name):
    yamlio.load_with_spans(CASES[name])  # no Fallback


@pytest.mark.parametrize("name", ["anchors", "merge key", "tags", "duplicate key", "invalid",
                                  "anchor defined twice", "stream with anchors",
                                  "keys equal in python", "complex key"])
def test_what_the_event_path_cannot_decide_falls_back(name):
    with pytest.raises(yamlio.Fallback):
        yamlio.load_with_spans(CASES[name])


def test_values_and_spans_of_a_package():
    text = resource_list(package_items(EXAMPLES / "platform"))
    docs, spans = yamlio.load_with_spans(text)
    assert docs == [yamlio.load(text)]
    (root, sequences), = spans
    assert root[:3] == (0, len(text), 0)
    entries = sequences["items"]
    assert len(entries) == len(docs[0]["items"])
    for (start, end, column, flow), item in zip(entries, docs[0]["items"]):
        assert not flow and yamlio.load(" " * column + text[start:end]) == item


def test_node_limit_is_counted_while_reading():
    """The lean reader counts nodes as it builds them, so memory stays bounded
    without a pre-scan; the node path (anchors, aliases) gets a quarter."""
    text = HEAD + "items:\n" + "".join(f"- {{a: {i}}}\n" for i in range(50))
    limits = yamlio.Limits(max_nodes=60)
    with pytest.raises(yamlio.YAMLInputError, match="more than 60 YAML nodes"):
        yamlio.load_with_spans(text, limits)
    with pytest.raises(yamlio.YAMLInputError, match="more than 60 YAML nodes"):
        ResourceList.parse(text.encode(), limits)
    anchored = HEAD + "items:\n- &x {a: 1}\n" + "".join(f"- {{a: {i}}}\n" for i in range(10))
    with pytest.raises(yamlio.YAMLInputError, match="more than 15 YAML nodes"):
        ResourceList.parse(anchored.encode(), yamlio.Limits(max_nodes=60))
