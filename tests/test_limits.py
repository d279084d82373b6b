"""Resource limits: hostile inputs are refused or handled within bounds.

Every case runs the real entry point (`python -m fn`) in a subprocess under
an address-space cap of 1 GiB (RLIMIT_AS), so a crash or a runaway
allocation fails one test instead of taking pytest down, and a timeout of
60 s as a hang guard (not a performance assertion: see bench/). The bounds
are documented in docs/guarantees.md.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fn.krm import yamlio
from helpers import REPO

pytestmark = pytest.mark.slow

MEMORY_CAP = 1 << 30  # bytes of address space for the function's process
HANG_GUARD = 60  # seconds

RL = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
CLUSTER = """\
- apiVersion: fn.kure.dev/v1alpha1
  kind: Cluster
  metadata:
    name: dev
    annotations:
      config.kubernetes.io/path: 'cluster.yaml'
      internal.config.kubernetes.io/path: 'cluster.yaml'
  spec:
    nodes:
    - name: apps
      bundles:
      - name: web
        applications:
        - name: web
          resources:
            selector: {kinds: [Deployment]}
"""


def configmap(name: str, data: str) -> str:
    return (f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: {name}\n"
            f"    annotations:\n      config.kubernetes.io/path: '{name}.yaml'\n"
            f"      internal.config.kubernetes.io/path: '{name}.yaml'\n  data:\n{data}")


def deployment(i: int) -> str:
    return (f"- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: d{i}\n"
            f"    namespace: ns\n    annotations:\n      config.kubernetes.io/path: 'd{i}.yaml'\n"
            f"      internal.config.kubernetes.io/path: 'd{i}.yaml'\n  spec:\n    replicas: 1\n")


def run_capped(data: bytes, cap_bytes: int = MEMORY_CAP, **env: str) -> subprocess.CompletedProcess:
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))
    return subprocess.run([sys.executable, "-m", "fn"], input=data, capture_output=True,
                          timeout=HANG_GUARD, preexec_fn=cap, cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", **env})


def refused(data: bytes, says: str, cap_bytes: int = MEMORY_CAP, **env: str) -> dict:
    proc = run_capped(data, cap_bytes, **env)
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]
    assert b"Traceback" not in proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert doc["items"] == []
    [err] = [r for r in doc["results"] if r["severity"] == "error"]
    assert says in err["message"], err
    return doc


# -- alias bombs ----------------------------------------------------------------

def billion_laughs() -> str:
    lines = ["    lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"]
    for i in range(1, 10):
        lines.append(f"    lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n")
    return RL + CLUSTER + configmap("laughs", "".join(lines))


def doubling_chain(levels: int = 64) -> str:
    lines = ["    a0: &a0 [x, x]\n"]
    lines += [f"    a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, levels)]
    return RL + CLUSTER + configmap("chain", "".join(lines))


def merge_bomb(levels: int = 40) -> str:
    lines = ["    m0: &m0 {" + ", ".join(f"k{j}: v" for j in range(50)) + "}\n"]
    lines += [f"    m{i}: &m{i} {{<<: [*m{i - 1}], n{i}: [*m{i - 1}, *m{i - 1}]}}\n"
              for i in range(1, levels)]
    return RL + CLUSTER + configmap("merges", "".join(lines))


@pytest.mark.parametrize("bomb", [billion_laughs, doubling_chain, merge_bomb],
                         ids=lambda f: f.__name__)
def test_alias_bombs_are_refused(bomb):
    refused(bomb().encode(), "an alias bomb?")


# -- nesting ---------------------------------------------------------------------

NESTING = {
    "flow-sequences-10k": lambda n: configmap("deep", "    v: " + "[" * n + "]" * n + "\n"),
    "flow-mappings-10k": lambda n: configmap("deep", "    v: " + "{a: " * n + "b" + "}" * n + "\n"),
    "block-sequences-10k": lambda n: configmap("deep", "    v:\n" + "    " + "- " * n + "x\n"),
    "flow-sequences-100k": lambda n: configmap("deep", "    v: " + "[" * n + "]" * n + "\n"),
}


@pytest.mark.parametrize("name", sorted(NESTING))
def test_deep_nesting_is_refused_before_parsing(name):
    n = 100_000 if name.endswith("100k") else 10_000
    data = (RL + NESTING[name](n)).encode()
    refused(data, "nests deeper than 200 levels")


def test_deep_json_is_refused():
    n = 100_000
    data = ('{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": ['
            + "[" * n + "]" * n + "]}").encode()
    refused(data, "nests deeper than 200 levels")


def test_nesting_within_the_limit_is_fine():
    data = (RL + CLUSTER + configmap("nested", "    v: " + "[" * 150 + "]" * 150 + "\n")).encode()
    proc = run_capped(data)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]


# -- node count (what bounds memory) -----------------------------------------------------

def dense(n: int) -> bytes:
    return (RL + CLUSTER + configmap("dense", "    v: [" + "a," * n + "a]\n")).encode()


def test_too_many_nodes_are_refused_before_building_them():
    refused(dense(5_000_000), "more than 4000000 YAML nodes (set KURE_FN_MAX_NODES")


def test_the_node_limit_is_configurable():
    refused(dense(2_000), "more than 1000 YAML nodes", KURE_FN_MAX_NODES="1000")
    assert run_capped(dense(2_000), KURE_FN_MAX_NODES="3000").returncode == 0


def test_running_out_of_memory_is_a_clean_error():
    """With the node limit lifted, a tight memory cap ends in an error result."""
    refused(dense(3_000_000), "out of memory", cap_bytes=40 << 20, KURE_FN_MAX_NODES="100000000")


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(max_size=3), kids, max_size=4), max_leaves=30),
       st.sampled_from([None, True, False]))
def test_the_node_bound_never_undercounts(value, flow):
    text = yaml.safe_dump(value, default_flow_style=flow)
    nodes = sum(isinstance(e, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent))
                for e in yaml.parse(text))
    assert yamlio._node_bound(text) >= nodes


# -- size ------------------------------------------------------------------------------

def test_input_over_the_size_limit_is_refused_without_reading_it_all():
    blob = "x" * (64 * 1024 * 1024)
    refused((RL + CLUSTER + configmap("huge", f"    blob: {blob}\n")).encode(),
            "over the limit of 67108864 bytes (set KURE_FN_MAX_INPUT_BYTES")


def test_the_size_limit_is_configurable():
    data = (RL + CLUSTER).encode()
    refused(data, f"over the limit of {len(data) - 1} bytes", KURE_FN_MAX_INPUT_BYTES=str(len(data) - 1))
    assert run_capped(data, KURE_FN_MAX_INPUT_BYTES=str(len(data))).returncode == 0


def test_a_50_mb_scalar_passes_through_unchanged():
    blob = "x" * (50 * 1000 * 1000)
    entry = configmap("big", f"    blob: {blob}\n")
    proc = run_capped((RL + CLUSTER + entry).encode())
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    out = proc.stdout.decode()
    assert out.count(entry) == 1  # the item's text, byte for byte


def test_a_very_large_resource_list_is_handled():
    """10,000 items, each placed by the cluster's selector: all come back."""
    n = 10_000
    data = (RL + CLUSTER + "".join(deployment(i) for i in range(n))).encode()
    proc = run_capped(data)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    items = yaml.load(proc.stdout, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["items"]
    names = {it["metadata"]["name"] for it in items if it["kind"] == "Deployment"}
    assert names == {f"d{i}" for i in range(n)}


def test_a_mapping_with_100k_keys_is_handled():
    data = "".join(f"    k{i}: v{i}\n" for i in range(100_000))
    proc = run_capped((RL + CLUSTER + configmap("wide", data)).encode())
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]


def test_a_plain_stream_of_20k_documents_is_handled():
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n" for i in range(20_000)]
    cluster = "apiVersion: fn.kure.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: dev\n"
    proc = run_capped("---\n".join([cluster] + docs).encode())
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert len(yaml.load(proc.stdout, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["items"]) > 20_000


def test_a_large_json_resource_list_is_handled():
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"},
              "data": {"k": "v" * 100}} for i in range(20_000)]
    items.append({"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
                  "metadata": {"name": "dev"}})
    data = json.dumps({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                       "items": items}).encode()
    proc = run_capped(data)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert len(json.loads(proc.stdout)["items"]) > 20_000
