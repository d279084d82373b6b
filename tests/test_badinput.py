"""The bad-input corpus: tests/badinput/, one file per case.

`<case>.yaml` is a Cluster config (one or more documents). It is added, as
kpt would send it (`cluster.yaml`, path/index/id annotations), to the items
of `_package.yaml`: a real kpt ResourceList full of tricky YAML.
`<case>.stdin` is fed to the function as it is: the whole standard input.

Each file starts with a header of comment lines, removed before use:

    # what the case is about
    # field: spec.nodes[0].bundles[0].dependsOn[0]   an error result has this field.path
    # says: write 24h instead                         an error message says this
    # file: cluster.yaml                              an error result names this file

`field`, `says` and `file` may repeat. Every case must end with exit 1, error
results only from the checks (never "internal error"), no traceback, and
every input item back byte for byte. For `.yaml` cases every error result
also names the field path and `cluster.yaml`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from helpers import REPO, run

CORPUS = REPO / "tests" / "badinput"
PACKAGE = (CORPUS / "_package.yaml").read_text()


@dataclass
class Case:
    path: Path
    about: str = ""
    fields: list[str] = field(default_factory=list)
    says: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    body: bytes = b""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stdin(self) -> bytes:
        if self.path.suffix == ".stdin":
            return self.body
        return package_with(self.body.decode()).encode()


def load_case(path: Path) -> Case:
    case = Case(path)
    lines = path.read_bytes().splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].startswith(b"#"):
        text = lines[i].decode().lstrip("#").strip()
        key, _, value = text.partition(":")
        lists = {"field": case.fields, "says": case.says, "file": case.files}
        if key in lists and value.strip():
            lists[key].append(value.strip())
        elif not case.about:
            case.about = text
        i += 1
    case.body = b"".join(lines[i:])
    return case


def cases() -> list[Case]:
    return [load_case(p) for p in sorted(CORPUS.iterdir())
            if p.suffix in (".yaml", ".stdin") and not p.name.startswith("_")]


ALL = cases()


class _AnyTag(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader that reads every unknown tag as plain data."""


_AnyTag.add_multi_constructor("", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))

def load(text: str):
    return yaml.load(text, Loader=_AnyTag)


# -- building the input ----------------------------------------------------------

def _annotations(index: int, ident: int) -> list[str]:
    return [f"config.kubernetes.io/index: '{index}'",
            "config.kubernetes.io/path: 'cluster.yaml'",
            f"internal.config.kubernetes.io/index: '{index}'",
            "internal.config.kubernetes.io/path: 'cluster.yaml'",
            f"internal.config.kubernetes.io/id: '{ident}'",
            f"config.k8s.io/id: '{ident}'"]


def _annotate(doc: str, index: int, ident: int) -> str:
    """kpt's reader: path/index/id annotations added to a document's metadata."""
    lines = doc.rstrip("\n").split("\n")
    anns = _annotations(index, ident)
    try:
        m = next(i for i, line in enumerate(lines) if line.rstrip() == "metadata:")
    except StopIteration:
        return "\n".join(lines + ["metadata:", "  annotations:"] + ["    " + a for a in anns])
    end = next((i for i in range(m + 1, len(lines)) if lines[i][:1] not in (" ", "")), len(lines))
    at = next((i for i in range(m + 1, end) if lines[i].rstrip() == "  annotations:"), None)
    if at is None:
        lines[m + 1:m + 1] = ["  annotations:"] + ["    " + a for a in anns]
    else:
        lines[at + 1:at + 1] = ["    " + a for a in anns]
    return "\n".join(lines)


def package_with(config: str) -> str:
    """_package.yaml with the config's documents added as `cluster.yaml` items."""
    docs = [d for d in re.split(r"^---[ \t]*\n", config, flags=re.M) if d.strip()]
    head, tail = PACKAGE.split("\nfunctionConfig:", 1)
    entries = []
    for i, doc in enumerate(docs):
        text = _annotate(doc, i, 100 + i)
        entries.append("- " + "\n".join(("  " + line) if line else line
                                         for line in text.split("\n"))[2:] + "\n")
    return head + "\n" + "".join(entries).rstrip("\n") + "\nfunctionConfig:" + tail


def item_entries(text: str) -> list[str] | None:
    """The `items:` entries of a ResourceList text at column 0, or None."""
    m = re.search(r"^items:[ \t]*\n", text, re.M)
    if m is None:
        return None
    body = []
    for line in text[m.end():].split("\n"):
        if line[:1] not in ("", " ", "-", "#"):
            break
        body.append(line)
    entries, current = [], None
    for line in body:
        if line.startswith("- "):
            current = [line]
            entries.append(current)
        elif current is not None:
            current.append(line)
    return [_without_head_comment("\n".join(e).rstrip("\n")) for e in entries]


def _without_head_comment(entry: str) -> str:
    """kpt writes an item's head comment on its dash line (`- # comment`); the
    function returns the item from its first key, and kpt restores the comment."""
    if not entry.startswith("- #"):
        return entry
    lines = entry.split("\n")[1:]
    while lines and lines[0].lstrip().startswith("#"):
        lines.pop(0)
    return "- " + "\n".join(lines)[2:]


# -- the checks ------------------------------------------------------------------

def _errors(doc: dict) -> list[dict]:
    return [r for r in doc.get("results") or [] if r.get("severity") == "error"]


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_bad_input_is_refused_cleanly(case: Case, capsys):
    stdin = case.stdin
    rc, out = run(stdin)
    stderr = capsys.readouterr().err
    assert rc == 1, f"{case.name}: exit {rc}\n{out}"
    assert "Traceback" not in stderr
    doc = load(out)
    assert doc["apiVersion"] == "config.kubernetes.io/v1" and doc["kind"] == "ResourceList"
    errors = _errors(doc)
    assert errors, f"{case.name}: no error result"
    messages = "\n".join(r["message"] for r in errors)
    assert "internal error" not in messages, messages
    paths = [(r.get("field") or {}).get("path") for r in errors]
    for f in case.fields:
        assert f in paths, f"{case.name}: no error at {f}; got {paths}\n{messages}"
    for s in case.says:
        assert s in messages, f"{case.name}: no message says {s!r}:\n{messages}"
    files = [(r.get("file") or {}).get("path") for r in errors]
    for f in case.files:
        assert f in files, f"{case.name}: no error names file {f}; got {files}"
    if case.path.suffix == ".yaml":
        for r in errors:
            assert (r.get("file") or {}).get("path") == "cluster.yaml", r
            assert (r.get("field") or {}).get("path"), r
            assert (r.get("resourceRef") or {}).get("kind"), r
    _assert_items_unchanged(stdin, out, messages)


WRAPPERS = {("config.kubernetes.io/v1", "ResourceList"), ("config.kubernetes.io/v1beta1", "ResourceList"),
            ("config.kubernetes.io/v1alpha1", "ResourceList"), ("v1", "List")}


def _assert_items_unchanged(stdin: bytes, out: str, messages: str) -> None:
    items = load(out)["items"]
    if "cannot read the input" in messages:
        # unreadable input: no item is returned and the exit code is 1, so
        # kpt writes nothing and kustomize fails the build: nothing is lost
        assert items == []
        return
    text = stdin.decode()
    docs = [d for d in yaml.load_all(text, Loader=_AnyTag) if d is not None]
    wrapper = len(docs) == 1 and (docs[0].get("apiVersion"), docs[0].get("kind")) in WRAPPERS
    if wrapper and item_entries(text) is not None:  # YAML: every entry byte for byte
        assert item_entries(out) == item_entries(text)
    assert items == (docs[0].get("items") or [] if wrapper else docs)


def test_the_corpus_is_large_and_every_case_states_what_it_expects():
    assert len(ALL) >= 50
    for case in ALL:
        assert case.about, f"{case.name}: describe the case in its first comment line"
        assert case.fields or case.says, f"{case.name}: give a field or a message to expect"


STDIN_CASES = [c for c in ALL if c.path.suffix == ".stdin"]


def test_stdin_cases_through_the_real_entry_point():
    """The same cases through `python -m fn`: exit 1, a ResourceList, no traceback."""
    for case in STDIN_CASES:
        proc = subprocess.run([sys.executable, "-m", "fn"], input=case.stdin, capture_output=True,
                              timeout=60, cwd=REPO)
        assert proc.returncode == 1, (case.name, proc.stderr)
        assert b"Traceback" not in proc.stderr, (case.name, proc.stderr)
        assert yaml.safe_load(proc.stdout)["kind"] == "ResourceList", case.name
