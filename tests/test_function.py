"""The KRM function contract: where the config comes from, results, exit
codes, and that nothing is ever lost."""

import pytest
import yaml

from helpers import EXAMPLES, generated, package_items, resource_list, run, run_doc

CONFIG = {
    "apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
    "metadata": {"name": "c1", "annotations": {"config.kubernetes.io/path": "cluster.yaml",
                                               "internal.config.kubernetes.io/path": "cluster.yaml"}},
    "spec": {"nodes": [{"name": "apps", "bundles": [
        {"name": "a", "applications": [{"name": "x", "namespace": "x", "manifests": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}]}]},
        {"name": "b", "dependsOn": ["a"]},
    ]}]},
}
OTHER = {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "keep", "annotations": {"config.kubernetes.io/path": "keep.yaml"}},
         "data": {"a": "yes"}}


def with_config(spec_patch=None, **meta):
    import copy
    c = copy.deepcopy(CONFIG)
    if spec_patch:
        spec_patch(c)
    return c


def test_items_and_function_config_routes_give_the_same_objects():
    rc1, d1 = run_doc(resource_list([CONFIG, OTHER]))
    rc2, d2 = run_doc(resource_list([OTHER], function_config=CONFIG))
    assert rc1 == rc2 == 0
    assert generated(d1) == generated(d2)


def test_function_config_twin_is_processed_once():
    rc, doc = run_doc(resource_list([CONFIG, OTHER], function_config=CONFIG))
    assert rc == 0
    paths = [it["metadata"]["annotations"]["internal.config.kubernetes.io/path"] for it in generated(doc)]
    assert len(paths) == len(set(paths))


def test_no_cluster_is_an_error_and_items_come_back():
    text = resource_list([OTHER], function_config={"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": "function-input"}})
    rc, doc = run_doc(text)
    assert rc == 1
    assert doc["items"] == [OTHER]
    assert doc["results"][0]["severity"] == "error"
    assert "fn.kure.dev/v1alpha1 Cluster" in doc["results"][0]["message"]


@pytest.mark.parametrize("mutate, field_path, words", [
    (lambda c: c["spec"]["nodes"][0]["bundles"][1].update(dependsOn=["nope"]),
     "spec.nodes[0].bundles[1].dependsOn[0]", "does not exist"),
    (lambda c: c["spec"]["nodes"][0]["bundles"][0].update(dependsOn=["b"]),
     "spec.nodes[0].bundles[0].dependsOn[0]", "cycle"),
    (lambda c: c["spec"]["nodes"][0]["bundles"][0].update(interval="1d"),
     "spec.nodes[0].bundles[0].interval", "24h"),
    (lambda c: c["spec"]["nodes"][0]["bundles"][0].update(dependOn=["b"]),
     "spec.nodes[0].bundles[0].dependOn", "did you mean 'dependsOn'"),
    (lambda c: c["spec"]["nodes"][0].update(name="Apps"),
     "spec.nodes[0].name", "DNS-1123"),
    (lambda c: c["spec"].update(layout={"root": "../up"}), "spec.layout.root", ".."),
    (lambda c: c["spec"]["nodes"][0]["bundles"][0].update(
        postBuild={"substitute": {"N": 2}}), "spec.nodes[0].bundles[0].postBuild.substitute.N",
     'quote it: "2"'),
])
def test_bad_config_reports_the_field_path(mutate, field_path, words):
    config = with_config(mutate)
    rc, doc = run_doc(resource_list([config, OTHER]))
    assert rc == 1
    errors = [r for r in doc["results"] if r["severity"] == "error"]
    match = [r for r in errors if r["field"]["path"] == field_path]
    assert match, errors
    assert words in match[0]["message"]
    assert match[0]["file"]["path"] == "cluster.yaml"
    assert match[0]["resourceRef"] == {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
                                       "name": "c1"}
    assert doc["items"] == [config, OTHER]  # nothing generated, nothing lost


def test_all_problems_are_reported_in_one_run():
    def two(c):
        c["spec"]["nodes"][0]["bundles"][0]["interval"] = "1d"
        c["spec"]["nodes"][0]["bundles"][1]["timeout"] = "forever"
    rc, doc = run_doc(resource_list([with_config(two)]))
    assert rc == 1
    paths = {r["field"]["path"] for r in doc["results"]}
    assert {"spec.nodes[0].bundles[0].interval", "spec.nodes[0].bundles[1].timeout"} <= paths


def test_bad_config_keeps_previous_tree():
    rc, doc = run_doc(resource_list(package_items(EXAMPLES / "minimal")))
    items = doc["items"]
    broken = [dict(it) for it in items]
    for it in broken:
        if it.get("kind") == "Cluster":
            it["spec"] = {**it["spec"], "layout": {"root": "/abs"}}
    rc, doc2 = run_doc(resource_list(broken))
    assert rc == 1
    assert doc2["items"] == broken  # the previous tree is not pruned


def test_passthrough_items_keep_their_text_exactly():
    text = resource_list([CONFIG]) + ""
    extra = ("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: q # comment\n"
             "  data:\n    a: 'yes'\n    b: \"on\"\n    c: 0755\n    d: |\n      line\n")
    text = text.replace("items:\n", "items:\n" + extra, 1)
    rc, out = run(text)
    assert rc == 0
    assert extra in out


def test_second_run_on_own_output_is_identical():
    rc, first = run(resource_list(package_items(EXAMPLES / "platform")))
    rc2, second = run(first)
    assert rc == rc2 == 0
    d1, d2 = yaml.safe_load(first), yaml.safe_load(second)
    key = lambda it: it["metadata"]["annotations"].get("internal.config.kubernetes.io/path", "")
    assert sorted(generated(d1), key=key) == sorted(generated(d2), key=key)
    assert len(d1["items"]) == len(d2["items"])


def test_json_input_gives_json_output():
    import json
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [CONFIG]}
    rc, out = run(json.dumps(rl))
    assert rc == 0
    assert generated(json.loads(out))
