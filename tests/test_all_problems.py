"""Every problem in one run (real-repos.md amendment C): the cross-field
rules run over what of an invalid config validated, so reference problems
are reported beside field errors, at the paths as written, without the
problems a field error may have caused."""

from __future__ import annotations

import pytest
import yaml

from fn import ConfigError
from fn import load_cluster as build
from fn.cli import main


def cluster(*bundles: dict, sources: list | None = None) -> dict:
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": "dev"},
            "spec": {"sources": sources or [], "nodes": [{"name": "apps", "bundles": list(bundles)}]}}


def problems(doc: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as e:
        build(doc)
    out: dict[str, str] = {}
    for p in e.value.problems:
        out[p.path] = f"{out[p.path]}\n{p.message}" if p.path in out else p.message
    return out


def test_an_unknown_field_does_not_hide_a_missing_bundle():
    got = problems(cluster({"name": "cache", "intervall": "5m"},
                           {"name": "web", "dependsOn": ["database"]}))
    assert set(got) == {"spec.nodes[0].bundles[0].intervall", "spec.nodes[0].bundles[1].dependsOn[0]"}
    assert "bundle 'database' does not exist" in got["spec.nodes[0].bundles[1].dependsOn[0]"]


def test_render_reports_both(tmp_path, capsys):
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(cluster({"name": "cache", "intervall": "5m"},
                                           {"name": "web", "dependsOn": ["database"]})))
    assert main(["render", str(path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "spec.nodes[0].bundles[0].intervall: unknown field" in err
    assert "spec.nodes[0].bundles[1].dependsOn[0]: bundle 'database' does not exist" in err
    assert not (tmp_path / "out").exists()


def test_reference_problems_beside_invalid_values_and_wrong_types():
    got = problems(cluster({"name": "cache", "interval": "1d", "prune": "yes", "healthChecks": 3},
                           {"name": "web", "dependsOn": ["cache", "nope", "web"]}))
    assert set(got) == {"spec.nodes[0].bundles[0].interval", "spec.nodes[0].bundles[0].prune",
                        "spec.nodes[0].bundles[0].healthChecks",
                        "spec.nodes[0].bundles[1].dependsOn[1]",
                        "spec.nodes[0].bundles[1].dependsOn[2]"}
    assert "depends on itself" in got["spec.nodes[0].bundles[1].dependsOn[2]"]


def test_no_rule_problem_at_or_under_a_field_error():
    """helm and manifests both set: the application path has the field error;
    the helm rules' problems below it (no version) are not reported."""
    app = {"name": "db", "helm": {"repository": "https://charts.example.com"},
           "manifests": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]}
    got = problems(cluster({"name": "data", "applications": [app]}))
    assert set(got) == {"spec.nodes[0].bundles[0].applications[0]"}


def test_no_rule_problem_for_a_value_left_out():
    """An invalid repository is left out: "set repository or source" would
    be a problem of kure-fn's making, not of the config."""
    app = {"name": "db", "helm": {"repository": "ftp://charts.example.com", "version": "1.0.0"}}
    got = problems(cluster({"name": "data", "applications": [app]}))
    assert set(got) == {"spec.nodes[0].bundles[0].applications[0].helm.repository"}


def test_no_rule_problem_naming_an_entry_left_out():
    """A source with an invalid URL is left out; bundles naming it are not
    told that it is not declared."""
    sources = [{"name": "tools", "git": {"url": "git@github.com:acme/tools"}}]
    got = problems(cluster({"name": "ext", "path": "./deploy", "source": "tools"},
                           {"name": "web", "dependsOn": ["nope"]}, sources=sources))
    assert set(got) == {"spec.sources[0].git.url", "spec.nodes[0].bundles[1].dependsOn[0]"}


def test_paths_stay_those_of_the_config_as_written():
    """Entries left out do not shift the paths of those after them, in the
    problem's path or in its message."""
    manifests = [{"kind": "ConfigMap"},  # no apiVersion, no name: left out
                 {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
                 {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]
    got = problems(cluster({"name": "Bad_Name"},  # left out
                           {"name": "web", "applications": [{"name": "cfg", "manifests": manifests}]},
                           {"name": "web", "dependsOn": [7, "nope"]}))
    dup = "spec.nodes[0].bundles[2].name"
    assert "'web' is already used at spec.nodes[0].bundles[1].name" in got[dup]
    assert "directory 'web' is already used by bundle spec.nodes[0].bundles[1];" in got[dup]
    assert "bundle 'nope' does not exist" in got["spec.nodes[0].bundles[2].dependsOn[1]"]
    # (two manifests giving one object are found when the objects are generated,
    # once the config is valid: tests/test_collisions.py)
    assert "spec.nodes[0].bundles[0].name" in got
    assert "spec.nodes[0].bundles[2].dependsOn[0]" in got


@pytest.mark.parametrize("damage", [
    {"spec": []}, {"spec": {"nodes": {}}}, {"spec": {"nodes": [None, 3, "x"]}},
    {"metadata": None}, {"spec": {"sources": [{"name": "s"}], "nodes": [{"name": "a", "source": "s"}]}},
    {"spec": {"gitops": "fluxx", "nodes": [{"name": "flux-system"}]}},
])
def test_broken_configs_give_field_errors_only_where_nothing_else_can_be_said(damage):
    doc = {**cluster(), **damage}
    got = problems(doc)
    assert got and all(path for path in got)
