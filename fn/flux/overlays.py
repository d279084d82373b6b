"""Spec overlays: Flux fields a config gives as plain mappings (bundle
`kustomization`, helm `release`, source `spec`, `bootstrap.instance`, and the
defaults' `kustomization` / `helm.release`), each checked against the shipped
Flux v2.9 CRD schema of its kind (fn/flux/openapi.py) with config field paths.

An overlay is a part of a spec, merged over the one kure-fn generates: no
field is required in it, except inside list entries (a list replaces the
generated one whole). A field kure-fn derives (`DERIVED`) has one owner, a
typed field, and is an error in an overlay. The same reading of the CRD
schema (`overlay_schema`) is exported as JSON Schema for editors
(`json_definitions`).

The CRD schemas are read only when a config has an overlay.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model.cluster import SOURCE_KINDS, Cluster
from ..model.schema import Problem, join

# kind -> dotted spec field -> the typed field(s) that own it
DERIVED: dict[str, dict[str, str]] = {
    "Kustomization": {
        "path": "the bundle's place in the tree (spec.layout and the nodes), or an external "
                "bundle's `path`",
        "sourceRef": "an external bundle's `source` (or its node's), or spec.flux.sourceRef",
        "dependsOn": "the bundle's `dependsOn`",
    },
    "HelmRelease": {
        "chart": "helm `chart`, `version` and `repository` or `source`",
        "chartRef": "helm `repository` (an oci:// chart) or `source`",
        "dependsOn": "helm `dependsOn`",
        "targetNamespace": "helm `targetNamespace` (or the application's `namespace`)",
        "values": "helm `values` (kure-fn moves them into a ConfigMap with valuesConfigMap)",
        "valuesFrom": "helm `valuesFrom` (kure-fn adds the values ConfigMap to it)",
    },
    "FluxInstance": {
        "sync.path": "spec.layout.root (the tree's directory)",
    },
    "ArtifactGenerator": {
        "sources": "the artifact source's `sources` (alias: source name)",
        "artifacts": "the artifact source's `artifacts`",
    },
}

# kinds whose overlay may set a top-level field to null: the field is not
# written, Flux's own default applies (a Kustomization's `wait`, false)
LEAVES_OUT = ("Kustomization",)

OVERLAY_KINDS = ("Kustomization", "HelmRelease", "GitRepository", "OCIRepository",
                 "HelmRepository", "Bucket", "ArtifactGenerator", "FluxInstance")


def sites(cluster: Cluster) -> Iterator[tuple[str, str, object]]:
    """Every overlay a config gives: (Flux kind, config field path, value).
    The defaults' overlays (spec.flux.defaults, nodes[].defaults) first."""
    spec = cluster.spec
    yield from _defaults_sites(spec.flux.defaults, "spec.flux.defaults")
    for i, s in enumerate(spec.sources):
        if s.spec is not None:
            typ = next(t for t in SOURCE_KINDS if getattr(s, t) is not None)
            yield SOURCE_KINDS[typ], f"spec.sources[{i}].spec", s.spec
    if spec.bootstrap is not None and spec.bootstrap.instance is not None:
        yield "FluxInstance", "spec.bootstrap.instance", spec.bootstrap.instance
    for i, node in enumerate(spec.nodes):
        yield from _node_sites(node, f"spec.nodes[{i}]")


def _node_sites(node, path: str) -> Iterator[tuple[str, str, object]]:
    yield from _defaults_sites(node.defaults, f"{path}.defaults")
    for i, b in enumerate(node.bundles):
        bpath = f"{path}.bundles[{i}]"
        if b.kustomization is not None:
            yield "Kustomization", f"{bpath}.kustomization", b.kustomization
        for j, app in enumerate(b.applications):
            if app.helm is not None and app.helm.release is not None:
                yield "HelmRelease", f"{bpath}.applications[{j}].helm.release", app.helm.release
    for i, child in enumerate(node.children):
        yield from _node_sites(child, f"{path}.children[{i}]")


def _defaults_sites(defaults, path: str) -> Iterator[tuple[str, str, object]]:
    if defaults is None:
        return
    if defaults.kustomization is not None:
        yield "Kustomization", f"{path}.kustomization", defaults.kustomization
    if defaults.helm is not None and defaults.helm.release is not None:
        yield "HelmRelease", f"{path}.helm.release", defaults.helm.release


def validate(cluster: Cluster) -> list[Problem]:
    """Every problem of every overlay of `cluster`; reads no schema when it has none."""
    problems: list[Problem] = []
    for kind, path, value in sites(cluster):
        problems += check(kind, value, path)
    for app in cluster.applications():  # typed, but passed through: checked as a part of the spec
        if app.helm is not None and app.helm.postRenderers:
            problems += check("HelmRelease", {"postRenderers": app.helm.postRenderers}, f"{app.path}.helm")
    return problems


def check(kind: str, value: object, path: str) -> list[Problem]:
    """The problems of one overlay of a `kind` spec at config field `path`."""
    from . import openapi
    problems = []
    if kind in LEAVES_OUT and isinstance(value, dict):
        required = _required(kind)
        for k in [k for k, v in value.items() if v is None]:
            if k in required:
                problems.append(Problem(join(path, k), f"{k} is required by Flux: a null cannot "
                                                       "leave it out"))
        value = {k: v for k, v in value.items() if v is not None}
    for field, owner in DERIVED.get(kind, {}).items():
        if _has(value, field):
            problems.append(Problem(join(path, field), f"{field} is written by kure-fn from {owner}; "
                                                       "set that instead (each Flux field has one owner)"))
            value = _without(value, field.split("."))
    problems += [Problem(p, m) for p, m in openapi.check(overlay_schema(kind), value, path)]
    return problems


def _required(kind: str) -> tuple:
    """The top-level spec fields the CRD of `kind` requires."""
    from . import openapi
    return tuple(openapi.schema(kind).get("required") or ())


def _has(value: dict, dotted: str) -> bool:
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _without(value: dict, keys: list[str]) -> dict:
    """A copy of `value` without the field at `keys` (reported on its own)."""
    if len(keys) == 1:
        return {k: v for k, v in value.items() if k != keys[0]}
    return {**value, keys[0]: _without(value[keys[0]], keys[1:])}


# -- the CRD schema, read as an overlay's ---------------------------------------------

_OVERLAY_SCHEMAS: dict[str, dict] = {}


def overlay_schema(kind: str) -> dict:
    """`kind`'s spec schema as an overlay reads it: derived fields removed,
    nothing required along the mappings from the root (list entries keep
    their `required`), CEL rules there that name a removed field dropped and
    the others judged only on the fields the overlay gives."""
    if kind not in _OVERLAY_SCHEMAS:
        from . import openapi
        _OVERLAY_SCHEMAS[kind] = _partial(openapi.schema(kind), set(DERIVED.get(kind, ())), "")
    return _OVERLAY_SCHEMAS[kind]


def _partial(s: dict, derived: set[str], here: str) -> dict:
    s = {k: v for k, v in s.items() if k != "required"}
    props = s.get("properties")
    if props:
        removed = [k for k in props if join(here, k) in derived]
        s["properties"] = {k: _partial(v, derived, join(here, k)) if v.get("type") == "object" else v
                           for k, v in props.items() if k not in removed}
        rules = [r for r in s.get("x-kubernetes-validations") or ()
                 if not any(f"self.{k}" in r.get("rule", "") for k in removed)]
        if "x-kubernetes-validations" in s:
            s["x-kubernetes-validations"] = rules
    if s.get("x-kubernetes-validations"):
        s["x-kure-partial"] = True  # a rule that reads an absent field passes (fn/flux/openapi.py)
    return s


# -- JSON Schema for editors (`kure-fn schema`) ----------------------------------------

# (config object title, field) -> the Flux kind of the overlay it holds; a
# declared source's `spec` takes the kind of its type (SOURCE_KINDS)
SCHEMA_SITES = {("Bundle", "kustomization"): "Kustomization",
                ("HelmApplication", "release"): "HelmRelease",
                ("Bootstrap", "instance"): "FluxInstance"}


def definition_name(kind: str) -> str:
    return f"{kind}Overlay"


def schema_extension():
    """The overlays' JSON Schema: one definition per kind, built from the
    shipped CRD schema as `overlay_schema` reads it, closed where the CRD is;
    a source's `spec` is chosen by the source's type."""
    from ..model.schema import SchemaExtension
    from . import openapi
    ref = {kind: {"$ref": f"#/definitions/{definition_name(kind)}"} for kind in OVERLAY_KINDS}
    fields = {site: ref[kind] for site, kind in SCHEMA_SITES.items()}
    fields["HelmApplication", "postRenderers"] = {
        "type": "array", "description": "post-renderers applied to the rendered chart, as in Flux",
        "items": {"$ref": f"#/definitions/{definition_name('HelmRelease')}/properties/postRenderers/items"}}
    fields["Source", "spec"] = {"type": "object", "description": "overlay: Flux source spec fields, "
                                "merged over the generated spec (the kind follows the source type)"}
    all_of = {"Source": [{"if": {"required": [typ], "properties": {typ: {"type": "object"}}},
                          "then": {"properties": {"spec": {"anyOf": [ref[kind], {"type": "null"}]}}}}
                         for typ, kind in SOURCE_KINDS.items()]}
    definitions = {}
    for kind in OVERLAY_KINDS:
        s = _json_schema(overlay_schema(kind))
        if kind in LEAVES_OUT:  # null leaves a field out, but for those Flux requires
            required = _required(kind)
            s["properties"] = {k: v if k in required else {"anyOf": [v, {"type": "null"}]}
                               for k, v in s["properties"].items()}
        api = openapi.index()["kinds"][kind]["apiVersion"]
        s["description"] = (f"overlay: fields of a {kind} ({api}) .spec, merged over the one "
                            "kure-fn generates; fields kure-fn derives are set by their typed fields")
        definitions[definition_name(kind)] = s
    return SchemaExtension(fields=fields, all_of=all_of, definitions=definitions)


_JSON_KEYS = ("type", "description", "properties", "required", "items", "enum", "pattern",
              "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "default")
# what the shipped schemas hold besides (tests/test_overlays.py keeps the list true)
HANDLED = _JSON_KEYS + ("$comment", "additionalProperties",
                        "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations",
                        "x-kure-partial")


def _json_schema(s: dict) -> dict:
    """A Kubernetes structural schema as JSON Schema (draft 7), with the
    verdicts of fn/flux/openapi.py but for CEL rules: unknown fields are
    errors where the CRD is closed."""
    out = {k: s[k] for k in _JSON_KEYS if k in s}
    if "properties" in out:
        out["properties"] = {k: _json_schema(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _json_schema(out["items"])
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = _json_schema(extra)
    elif s.get("type") == "object" and extra is not True \
            and not s.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out
