"""Valid input that kpt and kustomize read must be read, and read as they
read it: anchors defined twice, keys YAML tells apart that Python does not,
empty documents, plain streams (verbatim), JSON, and scalars resolved as
kustomize (go-yaml v3) resolves them, so that what kure-fn writes is the
object the user wrote."""

from __future__ import annotations

import math
import subprocess

import pytest

from fn.krm import yamlio
from fn.krm.resourcelist import ResourceList
from helpers import EXAMPLES, REPO, need, run
from kpt import commit_all, make_repo, render, status
from test_passthrough import entries

HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"

CLUSTER = """\
apiVersion: fn.kure.dev/v1alpha1
kind: Cluster
metadata:
  name: dev
  annotations:
    config.kubernetes.io/local-config: "true"
    config.kubernetes.io/path: 'cluster.yaml'
    internal.config.kubernetes.io/path: 'cluster.yaml'
spec:
  nodes:
  - name: apps
    bundles:
    - name: web
      applications:
      - name: web
        manifests:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: web
            labels: &labels {app: web}
          data:
            copy: *labels
"""


def indent(text: str, by: str = "  ") -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(True))


def as_entry(doc: str) -> str:
    """A document of column 0 as an `items:` entry."""
    return "- " + indent(doc)[2:]


def configmap(name: str, data: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n"
            f"    config.kubernetes.io/path: '{name}.yaml'\n"
            f"    internal.config.kubernetes.io/path: '{name}.yaml'\ndata:\n{data}")


def generated_text(out: str, name: str) -> str:
    [entry] = [e for e in entries(out) if f"\n    name: {name}\n" in e and "fn.kure.dev/cluster" in e]
    return entry


# -- 1a. an anchor defined twice ------------------------------------------------

def test_an_anchor_in_two_files_and_in_the_config_kpt_sends_twice():
    """kpt sends every file of a package in one ResourceList and the
    configPath config twice (item and functionConfig): one anchor name is
    defined several times, which YAML allows (an alias names the latest)."""
    a = configmap("a", "  x: &x one\n  y: *x\n")
    b = configmap("b", "  x: &x two\n  y: *x\n")
    text = (HEAD + "items:\n" + as_entry(a) + as_entry(b) + as_entry(CLUSTER)
            + "functionConfig:\n" + indent(CLUSTER))
    rc, out = run(text)
    assert rc == 0, out
    assert entries(out)[:3] == [as_entry(a), as_entry(b), as_entry(CLUSTER)]
    rl = ResourceList.parse(out.encode())
    assert [it.data["data"]["y"] for it in rl.items[:2]] == ["one", "two"]
    [web] = [it for it in rl.items if it.name == "web" and it.kind == "ConfigMap"]
    assert web.data["data"]["copy"] == {"app": "web"}


@pytest.mark.e2e
def test_kpt_renders_a_package_whose_files_share_an_anchor_name(tmp_path):
    need("kpt")
    repo = make_repo(EXAMPLES / "minimal", tmp_path)
    config = (repo / "cluster.yaml").read_text()
    config = config.replace("GREETING: \"hello, world\"", "GREETING: &greeting \"hello, world\"")
    config = config.replace("ENABLED: \"true\"", "ENABLED: \"true\"\n            COPY: *greeting")
    (repo / "cluster.yaml").write_text(config)
    for name in ("a", "b"):
        (repo / f"{name}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
            f"data:\n  x: &x {name}\n  y: *x\n")
    commit_all(repo, "anchors")
    render(repo)
    assert "a.yaml" not in status(repo) and "b.yaml" not in status(repo)
    settings = next(repo.rglob("*configmap-hello-settings.yaml")).read_text()
    assert "COPY: hello, world" in settings


# -- 1b. keys YAML tells apart ---------------------------------------------------

def test_keys_that_differ_in_yaml_but_not_in_python_are_all_kept():
    value = yamlio.load("{1: int, true: bool, 1.0: float, '1': str}")
    assert sorted(map(str, value.values())) == ["bool", "float", "int", "str"]
    text = yamlio.dump(value)
    assert text == "1: int\ntrue: bool\n1.0: float\n\"1\": str\n"
    assert yamlio.load(text) == value


def test_an_item_with_such_keys_comes_back_verbatim():
    item = configmap("keys", "  k: {1: x, true: y, 1.0: z}\n  0755: octal\n  1e3: float\n")
    rc, out = run(HEAD + "items:\n" + as_entry(item) + as_entry(CLUSTER))
    assert rc == 0, out
    assert entries(out)[0] == as_entry(item)


@pytest.mark.parametrize("mapping, says, line", [
    ("{1: a, 0x1: b}", "'0x1' (YAML reads it as int 1, a key already there)", 1),
    ("a: 1\nb: 2\ntrue: 3\nTrue: 4\n", "'True' (YAML reads it as bool true, a key", 4),
    ("{1.0: a, 1.00: b}", "'1.00' (YAML reads it as float 1.0, a key", 1),
    ("a: 1\n'a': 2\n", "'a'; keep only one", 2),
])
def test_keys_equal_in_yaml_are_still_a_duplicate(mapping, says, line):
    with pytest.raises(yamlio.YAMLInputError) as e:
        yamlio.load(mapping)
    assert f"duplicate mapping key {says}" in e.value.message
    assert e.value.line == line


# -- 1c. empty documents -----------------------------------------------------

def test_empty_documents_of_a_plain_stream_are_skipped_as_kpt_and_kustomize_do():
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    for text in (f"---\n---\n{doc}---\n---\n", f"---\n~\n---\n{doc}---\nnull\n...\n"):
        rl = ResourceList.parse(text.encode())
        assert [it.name for it in rl.items] == ["a"]
        assert rl.items[0].source == as_entry(doc)


def test_a_resource_list_between_empty_documents_is_unwrapped():
    text = "---\n---\n" + HEAD + "items:\n- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n---\n"
    rl = ResourceList.parse(text.encode())
    assert [it.kind for it in rl.items] == ["A"]
    assert rl.items[0].source == "- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n"


# -- 3. plain streams come back verbatim ------------------------------------------

STREAM_ITEM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: tricky   # trailing comment
data:
  a: 'single'
  b: "yes"
  c: |
    literal

      block
  # a comment inside
  d: 0755
  e: 1e3
"""


@pytest.mark.parametrize("anchors", [False, True])
def test_items_of_a_plain_stream_come_back_verbatim(anchors):
    item = STREAM_ITEM + ("  f: &f x\n  g: *f\n" if anchors else "")
    flow = "{apiVersion: v1, kind: Secret, metadata: {name: s}}\n"
    indented = "  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: indented\n"
    cluster = CLUSTER.replace("config.kubernetes.io/path: 'cluster.yaml'", "x: y")
    stream = f"# head\n{item}---\n{cluster}---\n{flow}...\n---\n{indented}"
    rc, out = run(stream)
    assert rc == 0, out
    got = entries(out)
    assert got[:4] == [as_entry(item), as_entry(cluster), "- " + flow,
                       "- " + indented[2:]]


# -- 4. scalars as kustomize reads them -----------------------------------------

# plain scalar -> what `kubectl kustomize` (kustomize v5.5, go-yaml v3) builds
# from it, measured: an int, a float, a string or a bool.
KUSTOMIZE_READS = {
    "1e3": 1000.0, "1E3": 1000.0, "1.5e3": 1500.0, "0o644": 420, "-0o17": -15, "0755": 493,
    "089": 89.0, "0x1F": 31, "0b101": 5, "1_000": 1000, "+12": 12, ".5": 0.5, "1.10": 1.1,
    "yes": "yes", "on": "on", "n": "n", "true": True, "False": False, "tRue": "tRue",
    "1:20": "1:20", "1e400": "1e400", "0x": "0x", "18446744073709551615": 18446744073709551615,
    "18446744073709551616": 1.8446744073709552e19, "2024-01-01": "2024-01-01",  # kustomize: a timestamp
}


@pytest.mark.parametrize("text", sorted(KUSTOMIZE_READS))
def test_a_plain_scalar_reads_as_kustomize_reads_it(text):
    value = yamlio.load(f"k: {text}\n")["k"]
    expected = KUSTOMIZE_READS[text]
    assert value == expected and type(value) in (type(expected), yamlio.SpelledInt,
                                                 yamlio.SpelledFloat)
    again = yamlio.load(yamlio.dump({"k": value}))["k"]  # what kure-fn writes reads the same
    assert again == value and yamlio._yaml_type(again) is yamlio._yaml_type(value)


# every spelling go-yaml reads otherwise than as a string, and some it does not
CORPUS = [
    "1e3", "1E3", "1.5e3", "+1e3", "1e+3", "1e-3", "1e-400", "1e308", "1.8e308", "0e0", "1.",
    ".5", "+.5", "-.5", "1.10", "0.1", "00.5", "0o644", "0O644", "-0o17", "0o", "0755", "0644",
    "089", "08", "00", "0", "-0", "+12", "+0", "0x1F", "0X1f", "-0x1F", "+0x1F", "0x", "0b101",
    "0B11", "-0b101", "0b", "0b2", "1_000", "+_1", "0_x1F", "1e3_0", "1__0.5", "1_", "_1", "._5",
    ".5_0", ".5__0", ".5_", ".5e1_0", "1.2.3", "v1", "3e", "e3", "yes", "no", "on", "off", "y", "n", "Y", "true", "True",
    "TRUE", "tRue", "false", "null", "Null", "NULL", "~", "1:20", "12:30:45", "+", "-1",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "+18446744073709551615",
    "123456789012345678901234567890", "0x10000000000000000", "0x0000000000000000001F",
    "07777777777777777777777", "1" + "0" * 400,
]


def _kustomize(tmp_path, docs: str) -> str:
    kubectl = need("kubectl")
    (tmp_path / "objects.yaml").write_text(docs)
    (tmp_path / "kustomization.yaml").write_text("resources:\n- objects.yaml\n")
    proc = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _same(ours, theirs) -> bool:
    """Equal as JSON has them: kustomize writes every number through a float64."""
    if isinstance(ours, bool) or isinstance(theirs, bool) or ours is None or theirs is None:
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return float(ours) == float(theirs)
    return type(ours) is type(theirs) and ours == theirs


@pytest.mark.e2e
def test_kustomize_reads_every_scalar_as_kure_fn_does(tmp_path):
    """The reader and the emitter against the real `kubectl kustomize`: each
    scalar as the user wrote it, and as kure-fn writes what it read, builds
    the same object."""
    ours = {f"k{i:03}": yamlio.load(f"v: {text}\n")["v"] for i, text in enumerate(CORPUS)}
    written = yamlio.dump({"apiVersion": "example.com/v1", "kind": "Values",
                           "metadata": {"name": "ours"}, "spec": ours})
    user = ("apiVersion: example.com/v1\nkind: Values\nmetadata:\n  name: user\nspec:\n"
            + "".join(f"  k{i:03}: {text}\n" for i, text in enumerate(CORPUS)))
    built = {d["metadata"]["name"]: d["spec"]
             for d in map(yamlio.load, _kustomize(tmp_path, user + "---\n" + written).split("---\n"))}
    for key, text in zip(sorted(ours), CORPUS):
        assert _same(ours[key], built["user"][key]), (text, ours[key], built["user"][key])
        assert _same(ours[key], built["ours"][key]), (text, ours[key], built["ours"][key])


@pytest.mark.e2e
def test_kustomize_turns_a_date_into_a_timestamp_kure_fn_keeps_the_text(tmp_path):
    """The one documented difference (docs/guarantees.md)."""
    out = _kustomize(tmp_path, "apiVersion: example.com/v1\nkind: Values\nmetadata:\n  name: d\n"
                               "spec:\n  date: 2024-01-01\n")
    assert yamlio.load(out)["spec"]["date"] == "2024-01-01T00:00:00Z"
    assert yamlio.load("date: 2024-01-01\n")["date"] == "2024-01-01"


@pytest.mark.e2e
def test_numbers_of_an_inline_manifest_reach_flux_as_the_user_wrote_them(tmp_path):
    """An inline manifest through kure-fn, then kustomize (what Flux applies),
    is the manifest through kustomize alone."""
    manifest = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod\nspec:\n"
                "  securityContext: {runAsUser: 1e3, fsGroup: 0o1750}\n"
                "  volumes:\n  - name: v\n    configMap: {name: c, defaultMode: 0o644}\n"
                "  - name: w\n    secret: {secretName: s, defaultMode: 0755}\n"
                "  containers:\n  - name: c\n    image: nginx\n    env:\n    - {name: FLAG, value: yes}\n")
    cluster = CLUSTER.replace(
        "        - apiVersion: v1\n          kind: ConfigMap\n          metadata:\n            name: web\n"
        "            labels: &labels {app: web}\n          data:\n            copy: *labels\n",
        indent(as_entry(manifest), "        "))
    rc, out = run(HEAD + "items:\n" + as_entry(cluster))
    assert rc == 0, out
    text = generated_text(out, "pod")
    assert "runAsUser: 1000.0" in text and "defaultMode: 420" in text
    assert "defaultMode: 493" in text and 'value: "yes"' in text
    pod = yamlio.load(text)[0]
    pod["metadata"] = {"name": "pod"}
    direct = _kustomize(tmp_path, manifest)
    through = _kustomize(tmp_path, yamlio.dump(pod))
    assert through == direct


# -- the emitter ------------------------------------------------------------------

@pytest.mark.parametrize("text", [t for t in CORPUS if not isinstance(yamlio.plain_scalar(t), str)]
                         + ["1e400", "yes", "2024-01-01", "1:20", "+_1", "0_x1F", "1e3_0"])
def test_a_string_kustomize_would_read_as_something_else_is_quoted(text):
    written = yamlio.dump({"k": text})
    assert written != f"k: {text}\n"
    assert yamlio.load(written) == {"k": text}


def test_a_number_is_written_in_its_plain_form():
    value = yamlio.load("a: 0755\nb: 1e3\nc: 0x1F\nd: 1.10\ne: .nan\n")
    assert yamlio.dump(value) == "a: 493\nb: 1000.0\nc: 31\nd: 1.1\ne: .nan\n"
    assert math.isnan(yamlio.load(yamlio.dump(value))["e"])
    assert (value["a"].written, value["b"].written, value["d"].written) == ("0755", "1e3", "1.10")


# -- 2. JSON -----------------------------------------------------------------------

def test_json_input_with_a_surrogate_pair_is_read():
    text = ('{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": '
            '[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, '
            '"data": {"rocket": "\\ud83d\\ude80", "escaped": "\\\\ud800"}}]}')
    rl = ResourceList.parse(text.encode())
    assert rl.items[0].data["data"] == {"rocket": "\U0001F680", "escaped": "\\ud800"}
    assert '"rocket": "\U0001F680"' in rl.to_text()


def _package_files():
    return sorted(p for root in (EXAMPLES, REPO / "tests" / "fidelity" / "pkg")
                  for p in root.rglob("*.yaml"))


@pytest.mark.parametrize("path", _package_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_document_of_a_real_file_as_a_plain_stream_comes_back_verbatim(path):
    """Every document of the examples and of the fidelity package (quotes,
    literal blocks, wide and compact sequences, comments, CRLF, flow style,
    anchors), fed as a plain stream: each item's text is an `items:` entry
    that reads back as the item."""
    rl = ResourceList.parse(path.read_bytes())
    assert rl.items
    for item in rl.items:
        if item.source is not None:
            assert yamlio.load(item.source) == [item.data], item.source
    text = path.read_text()
    if "&" not in text and "*" not in text and "\t" not in text:  # what is verbatim
        assert all(item.source is not None for item in rl.items)
