"""Every emitted Flux object is valid (schemas + CEL rules) and every
reference it makes resolves inside the output (or to what bootstrap creates)."""

import pytest
import yaml

from helpers import (example_dirs, generated, is_flux, outside_objects, package_items,
                     resource_list, run_doc, validate_flux)


def outputs():
    for pkg in example_dirs("flux"):
        rc, doc = run_doc(resource_list(package_items(pkg)))
        assert rc == 0
        yield pkg.name, generated(doc)


def strip_internal(obj: dict) -> dict:
    obj = yaml.safe_load(yaml.safe_dump(obj))
    anns = obj["metadata"].get("annotations", {})
    for k in list(anns):
        if k.startswith(("internal.config.kubernetes.io/", "config.kubernetes.io/path",
                         "config.kubernetes.io/index")):
            del anns[k]
    return obj


@pytest.mark.parametrize("pkg", example_dirs("flux"), ids=lambda p: p.name)
def test_flux_objects_pass_the_flux_schemas(pkg):
    rc, doc = run_doc(resource_list(package_items(pkg)))
    assert rc == 0
    flux = [strip_internal(o) for o in generated(doc) if is_flux(o)]
    assert flux, "no Flux objects generated"
    validate_flux(flux)


def bootstrap_sources(objs):
    """Sources that exist without being in the output: the one a FluxInstance
    sync creates, and the tree's own source, which config-api.md says bootstrap
    created already when it is not declared (`flux-system`)."""
    out = {("GitRepository", "flux-system", "flux-system")}
    for o in objs:
        if o["kind"] == "FluxInstance" and o["spec"].get("sync"):
            ns = o["metadata"]["namespace"]
            out.add((o["spec"]["sync"]["kind"], ns, ns))
    return out


@pytest.mark.parametrize("pkg", example_dirs("flux"), ids=lambda p: p.name)
def test_every_reference_resolves(pkg):
    rc, doc = run_doc(resource_list(package_items(pkg)))
    objs = generated(doc)
    have = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objs}
    have |= bootstrap_sources(objs)
    have |= outside_objects(package_items(pkg))  # dependsOn outside the config
    have |= {("ExternalArtifact", o["metadata"]["namespace"], a["name"]) for o in objs
             if o["kind"] == "ArtifactGenerator" for a in o["spec"]["artifacts"]}
    for o in objs:
        spec = o.get("spec") or {}
        ns = o["metadata"].get("namespace")
        refs = []
        if o["kind"] == "Kustomization" and is_flux(o):
            refs.append(spec["sourceRef"])
            refs += [{"kind": "Kustomization", **d} for d in spec.get("dependsOn", [])]
        if o["kind"] == "HelmRelease":
            if "chartRef" in spec:
                refs.append(spec["chartRef"])
            else:
                refs.append(spec["chart"]["spec"]["sourceRef"])
            refs += [{"kind": "HelmRelease", **d} for d in spec.get("dependsOn", [])]
        if o["kind"] == "ArtifactGenerator":
            refs += spec["sources"]
        for r in refs:
            assert "namespace" in r, f"{o['kind']} {o['metadata']['name']}: ref without namespace {r}"
            assert (r["kind"], r.get("namespace", ns), r["name"]) in have, \
                f"{o['kind']} {o['metadata']['name']}: dangling reference {r}"


def test_no_nulls_status_or_timestamps_in_flux_objects():
    for name, objs in outputs():
        for o in objs:
            if not is_flux(o):
                continue
            assert "status" not in o
            text = yaml.safe_dump({k: v for k, v in o.items()})
            spec = dict(o.get("spec") or {})
            spec.pop("values", None)
            assert "null" not in yaml.safe_dump(spec), f"{name}: null in {o['metadata']['name']}"
            assert "creationTimestamp" not in text


def test_partial_optional_objects_emit_no_nulls():
    """healthChecks / patch targets / valuesFrom with only some keys set must
    not gain `key: null` for the others (the schema rejects those)."""
    from helpers import run_doc as _run
    config = {
        "apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": "c"},
        "spec": {"nodes": [{"name": "n", "bundles": [{
            "name": "b",
            "healthChecks": [{"kind": "Deployment", "name": "web", "namespace": "web"}],
            "patches": [{"patch": "- op: add\n  path: /x\n  value: 1\n", "target": {"kind": "Deployment"}}],
            "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]},
            "applications": [{"name": "h", "namespace": "h", "helm": {
                "chart": "podinfo", "version": "6.7.1", "repository": "https://stefanprodan.github.io/podinfo",
                "valuesFrom": [{"kind": "Secret", "name": "s"}]}}],
        }]}]},
    }
    rc, doc = _run(resource_list([config]))
    assert rc == 0, doc.get("results")
    objs = [strip_internal(o) for o in generated(doc) if is_flux(o)]
    for o in objs:
        spec = dict(o["spec"])
        spec.pop("values", None)
        assert "null" not in yaml.safe_dump(spec), o
    validate_flux(objs)
