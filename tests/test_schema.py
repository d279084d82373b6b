"""The published JSON Schema (schemas/cluster.schema.json, `kure-fn schema`)
and the model accept and reject the same documents: the examples and the
corpus in tests/schema_corpus/ are fed to both.

JSON Schema regular expressions are ECMA-262, where `$` (without the m flag)
matches only at the very end. Python's `re`, which the jsonschema package
uses, also matches `$` before a final newline; `ecma_validator` restores the
ECMA meaning (`$` → `\\Z`) so this test judges the schema as editors do.
"""

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from jsonschema import validators

from fn.krm import yamlio
from fn.model import config as cfg
from fn.model.profiles import Layer, resolve
from fn import ConfigError
from fn import load_cluster as build
from fn.registry import schema_text
from helpers import BIN, REPO, example_dirs

SCHEMA_FILE = REPO / "schemas" / "cluster.schema.json"
CORPUS = Path(__file__).parent / "schema_corpus"


def ecma_validator(schema: dict):
    def pattern(validator, patrn, instance, _schema):
        if validator.is_type(instance, "string") and not re.search(re.sub(r"(?<!\\)\$", r"\\Z", patrn),
                                                                   instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")
    return validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})(schema)


VALIDATOR = ecma_validator(json.loads(SCHEMA_FILE.read_text()))


def corpus(name: str) -> list:
    """(comment, document) pairs of a corpus file, loaded as kure-fn loads YAML."""
    text = (CORPUS / name).read_text()
    comments = re.findall(r"^# (.+)$", text, re.M)
    docs = [yamlio.to_python(n) for n in yamlio.compose_all(text)]
    assert len(comments) == len(docs), f"{name}: one leading comment per document"
    return [pytest.param(doc, id=comment) for comment, doc in zip(comments, docs)]


def example_documents() -> list:
    """Every kure-fn document of every example, as written: Clusters (the
    fleet holds several, with profiles) and Profiles."""
    out = []
    for pkg in example_dirs():
        for f in sorted(pkg.rglob("*.yaml")):
            for node in yamlio.compose_all(f.read_text()):
                doc = yamlio.to_python(node)
                if isinstance(doc, dict) and doc.get("kind") in ("Cluster", "Profile"):
                    out.append((f"{pkg.name}/{f.relative_to(pkg)}", doc))
    return out


def examples() -> list:
    """Every Cluster config of every example, merged with its profiles: what
    the model validates."""
    docs = example_documents()
    layers = {d["metadata"]["name"]: Layer(d["metadata"]["name"], d, name)
              for name, d in docs if d["kind"] == "Profile"}
    out = []
    for name, doc in docs:
        if doc["kind"] == "Cluster":
            merged = resolve(Layer(doc["metadata"]["name"], doc, name, "Cluster"), layers)
            assert not merged.problems, merged.problems
            out.append(pytest.param(merged.doc, id=name))
    return out


@pytest.mark.parametrize("doc", [pytest.param(d, id=n) for n, d in example_documents()])
def test_every_document_as_written_passes_the_schema(doc):
    """Profiles and clusters with profiles hold parts of a config: the schema
    checks their fields, but requires only names (editors see them too)."""
    assert schema_accepts(doc), [e.message for e in VALIDATOR.iter_errors(doc)]


def test_a_profile_with_a_typo_fails_the_schema():
    doc = {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Profile", "metadata": {"name": "p"},
           "spec": {"nodes": [{"name": "a", "bundles": [{"name": "b", "intervall": "5m"}]}]}}
    assert not schema_accepts(doc)
    doc["spec"]["nodes"][0]["bundles"][0] = {"name": "b", "interval": "5m"}
    assert schema_accepts(doc)
    del doc["spec"]["nodes"][0]["name"]  # a named entry keeps its name: the merge key
    assert not schema_accepts(doc)


def model_accepts(doc) -> bool:
    problems = []
    cfg.CLUSTER.validate(doc, "", problems)
    return not problems


def schema_accepts(doc) -> bool:
    return VALIDATOR.is_valid(doc)


def test_committed_schema_is_the_models():
    assert SCHEMA_FILE.read_text() == schema_text(), \
        "schemas/cluster.schema.json is stale: run `kure-fn schema > schemas/cluster.schema.json`"


def test_kure_fn_schema_prints_the_committed_schema():
    proc = subprocess.run([str(BIN / "kure-fn"), "schema"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout == SCHEMA_FILE.read_text()


def test_schema_is_valid_draft_7():
    jsonschema.Draft7Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("doc", examples() + corpus("good.yaml"))
def test_valid_configs_pass_schema_and_model(doc):
    assert schema_accepts(doc), [e.message for e in VALIDATOR.iter_errors(doc)]
    assert model_accepts(doc)
    build(doc)  # and the cross-field rules


@pytest.mark.parametrize("doc", corpus("bad.yaml"))
def test_bad_configs_fail_schema_and_model(doc):
    assert not model_accepts(doc)
    assert not schema_accepts(doc)


@pytest.mark.parametrize("doc", corpus("cross-field.yaml"))
def test_cross_field_rules_are_beyond_the_schema(doc):
    """What JSON Schema cannot say (names resolving, cycles, uniqueness across
    the tree): schema and field-level model accept, the full model rejects."""
    assert schema_accepts(doc) and model_accepts(doc)
    with pytest.raises(ConfigError):
        build(doc)


@pytest.mark.parametrize("doc", corpus("overlays.yaml"))
def test_bad_overlays_fail_schema_and_the_flux_engine(doc):
    """Overlays are free-form for the field-level model; the Flux engine checks
    them against the CRD schemas, and the JSON Schema carries those too."""
    assert model_accepts(doc)
    assert not schema_accepts(doc)
    with pytest.raises(ConfigError):
        build(doc)


def test_a_profile_with_a_bad_overlay_fails_the_schema():
    doc = {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Profile", "metadata": {"name": "p"},
           "spec": {"nodes": [{"name": "a", "bundles": [{"name": "b", "kustomization": {"wait": 1}}]}]}}
    assert not schema_accepts(doc)
    doc["spec"]["nodes"][0]["bundles"][0]["kustomization"] = {"wait": False}
    assert schema_accepts(doc)


def test_corpus_covers_every_part_of_the_schema():
    """Each object type of the config appears in the bad corpus at least once."""
    text = (CORPUS / "bad.yaml").read_text()
    for key in ("flux", "layout", "output", "sources", "nodes", "children", "bundles",
                "applications", "helm", "manifests", "resources", "bootstrap", "postBuild",
                "healthChecks", "patches", "decryption", "valuesFrom", "remediation",
                "kubeConfig", "healthCheckExprs", "upgrade", "strategy", "commonMetadata"):
        assert re.search(rf"\b{key}:", text), key
