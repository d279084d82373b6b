"""fn/flux/openapi.py: Flux `.spec` values validated offline against the CRD
schemas shipped in fn/flux/crds (scripts/flux-schemas.py), cross-checked
with ../shared/tools/validate-flux.py (JSON Schema + its own CEL subset)."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import tomllib

import pytest
import yaml

from fn.flux import cel, openapi
from helpers import (EXAMPLES, GOLDEN, REPO, SHARED, VALIDATOR, example_dirs, generated,
                     package_items, resource_list, run_doc)

CRDS = REPO / "fn" / "flux" / "crds"
TESTDATA = SHARED / "tools" / "testdata"
KINDS = {kind: entry["apiVersion"] for kind, entry in openapi.index()["kinds"].items()}


def need_shared() -> None:
    if not VALIDATOR.exists():
        pytest.skip(f"../shared is absent ({VALIDATOR} missing): nothing to cross-check against")


def flux_objects(docs) -> list[dict]:
    """The objects of `docs` whose kind and apiVersion have a shipped schema."""
    return [d for d in docs if isinstance(d, dict) and KINDS.get(d.get("kind")) == d.get("apiVersion")]


def fixture_objects(name: str) -> list[tuple[str, dict]]:
    out = []
    for f in sorted((TESTDATA / name).glob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(f.read_text()))
        except yaml.YAMLError:
            continue  # duplicate-key.yaml: a YAML reader's case, not a schema's
        for d in docs:
            items = d.get("items") if isinstance(d, dict) and d.get("kind") == "ResourceList" else [d]
            out += [(f.name, o) for o in flux_objects(items or [])]
    return out


# -- the committed schemas are the script's output ----------------------------------------

def load_script():
    spec = importlib.util.spec_from_file_location("flux_schemas", REPO / "scripts" / "flux-schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schemas_equal_a_fresh_run_of_the_script():
    crds = SHARED / "schemas" / "crds"
    if not crds.is_dir():
        pytest.skip(f"../shared is absent ({crds} missing): the upstream CRDs are not here")
    script = load_script()
    provenance = json.loads((SHARED / "schemas" / "index.json").read_text())
    files = script.render(sorted(crds.glob("*.yaml")), provenance)
    assert sorted(p.name for p in CRDS.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (CRDS / name).read_text(encoding="utf-8") == text, f"{name} is stale: run make flux-schemas"
    check = subprocess.run([sys.executable, str(REPO / "scripts" / "flux-schemas.py"), "--crds", str(crds),
                            "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_index_names_source_version_and_licence():
    index = openapi.index()
    assert "do not edit" in index["$comment"] and "scripts/flux-schemas.py" in index["$comment"]
    assert index["flux"]["version"] == "v2.9.4"
    assert sorted(KINDS) == sorted(["Kustomization", "HelmRelease", "GitRepository", "OCIRepository",
                                    "HelmRepository", "Bucket", "ExternalArtifact", "ArtifactGenerator",
                                    "FluxInstance", "Provider", "Alert", "Receiver", "ImageRepository",
                                    "ImagePolicy", "ImageUpdateAutomation"])
    for kind, entry in index["kinds"].items():
        assert entry["licence"] in ("Apache-2.0", "AGPL-3.0") and entry["source"] and entry["component"]
        text = (CRDS / entry["file"]).read_text()
        # AGPL-3.0 text (flux-operator's API docs) is not shipped in this Apache-2.0 package
        assert ('"description"' in text) == entry["descriptions"] == (entry["licence"] == "Apache-2.0"), kind
    assert KINDS["HelmRelease"] == "helm.toolkit.fluxcd.io/v2"
    assert KINDS["FluxInstance"] == "fluxcd.controlplane.io/v1"
    assert "v0.58.1" in index["kinds"]["FluxInstance"]["component"]


def test_the_schemas_are_package_data():
    """pyproject.toml ships every file of fn/flux/crds (pip install, the image)."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {p.name for pattern in data["fn.flux"] for p in (REPO / "fn" / "flux").glob(pattern)}
    assert shipped == {p.name for p in CRDS.iterdir()}


# -- lazy: a config without overlays pays nothing --------------------------------------

def test_neither_the_validator_nor_a_schema_is_loaded_by_a_run():
    code = ("import sys\nfrom fn.cli import main\nsys.argv = ['kure-fn']\nmain()\n"
            "sys.stderr.write('LOADED=' + ','.join(m for m in ('fn.flux.openapi', 'fn.flux.cel')"
            " if m in sys.modules))\n")
    text = resource_list(package_items(EXAMPLES / "platform"))
    path = os.pathsep.join([str(REPO), os.path.dirname(os.path.dirname(yaml.__file__))])
    proc = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": path})
    assert "generated the Flux tree" in proc.stdout, proc.stderr
    assert proc.stderr.rstrip().endswith("LOADED="), proc.stderr


def test_only_the_kind_asked_for_is_read():
    code = ("from fn.flux import openapi\nopenapi.validate('GitRepository', {})\n"
            "print(sorted(openapi._SCHEMAS))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.stdout.strip() == "['GitRepository']", proc.stderr


# -- CEL ---------------------------------------------------------------------------------

def every_rule() -> list[tuple[str, str]]:
    found = []

    def walk(s):
        if isinstance(s, dict):
            found.extend((r["rule"], r.get("message", "")) for r in s.get("x-kubernetes-validations") or ())
            for v in s.values():
                walk(v)
        elif isinstance(s, list):
            for v in s:
                walk(v)

    for kind in KINDS:
        walk(openapi.schema(kind))
    return found


def test_every_shipped_rule_is_evaluated_except_the_transition_rule():
    rules = every_rule()
    assert len(rules) >= 20
    skipped = [r for r, _ in rules if openapi._rule(r) is None]
    assert skipped == ["self == oldSelf"]  # FluxInstance spec.sync.name: "Sync name is immutable"
    for rule, _ in rules:
        if rule not in skipped:
            cel.parse(rule)  # raises Unsupported for a rule outside the subset


@pytest.mark.parametrize("rule, value, expected", [
    ("has(self.a) || has(self.b)", {"b": 1}, True),
    ("!has(self.a) || self.a.x == 'y'", {"a": {"x": "y"}}, True),
    ("self.a == 'x' || !has(self.a)", {}, True),      # the error on the left is absorbed
    ("self.a == 'x' && has(self.a)", {}, False),  # absorbed on the right too
    ("size(self.l) > 0 && self.l.size() == 2", {"l": [1, 2]}, True),
    ("self.l.all(v, v.matches('^[a-z]+$'))", {"l": ["ab", "c"]}, True),
    ("self.l.all(v, v.matches('^[a-z]+$'))", {"l": ["ab", "C"]}, False),
    ("self.l.exists_one(v, v == 1)", {"l": [1, 1]}, False),
    ("self.l.exists(v, v == 1)", {"l": [2, 1]}, True),
    ("self.s.startsWith('oci') && self.s.substring(6).contains('/')", {"s": "oci://a/b"}, True),
    ("self.n >= 2 ? 'big' : 'small'", {"n": 3}, "big"),
    ("'b' in ['a', 'b'] && -1 < 0 && 1 + 1 == 2", {}, True),
])
def test_cel_subset(rule, value, expected):
    assert cel.evaluate(cel.parse(rule), value) == expected


def test_cel_errors_and_unsupported():
    with pytest.raises(cel.EvalError):
        cel.evaluate(cel.parse("self.a == 'x'"), {})
    with pytest.raises(cel.EvalError):
        cel.evaluate(cel.parse("self.a && true"), {"a": "yes"})
    for rule in ("self.x.map(v, v)", "duration(self.d) > 0", "self.a ~ 1"):
        with pytest.raises(cel.Unsupported):
            cel.evaluate(cel.parse(rule), {"x": [], "d": "1s", "a": 1})
    assert cel.is_transition_rule("self == oldSelf") and not cel.is_transition_rule("self.oldSelfie")


# -- the product: what kure-fn generates validates clean -------------------------------

@pytest.mark.parametrize("pkg", example_dirs("flux"), ids=lambda p: p.name)
def test_every_generated_flux_object_validates_clean(pkg):
    rc, doc = run_doc(resource_list(package_items(pkg)))
    assert rc == 0
    objs = flux_objects(generated(doc))
    assert objs, "no Flux objects generated"
    for o in objs:
        assert openapi.validate(o["kind"], o["spec"]) == [], (o["kind"], o["metadata"]["name"])


def test_every_flux_object_of_the_goldens_validates_clean():
    seen = set()
    for f in sorted(GOLDEN.glob("*.yaml")):
        for o in flux_objects(yaml.safe_load(f.read_text())["items"]):
            seen.add(o["kind"])
            assert openapi.validate(o["kind"], o["spec"]) == [], (f.name, o["kind"], o["metadata"]["name"])
    assert {"Kustomization", "HelmRelease", "GitRepository", "OCIRepository", "HelmRepository",
            "Bucket", "FluxInstance"} <= seen


# -- cross-check with validate-flux.py ---------------------------------------------------

_REF: list = []


def reference():
    """validate-flux.py as a module, with its validator over ../shared/schemas."""
    need_shared()
    if not _REF:
        spec = importlib.util.spec_from_file_location("validate_flux", VALIDATOR)
        module = importlib.util.module_from_spec(spec)
        sys.modules["validate_flux"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        _REF.extend([module, module.Validator(SHARED / "schemas")])
    return _REF


def reference_paths(kind: str, spec: object) -> set[str]:
    """Where validate-flux.py's JSON Schema and CEL checks find a problem in
    the spec (its semantic extras, e.g. Helm release names, are not CRD rules)."""
    module, validator = reference()
    draft7, full = validator._validator(validator.by_gvk[(KINDS[kind], kind)]["file"])
    obj = {"apiVersion": KINDS[kind], "kind": kind, "metadata": {"name": "flux", "namespace": "ns"},
           "spec": spec}
    errors = list(draft7.iter_errors(obj))
    paths = {validator._fmt_error(e).split(": ", 1)[0] for e in errors}
    if not errors:
        module.apply_defaults(full, obj)
        cel_errors: list[str] = []
        module.walk_cel(full["properties"]["spec"], obj["spec"], "spec", cel_errors, [])
        paths |= {e.split(": ", 1)[0] for e in cel_errors}
    return {p for p in paths if p == "spec" or p.startswith(("spec.", "spec["))}


def under(path: str, parent: str) -> bool:
    return path == parent or path.startswith((parent + ".", parent + "["))


def assert_agree(kind: str, spec: object, what: str) -> list[tuple[str, str]]:
    ours = openapi.validate(kind, spec)
    theirs = reference_paths(kind, spec)
    assert bool(ours) == bool(theirs), (what, ours, theirs)
    for path, _ in ours:
        assert any(under(path, p) for p in theirs), (what, path, theirs)
    for p in theirs:
        assert any(under(path, p) for path, _ in ours), (what, p, ours)
    return ours


def test_every_valid_fixture_validates_clean():
    objs = fixture_objects("valid")
    need_shared()
    assert len(objs) >= 15
    for name, o in objs:
        assert openapi.validate(o["kind"], o["spec"]) == [], (name, o["kind"])
        assert reference_paths(o["kind"], o["spec"]) == set(), (name, o["kind"])


# the spec-level cases of ../shared/tools/testdata/invalid: the path and the words
INVALID = {
    "artifactgenerator-traversal.yaml": ("spec.artifacts[0].copy[0].to", "'@artifact/../etc' does not match"),
    "bucket-generic-sa.yaml": ("spec", "ServiceAccountName is not supported for the 'generic' Bucket provider"),
    "git-bad-url-timeout.yaml": ("spec.url", "must start with http://, https:// or ssh://"),
    "hr-chart-and-chartref.yaml": ("spec", "either chart or chartRef must be set"),
    "hr-no-chart.yaml": ("spec", "either chart or chartRef must be set"),
    "hr-oci-in-chart-template.yaml": ("spec.chart.spec.sourceRef.kind",
                                      "'OCIRepository' is not one of HelmRepository, GitRepository, Bucket"),
    "hr-strategy-retryinterval.yaml": ("spec.install.strategy",
                                       ".retryInterval cannot be set when .name is 'RemediateOnFailure'"),
    "ks-bad-sourceref-kind.yaml": ("spec.sourceRef.kind", "'HelmRepository' is not one of OCIRepository"),
    "ks-interval-days.yaml": ("spec.interval", "'1d' is not a duration"),
    "ks-kubeconfig-both.yaml": ("spec.kubeConfig", "exactly one of spec.kubeConfig.configMapRef"),
    "ks-missing-required.yaml": ("spec.prune", "prune is required: Prune enables garbage collection."),
    "ks-substitute-int.yaml": ("spec.postBuild.substitute.replicas", 'expected a string, got a number 3; quote'),
    "ks-typo-field.yaml": ("spec.dependOn", "unknown field 'dependOn'; did you mean 'dependsOn'?"),
    "null-field.yaml": ("spec.suspend", "expected true or false, got null"),
    "oci-https-url.yaml": ("spec.url", "'https://ghcr.io/org/app' must start with oci://"),
}


def test_the_spec_level_invalid_fixtures_are_refused_with_a_path():
    objs = fixture_objects("invalid")
    need_shared()
    refused = {}
    for name, o in objs:
        problems = assert_agree(o["kind"], o["spec"], name)
        if problems:
            refused.setdefault(name, []).extend(problems)
    assert sorted(refused) == sorted(INVALID)  # every other fixture fails outside .spec
    for name, (path, words) in INVALID.items():
        assert any(p == path and words in m for p, m in refused[name]), (name, refused[name])


def leaves(value, path=()):
    """Every (path, value) of a YAML value, containers included."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))


def replaced(spec, path, new):
    out = copy.deepcopy(spec)
    if not path:
        return new
    node = out
    for key in path[:-1]:
        node = node[key]
    if new is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = new
    return out


DELETE = object()
OTHER = {str: 12345, bool: "maybe", int: "many", float: [], list: {"a": 1}, dict: ["a"], type(None): "x"}


def mutations(spec):
    """A valid spec changed in one place: each value given another type, each
    mapping an unknown key, each key deleted, each string emptied or set to 1d."""
    for path, value in leaves(spec):
        yield path, "other type", replaced(spec, path, OTHER[type(value)])
        if isinstance(value, dict):
            yield path, "unknown key", replaced(spec, path, {**value, "zzUnknown": "x"})
        if path and isinstance(path[-1], str):
            yield path, "deleted", replaced(spec, path, DELETE)
        if isinstance(value, str):
            yield path, "empty", replaced(spec, path, "")
            yield path, "1d", replaced(spec, path, "1d")


def sample_specs() -> list[tuple[str, dict]]:
    """One spec per kind and shape: the valid fixtures and the goldens."""
    found, shapes = [], set()
    docs = [o for _, o in fixture_objects("valid")]
    for f in sorted(GOLDEN.glob("*.yaml")):
        docs += flux_objects(yaml.safe_load(f.read_text())["items"])
    for o in docs:
        shape = (o["kind"], json.dumps(sorted(p for p, _ in leaves(o["spec"]) if all(
            isinstance(k, str) for k in p)), default=str))
        if shape not in shapes:
            shapes.add(shape)
            found.append((o["kind"], o["spec"]))
    return found


def test_one_mistake_anywhere_is_found_where_validate_flux_finds_it():
    need_shared()
    specs = sample_specs()
    assert {k for k, _ in specs} >= {"Kustomization", "HelmRelease", "GitRepository", "OCIRepository",
                                      "HelmRepository", "Bucket", "FluxInstance", "ArtifactGenerator"}
    checked = refused = 0
    for kind, spec in specs:
        for path, how, mutant in mutations(spec):
            if path and path[0] == "values" and kind == "HelmRelease":
                continue  # free-form (x-kubernetes-preserve-unknown-fields)
            refused += bool(assert_agree(kind, mutant, f"{kind} {'.'.join(map(str, path))}: {how}"))
            checked += 1
    assert checked > 500 and refused > checked // 3, (checked, refused)


# -- messages, paths, all problems at once -----------------------------------------------

def test_all_problems_at_once_with_the_config_path():
    problems = openapi.validate("Kustomization", {
        "interval": "1d", "prune": "yes", "dependOn": [], "sourceRef": {"kind": "GitRepository"},
        "healthCheckExprs": [{"apiVersion": "v1", "kind": "Pod", "current": 1}],
    }, "spec.nodes[0].bundles[2].kustomization")
    assert problems == [
        ("spec.nodes[0].bundles[2].kustomization.interval",
         "'1d' is not a duration: write numbers with the units ms, s, m or h, e.g. 30s, 5m or 1h30m; "
         "there is no unit for days: write 24h"),
        ("spec.nodes[0].bundles[2].kustomization.prune",
         "expected true or false, got a string 'yes'; write true or false, without quotes"),
        ("spec.nodes[0].bundles[2].kustomization.dependOn", "unknown field 'dependOn'; did you mean 'dependsOn'?"),
        ("spec.nodes[0].bundles[2].kustomization.sourceRef.name", "name is required: Name of the referent."),
        ("spec.nodes[0].bundles[2].kustomization.healthCheckExprs[0].current",
         'expected a string, got a number 1; quote it: "1"'),
    ]


@pytest.mark.parametrize("kind, spec, path, message", [
    ("GitRepository", {"interval": "1m", "url": "https://x", "timeout": "1h"}, "spec.timeout",
     "'1h' is not a duration: write numbers with the units ms, s or m, e.g. 500ms, 30s or 5m"),
    ("HelmRelease", {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "a"}, "maxHistory": "5"},
     "spec.maxHistory", "expected a whole number, got a string '5'; write it without quotes"),
    ("HelmRelease", {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "a"},
                     "install": {"strategy": {"name": "retryOnFailure"}}},
     "spec.install.strategy.name", "'retryOnFailure' is not one of RemediateOnFailure, RetryOnFailure; "
                                   "did you mean 'RetryOnFailure'?"),
    ("HelmRelease", {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "a"},
                     "valuesFrom": [{"kind": "configmap", "name": "v"}]},
     "spec.valuesFrom[0].kind", "'configmap' is not one of Secret, ConfigMap; did you mean 'ConfigMap'?"),
    ("HelmRelease", {"interval": "1m", "chartRef": {"kind": "OCIRepository", "name": "a"}, "postRenderers": {}},
     "spec.postRenderers", "expected a list, got a mapping; write one entry per line, each starting with '- '"),
    ("Kustomization", {"interval": "1m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "a"},
                       "path": True}, "spec.path", 'expected a string, got a boolean true; quote it: "true"'),
    ("Kustomization", [], "spec", "expected a mapping (Kustomization spec), got a list"),
    ("ImageRepository", {"image": "x", "exclusionList": [str(i) for i in range(26)]},
     "spec.exclusionList", "has 26 entries; at most 25 are allowed"),
    ("ArtifactGenerator", {"sources": [], "artifacts": [{"name": "a", "copy": [{"from": "@a/x", "to": "@artifact/"}]}]},
     "spec.sources", "needs at least 1 entry"),
    ("FluxInstance", {"distribution": {"version": "2.x", "registry": "r"}, "sync": {"name": "n" * 64, "kind": "Bucket",
                                                                                  "url": "u", "ref": "r", "path": "p"}},
     "spec.sync.name", f"'{'n' * 64}' is 64 characters long; at most 63 are allowed"),
    ("Receiver", {"type": "generic", "resources": [{"kind": "Bucket", "name": "b"}]}, "spec",
     "secretRef is required when type is not generic-oidc"),
])
def test_messages(kind, spec, path, message):
    assert (path, message) in openapi.validate(kind, spec), openapi.validate(kind, spec)


def test_defaults_apply_before_the_rules():
    """Bucket.spec.provider defaults to generic: that forbids serviceAccountName
    and allows an ldap STS (the rules read `self.provider`, absent as written)."""
    spec = {"interval": "5m", "bucketName": "b", "endpoint": "e", "serviceAccountName": "s"}
    assert [p for p, _ in openapi.validate("Bucket", spec)] == ["spec"]
    assert openapi.validate("Bucket", {**spec, "provider": "aws"}) == []
    sts = {"interval": "5m", "bucketName": "b", "endpoint": "e", "sts": {"provider": "ldap", "endpoint": "https://s"}}
    assert openapi.validate("Bucket", sts) == []
    assert openapi.validate("Bucket", {**sts, "provider": "aws"}) == [
        ("spec", "'aws' is the only supported STS provider for the 'aws' Bucket provider")]


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="no Flux schema for kind 'Kustomisation'"):
        openapi.validate("Kustomisation", {})


# -- schema features the Flux CRDs do not use today ------------------------------------

SYNTHETIC = {
    "type": "object",
    "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True},
        "replicas": {"type": "integer", "format": "int32", "minimum": 0, "exclusiveMaximum": True,
                     "maximum": 10},
        "ratio": {"type": "number", "minimum": 0.5},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                  "items": {"type": "object", "properties": {"port": {"type": "integer"},
                                                             "name": {"type": "string"}}}},
        "object": {"type": "object", "x-kubernetes-embedded-resource": True,
                   "x-kubernetes-preserve-unknown-fields": True},
        "either": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                   "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
        "some": {"type": "string", "anyOf": [{"minLength": 3}, {"pattern": "^x"}]},
        "all": {"type": "string", "allOf": [{"maxLength": 3}], "not": {"enum": ["bad"]}},
        "big": {"type": "integer", "format": "int32"},
    },
}


@pytest.mark.parametrize("value, expected", [
    ({"port": 80, "note": None, "replicas": 3, "ratio": 1, "tags": ["a"], "ports": [{"port": 1}],
      "object": {"apiVersion": "v1", "kind": "ConfigMap", "data": {}}, "either": {"a": "x"},
      "some": "xy", "all": "ok"}, []),
    ({"port": True}, [("s.port", "expected a number or a string, got a boolean")]),
    ({"replicas": 10}, [("s.replicas", "must be less than 10, got 10")]),
    ({"replicas": -1}, [("s.replicas", "must be at least 0, got -1")]),
    ({"replicas": 2.0, "ratio": 0.25}, [("s.ratio", "must be at least 0.5, got 0.25")]),
    ({"big": 2**31}, [("s.big", "2147483648 does not fit in an int32 (-2147483648 to 2147483647)")]),
    ({"tags": ["a", "b", "a"]}, [("s.tags[2]", "'a' is listed twice (entry 0); remove one")]),
    ({"ports": [{"port": 1, "name": "a"}, {"port": 1, "name": "b"}]},
     [("s.ports[1]", "another entry has the same port 1 (entry 0); remove one")]),
    ({"object": {"kind": "ConfigMap"}}, [("s.object.apiVersion", "apiVersion is required")]),
    ({"either": {"a": "x", "b": "y"}},
     [("s.either", "matches 2 of the 2 forms allowed here; it must match exactly one")]),
    ({"either": {}}, [("s.either.a", "a is required")]),
    ({"some": "ab"}, [("s.some", "'ab' is 2 characters long; at least 3 are needed")]),
    ({"all": "long"}, [("s.all", "'long' is 4 characters long; at most 3 are allowed")]),
    ({"all": "bad"}, [("s.all", "this value is not allowed here (it matches a form the schema forbids)")]),
    ({1: "x", "zz": 1}, [("s.1", "keys must be strings, got a number"),
                         ("s.zz", "unknown field 'zz'; known fields: port, note, replicas, ratio, tags, ports, "
                                  "object, either, some, all, big")]),
])
def test_structural_schema_features(monkeypatch, value, expected):
    monkeypatch.setitem(openapi._SCHEMAS, "Synthetic", SYNTHETIC)
    assert openapi.validate("Synthetic", value, "s") == expected
