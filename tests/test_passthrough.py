"""Passthrough items in-process: their text comes back byte for byte, however
the input ResourceList is laid out (no kpt needed; test_fidelity.py runs kpt)."""

from __future__ import annotations

import yaml

from fn.krm import yamlio
from helpers import run, run_doc

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

CONFIGMAP = """\
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: tricky
      annotations:
        config.kubernetes.io/path: 'cm.yaml'
        internal.config.kubernetes.io/path: 'cm.yaml'
    data:
      a: 'single'
      b: "yes"
      c: |
        literal
          block
  # a comment dedented below the item
      d: 0755
"""

DEPLOYMENT = """\
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      annotations:
        config.kubernetes.io/index: '0'
        config.kubernetes.io/path: 'web.yaml'
        internal.config.kubernetes.io/index: '0'
        internal.config.kubernetes.io/path: 'web.yaml'
    spec:
      template:
        spec:
          containers:
            - name: web
              args: [--port=8080, '--level=info']
"""


def flush(entry: str) -> str:
    """An entry of an indented `items:` sequence as it reads at column 0."""
    return "".join(line[min(2, len(line) - len(line.lstrip(" "))):]
                   for line in entry.splitlines(keepends=True))


def rl(*entries: str) -> str:
    return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(entries)


def entries(out: str) -> list[str]:
    """The text of each `items:` entry of an output ResourceList."""
    body = out.split("\nitems:\n", 1)[1].split("\nresults:\n", 1)[0]
    parts = ("\n" + body).split("\n- ")[1:]
    return ["- " + p.rstrip("\n") + "\n" for p in parts]


def test_items_of_an_indented_sequence_come_back_verbatim_and_valid():
    rc, out = run(rl(CONFIGMAP, CLUSTER, DEPLOYMENT))
    assert rc == 0, out
    doc = yaml.safe_load(out)  # one valid document: all entries share one indentation
    assert [it["kind"] for it in doc["items"]][:3] == ["ConfigMap", "Cluster", "Deployment"]
    got = entries(out)
    assert got[0] == flush(CONFIGMAP)
    assert got[1] == flush(CLUSTER)


def test_a_moved_item_keeps_its_text_except_the_path_annotations():
    rc, out = run(rl(CONFIGMAP, CLUSTER, DEPLOYMENT))
    assert rc == 0, out
    moved = entries(out)[2]
    path = "clusters/dev/apps/web/web/cluster-deployment-web.yaml"
    expected = flush(DEPLOYMENT).replace("'web.yaml'", path)
    assert moved == expected


def test_flow_style_items_come_back_verbatim():
    flow = ("- {apiVersion: v1, kind: ConfigMap, metadata: {name: flow, annotations: "
            "{config.kubernetes.io/path: 'flow.yaml'}}, data: {a: \"yes\", b: 'on'}}\n")
    rc, out = run(rl(flow, flush(CLUSTER)))
    assert entries(out)[0] == flow


def test_input_item_bytes_survive_an_error_run():
    broken = CLUSTER.replace("name: web\n              applications", "name: Web\n              applications")
    text = rl(CONFIGMAP, broken, DEPLOYMENT)
    rc, out = run(text)
    assert rc == 1
    expected = [flush(e) for e in (CONFIGMAP, broken, DEPLOYMENT)]
    assert entries(out) == expected


def test_yaml11_words_are_strings_as_in_kpt_and_flux():
    assert yamlio.load("a: yes\nb: on\nc: n\nd: true\ne: False\n") == {
        "a": "yes", "b": "on", "c": "n", "d": True, "e": False}


def test_a_yaml11_boolean_in_the_config_says_what_to_write():
    bundle_with_prune = CLUSTER.replace("- name: web\n              applications",
                                        "- name: web\n              prune: yes\n              applications")
    rc, doc = run_doc(rl(bundle_with_prune))
    assert rc == 1
    [err] = [r for r in doc["results"] if r["severity"] == "error"]
    assert err["field"]["path"] == "spec.nodes[0].bundles[0].prune"
    assert "write true or false" in err["message"] and "YAML 1.2" in err["message"]


def test_an_item_ending_in_a_non_breaking_space_keeps_it():
    """U+00A0 is content in YAML, not white space: a plain scalar of it at the
    end of an item must come back (it came back as `A:`, a null)."""
    item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: nbsp}\n  data:\n    A: \u00a0\n"
    rc, out = run(rl(flush(CLUSTER), item))
    assert entries(out)[1] == item
