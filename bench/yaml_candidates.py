"""Faster YAML libraries against kure-fn's fidelity rules, and their speed.

Run in a scratch virtual environment (they are not dependencies):

    python -m venv /tmp/yv && /tmp/yv/bin/pip install pyyaml rapidyaml ryaml \\
        fastyaml-rs py-yaml12 yaml-rs
    /tmp/yv/bin/python bench/yaml_candidates.py RESOURCELIST.yaml

Each rule is what kure-fn's loader guarantees (fn/krm/yamlio.py) and what
Kubernetes tooling (sigs.k8s.io/yaml, YAML 1.1) reads; a library that breaks
one would change users' values or accept what kubectl refuses. The last
column is the CPU time to load RESOURCELIST (a fleet re-render input), best of 3.
"""

from __future__ import annotations

import importlib
import sys
import time

CASES = [  # (rule, YAML text, expected value or Exception)
    ("quoted true stays a string", 'a: "true"\n', {"a": "true"}),
    ("quoted number stays a string", "a: '0755'\n", {"a": "0755"}),
    ("YAML 1.1 yes/on/off are booleans", "a: yes\nb: on\nc: off\n", {"a": True, "b": True, "c": False}),
    ("a date stays a string", "a: 2024-01-01\n", {"a": "2024-01-01"}),
    ("1e3 is a string (YAML 1.1)", "a: 1e3\n", {"a": "1e3"}),
    ("0755 is octal (YAML 1.1)", "a: 0755\n", {"a": 493}),
    ("literal block keeps newlines", "a: |\n  x\n  y\n", {"a": "x\ny\n"}),
    ("folded block, strip", "a: >-\n  x\n  y\n", {"a": "x y"}),
    ("null forms", "a: ~\nb:\nc: null\n", {"a": None, "b": None, "c": None}),
    ("key order kept", "b: 1\na: 2\n", ["b", "a"]),
    ("duplicate keys refused", "a: 1\na: 2\n", Exception),
    ("invalid YAML refused", "a: [1, 2\n", Exception),
]


def _pyyaml():
    import yaml
    sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
    from fn.krm import yamlio

    def load(s):  # as ResourceList.parse reads: the event path, else the node path
        try:
            docs, _ = yamlio.load_with_spans(s)
        except yamlio.Fallback:
            return yamlio.load(s)
        return docs[0] if docs else None
    return "kure-fn (libyaml events via PyYAML, kure-fn scalar rules)", load, yaml


def _pyyaml_nodes():
    import yaml
    sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
    from fn.krm import yamlio
    return "kure-fn node path (libyaml compose via PyYAML)", lambda s: yamlio.load(s), yaml


def _plain_pyyaml():
    import yaml
    return "PyYAML CSafeLoader", lambda s: yaml.load(s, Loader=yaml.CSafeLoader), yaml


def _ryml():
    import ryml  # a tree of strings: scalars are not typed at all

    def load(s):
        tree = ryml.parse_in_arena(s.encode())
        return _ryml_value(tree, tree.root_id())
    return "rapidyaml (ryml, raw tree)", load, ryml


def _ryml_value(tree, node):
    import ryml
    if tree.is_map(node):
        return {bytes(tree.key(c)).decode(): _ryml_value(tree, c) for c in ryml.children(tree, node)}
    if tree.is_seq(node):
        return [_ryml_value(tree, c) for c in ryml.children(tree, node)]
    return bytes(tree.val(node)).decode()


def _simple(module: str, name: str, fn: str = "loads"):
    def make():
        m = importlib.import_module(module)
        return name, getattr(m, fn), m
    return make


CANDIDATES = [_pyyaml, _pyyaml_nodes, _plain_pyyaml, _ryml, _simple("ryaml", "ryaml"),
              _simple("fast_yaml", "fastyaml-rs", "safe_load"),
              _simple("yaml12", "py-yaml12", "parse_yaml"), _simple("yaml_rs", "yaml-rs")]


def check(load) -> list[str]:
    failed = []
    for rule, text, want in CASES:
        try:
            got = load(text)
        except Exception:
            if want is not Exception:
                failed.append(rule)
            continue
        if want is Exception:
            failed.append(rule)
        elif isinstance(want, list):
            if not isinstance(got, dict) or list(got) != want:
                failed.append(rule)
        elif got != want or any(type(got[k]) is not type(v) for k, v in want.items()):
            failed.append(rule)
    return failed


def main(path: str | None) -> int:
    import gc
    gc.disable()  # as kure-fn runs (fn.cli): the collector triples PyYAML's compose time
    text = open(path).read() if path else None
    print(f"| library | rules failed | load {path or '-'} |\n|---|---|---:|")
    for make in CANDIDATES:
        try:
            name, load, _ = make()
        except ImportError as e:
            print(f"| {make.__name__} | not installed ({e}) | |")
            continue
        failed = check(load)
        took = ""
        if text:
            try:
                best = float("inf")
                for _ in range(3):  # CPU time, best of 3: the machine may be shared
                    t0 = time.process_time()
                    load(text)
                    best = min(best, time.process_time() - t0)
                took = f"{best:.3f} s"
            except Exception as e:
                took = f"fails: {type(e).__name__}"
        print(f"| {name} | {len(failed)}/{len(CASES)}: {'; '.join(failed) or 'none'} | {took} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
