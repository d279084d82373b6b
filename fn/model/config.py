"""The `fn.kure.dev/v1alpha1 Cluster` config, field by field.

This is `config-api.md` written as a schema: the same definition validates
configs, fills defaults, and is exported as JSON Schema (`kure-fn schema`).
Rules that relate several fields (names resolving, cycles) live in
`fn.model.rules`.
"""

from __future__ import annotations

import re

from .. import lazy
from .schema import (FILL, Any_, Bool, Field, Int, List, Obj, OneOf, Problem, SchemaExtension,
                     Str, StrMap, join, json_schema_document, yaml_text)

API_VERSION = "fn.kure.dev/v1alpha1"
API_GROUP = API_VERSION.split("/")[0]
KIND = "Cluster"

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DURATION = r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+"
ENV_VAR = r"[_a-zA-Z][_a-zA-Z0-9]*"

LABEL_HINT = ("use a DNS-1123 label: lower-case letters, digits and '-', "
              "starting and ending with a letter or digit")
SUBDOMAIN_HINT = ("use a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', "
                  "starting and ending with a letter or digit")
DURATION_HINT = ("write a Go duration such as 30s, 10m, 1h or 1h30m "
                 "(no days: write 24h instead of 1d)")

CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller",
               "notification-controller", "image-reflector-controller",
               "image-automation-controller", "source-watcher")


def label(doc: str = "", max_len: int = 63) -> Str:
    return Str(doc, pattern=DNS_LABEL, hint=LABEL_HINT, max_len=max_len, min_len=1)


def subdomain(doc: str = "", max_len: int = 253) -> Str:
    return Str(doc, pattern=DNS_SUBDOMAIN, hint=SUBDOMAIN_HINT, max_len=max_len, min_len=1)


def duration(doc: str = "") -> Str:
    return Str(doc, pattern=DURATION, hint=DURATION_HINT)


# _relative_dir and _repo_path as patterns, for the JSON Schema (same verdicts;
# tests/test_schema.py feeds both the same documents)
_SEGMENT = r"(?!\.\.?(?:/|$))[^/\\\s]+"
RELATIVE_DIR = rf"\.|{_SEGMENT}(?:/{_SEGMENT})*"
REPO_PATH = r"(?!/)(?![\s\S]*(?:^|/)\.\.(?:/|$))[\s\S]*"


def _relative_dir(value: str) -> str | None:
    if value.startswith("/"):
        return f"{value!r} is absolute; write a path relative to the repository root, e.g. clusters"
    parts = value.split("/")
    if ".." in parts:
        return f"{value!r} contains '..'; write a path inside the repository, e.g. clusters"
    if value != "." and any(p in ("", ".") for p in parts):
        return f"{value!r} has empty or '.' segments; write e.g. clusters or fleet/clusters"
    if "\\" in value or any(c.isspace() for c in value):
        return f"{value!r} contains a backslash or white space; use '/' between plain names"
    return None


def _repo_path(value: str) -> str | None:
    if value.startswith("/"):
        return f"{value!r} is absolute; write a path inside the source, e.g. ./deploy"
    if ".." in value.split("/"):
        return f"{value!r} contains '..'; write a path inside the source, e.g. ./deploy"
    return None


# A chart version: exact, or a semver constraint as Flux (Masterminds semver) reads it.
_VER = r"v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?"
_CONSTRAINT = rf"((!=|>=|=>|<=|=<|~>|[=<>~^])\s*)?{_VER}"
_TERM = rf"({_VER} +- +{_VER}|{_CONSTRAINT})"
_GROUP = rf"{_TERM}(( *, *| +){_TERM})*"
SEMVER_RANGE = lazy.compile(rf"{_GROUP}( *\|\| *{_GROUP})*")  # ~7 ms to compile: only when used
_ONE_VERSION = lazy.compile(_VER)  # a range of one version, the usual case: compiles in ~0.2 ms


def _chart_version(value: str) -> str | None:
    if value != value.strip():
        return f"{value!r} has leading or trailing white space; remove it"
    if not (_ONE_VERSION.fullmatch(value) or SEMVER_RANGE.fullmatch(value)):
        return (f"{value!r} is neither a chart version (1.16.1, v1.16.1) nor a semver range "
                "(>=1.16.0 <2.0.0, ~1.16, 1.x, *); to follow an OCI tag such as latest, declare an "
                "oci source with that tag and set helm.source")
    return None


SECRET_REF = Obj("SecretRef", {"name": Field(subdomain("name of a Secret in the Flux namespace"),
                                             required=True)},
                 "a Secret in the Flux namespace, as in Flux: {name: <secret>}")

# -- sources -----------------------------------------------------------------

GIT = Obj("GitSource", {
    "url": Field(Str("https:// or ssh:// URL of the repository", pattern=r"(https|http|ssh)://.+",
                     hint="use https://host/org/repo or ssh://git@host/org/repo "
                          "(scp-style git@host:org/repo is not accepted by Flux)"), required=True),
    "branch": Str("branch to follow (default main)", min_len=1),
    "tag": Str("tag to check out", min_len=1),
    "semver": Str("semver range of tags", min_len=1),
    "commit": Str("commit SHA", min_len=1),
    "secretRef": SECRET_REF,
    "interval": Field(duration("how often to fetch"), default="5m"),
    "ignore": Str("gitignore-style paths to exclude from the artifact"),
    "recurseSubmodules": Bool("also fetch submodules"),
}, "a GitRepository", at_most_one=(("branch", "tag", "semver", "commit"),))

OCI = Obj("OCISource", {
    "url": Field(Str("oci:// URL of the artifact", pattern=r"oci://.+",
                     hint="an OCIRepository URL starts with oci://"), required=True),
    "tag": Str("tag (default latest)", min_len=1),
    "semver": Str("semver range of tags", min_len=1),
    "digest": Str("digest (sha256:...)", min_len=1),
    "secretRef": SECRET_REF,
    "provider": Str("registry auth provider", enum=("generic", "aws", "azure", "gcp")),
    "interval": Field(duration("how often to fetch"), default="5m"),
    "layerSelector": Obj("LayerSelector", {
        "mediaType": Field(Str("layer media type", min_len=1), required=True),
        "operation": Str("extract or copy", enum=("extract", "copy")),
    }),
}, "an OCIRepository", at_most_one=(("tag", "semver", "digest"),))

HELM_REPO = Obj("HelmSource", {
    "url": Field(Str("https:// URL of the chart repository", pattern=r"https?://.+",
                     hint="a Helm repository URL starts with https://; for oci:// charts set "
                          "helm.repository to the chart's oci:// URL or declare an oci source"),
                 required=True),
    "secretRef": SECRET_REF,
    "interval": Field(duration("how often to fetch the index"), default="1h"),
    "passCredentials": Bool("pass credentials to chart hosts other than the repository's"),
}, "a HelmRepository")

BUCKET = Obj("BucketSource", {
    "bucketName": Field(Str("bucket name", min_len=1), required=True),
    "endpoint": Field(Str("endpoint host (and port)", min_len=1), required=True),
    "provider": Str("generic, aws, gcp or azure", enum=("generic", "aws", "gcp", "azure")),
    "region": Str("bucket region", min_len=1),
    "secretRef": SECRET_REF,
    "interval": Field(duration("how often to fetch"), default="5m"),
}, "a Bucket")

# An ArtifactGenerator (source.extensions.fluxcd.io/v1beta1, source-watcher):
# each artifact becomes an ExternalArtifact that bundles and helm charts name.
ALIAS = r"[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?"
ALIAS_HINT = ("an alias: at most 63 lower-case letters, digits, '-' and '_', starting and "
              "ending with a letter or digit")
_AT_ALIAS = rf"@{ALIAS}"
_TO = r"@artifact/([^/]{0,1}|[^./][^/]|[.][^./]|[^/]{3,})(/([^/]{0,1}|[^./][^/]|[.][^./]|[^/]{3,}))*"

ARTIFACT = Obj("ArtifactSource", {
    "sources": Field(StrMap("alias: the source it names (a declared git, oci or bucket source, "
                            "or the tree's own source by its name)",
                            key=Str(pattern=ALIAS, hint=ALIAS_HINT)), required=True),
    "artifacts": Field(List(Obj("Artifact", {
        "name": Field(subdomain("the ExternalArtifact's name: what a bundle's or helm "
                                "application's source names"), required=True),
        "originRevision": Str("@<alias> whose revision (a Git commit) the artifact records",
                              pattern=_AT_ALIAS, hint="write @ and a source alias, e.g. @monorepo"),
        "revision": Str("@<alias> whose revision the artifact takes (default: its content digest)",
                        pattern=_AT_ALIAS, hint="write @ and a source alias, e.g. @monorepo"),
        "copy": Field(List(Obj("ArtifactCopy", {
            "from": Field(Str("@<alias>/<glob>: the files to copy", pattern=rf"{_AT_ALIAS}/.*",
                              max_len=1024, hint="write @<alias>/<glob>, e.g. @monorepo/apps/**"),
                          required=True),
            "to": Field(Str("@artifact/<path>: where they go in the artifact", pattern=_TO,
                            max_len=1024, hint="write @artifact/<path> without '..', e.g. "
                                               "@artifact/apps/"), required=True),
            "exclude": List(Str("a glob to leave out", max_len=1024), "globs to leave out"),
            "strategy": Str("Overwrite (default), Merge (YAML) or Extract (tarballs)",
                            enum=("Overwrite", "Merge", "Extract")),
        }), "copy operations, in order", min_items=1), required=True),
    }), "the ExternalArtifacts it produces", min_items=1), required=True),
}, "an ArtifactGenerator: splits sources into ExternalArtifacts (needs source-watcher)")

SOURCE = Obj("Source", {
    "name": Field(subdomain("the source's name: the Flux object's name"), required=True),
    "git": GIT, "oci": OCI, "helm": HELM_REPO, "bucket": BUCKET, "artifact": ARTIFACT,
    # fluxNamespace (docs/config.md, Where Flux objects live)
    "namespace": label("namespace of the source object (default spec.flux.namespace)"),
    "spec": Any_("source spec fields, deep-merged over the spec kure-fn writes "
                 "(see docs/config.md, Flux fields: typed and overlays)", kind=dict),
}, "a named source", exactly_one=(("git", "oci", "helm", "bucket", "artifact"),))

# -- applications ------------------------------------------------------------

VALUES_FROM = Obj("ValuesReference", {
    "kind": Field(Str(enum=("ConfigMap", "Secret")), required=True),
    "name": Field(subdomain("the ConfigMap or Secret (in the HelmRelease's namespace)"), required=True),
    "valuesKey": Str("key that holds the values (default values.yaml)", min_len=1),
    "targetPath": Str("where to put the value in the values tree", min_len=1, max_len=250,
                      pattern=r"([a-zA-Z0-9_\-.\\/]|\[[0-9]{1,5}\])+",
                      hint="a dotted path such as a.b[0].c"),
    "optional": Bool("do not fail when the object is missing"),
})

# -- dependsOn: a name of this config, or an object outside it -------------------

def depends_on(what: str, doc: str, list_doc: str) -> List:
    """A dependsOn list: a name of this config, or {name, namespace} of a
    Flux object outside it (not checked; written as given)."""
    ref = Obj(f"{what}Reference", {
        "name": Field(subdomain(f"the {what}'s name"), required=True),
        "namespace": label(f"the {what}'s namespace (default: the dependent's own)"),
    }, f"a {what}: one of this config when name and namespace match it, else one outside "
       "the config that must exist (not checked)")
    return List(OneOf(label(f"a {doc} of this cluster"), ref), list_doc,
                unique=True)

class Manifest(Any_):  # here, ahead of its checks below, for helm.pre / helm.post
    def validate(self, value, path, errors):
        if not isinstance(value, dict):
            errors.append(Problem(path, "expected a Kubernetes object (a mapping)"))
            return value
        _check_manifest(value, path, errors)
        return value

    def json_schema(self, ctx):
        return self._schema({"type": "object", "required": ["apiVersion", "kind", "metadata"],
                             "properties": {"apiVersion": {"type": "string", "minLength": 1, "pattern": NOT_OURS},
                                            "kind": {"type": "string", "pattern": f"^{KIND_NAME}$"},
                                            "metadata": {"type": "object", "required": ["name"],
                                                         "properties": {"name": {"type": "string", "pattern": OBJECT_NAME},
                                                                        "namespace": {"type": "string", "pattern": f"^(?:{DNS_LABEL})?$", "maxLength": 63}}}}})

# -- image automation (platform.md): the tag a helm application's values carry --
IMAGE = Obj("HelmImage", {
    "repository": Field(Str("the image repository the chart runs, e.g. ghcr.io/org/app",
                            pattern=r"[^\s:/]+(/[^\s:/]+)*(:[0-9]+)?(/[^\s:/]+)*",
                            hint="write registry/path without a tag or scheme, "
                                 "e.g. ghcr.io/stefanprodan/podinfo", max_len=512),
                        required=True),
    "policy": Field(Obj("ImagePolicyChoice", {
        "semver": Str("semver range of tags, e.g. >=6.0.0", min_len=1),
        "alphabetical": Str("tag order", enum=("asc", "desc")),
        "numerical": Str("tag order", enum=("asc", "desc")),
        "filterTags": Obj("FilterTags", {
            "pattern": Field(Str("regular expression the tags must match", min_len=1),
                             required=True),
            "extract": Str("what to compare, e.g. $ts", min_len=1),
        }, "only tags matching pattern, as Flux's ImagePolicy filterTags"),
    }, "how Flux picks the newest tag", exactly_one=(("semver", "alphabetical", "numerical"),)),
        required=True),
    "valuesPath": Field(Str("the values key that holds the tag (dotted)", min_len=1,
                            pattern=r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*",
                            hint="a dotted path of mapping keys such as image.tag"),
                        default="image.tag"),
    "secretRef": SECRET_REF,
}, "an image whose tag Flux image automation keeps current (needs spec.imageAutomation)")

HELM_APP = Obj("HelmApplication", {
    "chart": Str("chart name; for a git or bucket source, the chart's path inside it", min_len=1),
    "version": Str("chart version: exact (1.16.1, v1.16.1) or a semver range (>=1.16.0 <2.0.0)",
                   min_len=1, check=_chart_version),
    "repository": Str("https:// chart repository, or the oci:// URL of the chart",
                      pattern=r"(https?|oci)://.+",
                      hint="use https://charts.example.com or oci://registry/path/chart"),
    "source": Str("a declared helm, git, oci or bucket source, or an artifact of an artifact "
                  "source (the chart itself), instead of repository", min_len=1),
    "releaseName": Str("Helm release name (default: the application name)", pattern=DNS_SUBDOMAIN,
                       hint=SUBDOMAIN_HINT, max_len=53, min_len=1),
    "targetNamespace": label("namespace to install into (default: the application namespace)"),
    "createNamespace": Bool("create the target namespace (default true)"),
    "values": Any_("chart values, passed through exactly", kind=dict),
    "valuesConfigMap": Bool("keep values out of the HelmRelease: write them to a ConfigMap "
                            "<application>-values (key values.yaml) referenced first in valuesFrom"),
    "valuesFrom": List(VALUES_FROM, "values from ConfigMaps and Secrets, merged in order"),
    "crds": Str("CRD policy on install and upgrade", enum=("Create", "CreateReplace", "Skip")),
    "remediation": Obj("Remediation", {
        "retries": Int("install and upgrade remediation retries (negative: forever)", minimum=-1),
    }),
    "interval": duration("how often helm-controller reconciles the release"),
    "chartInterval": duration("how often the release's HelmChart checks its source for the "
                              "chart (chart.spec.interval); an oci:// chart comes through "
                              "chartRef and has none"),
    "timeout": duration("timeout of Helm actions"),
    "driftDetection": Str("drift detection mode", enum=("enabled", "warn", "disabled")),
    "serviceAccountName": Str("service account to impersonate", min_len=1),
    "dependsOn": depends_on("HelmRelease", "helm application", "helm applications to install first"),
    "release": Any_("HelmRelease spec fields, deep-merged over the spec kure-fn writes "
                    "(see docs/config.md, Flux fields: typed and overlays)", kind=dict),
    # typed Flux fields (docs/config.md, "Flux fields: typed and overlays")
    "strategy": Str("what Helm does after a failed install or upgrade: RetryOnFailure retries "
                    "without rollback, RemediateOnFailure remediates (rolls back)",
                    enum=("RetryOnFailure", "RemediateOnFailure")),
    "test": Obj("HelmTest", {
        "enable": Field(Bool("run the chart's Helm tests after install and upgrade"), default=True),
        "ignoreFailures": Bool("a failed test does not fail the release"),
        "timeout": duration("timeout of the tests"),
    }, "Helm tests: test: {} runs them"),
    "postRenderers": List(Any_("a Flux post-renderer, e.g. {kustomize: {patches: [...]}}", kind=dict),
                          "post-renderers applied to the rendered chart, as in Flux"),
    "upgrade": Obj("HelmUpgrade", {
        "cleanupOnFail": Bool("delete new resources created by a failed upgrade"),
        "force": Bool("replace resources on upgrade (delete and recreate when needed)"),
        "preserveValues": Bool("reuse the last release's values and merge in the new ones"),
        "disableWait": Bool("do not wait for resources to be ready"),
        "disableHooks": Bool("do not run chart hooks"),
    }, "Helm upgrade options"),
    "maxHistory": Int("release revisions Helm keeps (0: no limit; Flux default 5)", minimum=0),
    "suspend": Bool("suspend reconciliation of the release"),
    # helm.pre / helm.post (platform.md): applied by the Kustomizations <bundle>-pre / -post
    "pre": List(Manifest("a Kubernetes object"), "objects applied before the bundle, by its "
                "Kustomization <bundle>-pre (e.g. a namespace or secret the chart needs)"),
    "post": List(Manifest("a Kubernetes object"), "objects applied once the bundle and its "
                 "releases are Ready, by its Kustomization <bundle>-post (e.g. custom resources "
                 "of the chart's CRDs)"),
    "image": IMAGE,
}, "a HelmRelease", at_most_one=(("repository", "source"),))


KIND_NAME = r"[A-Za-z][A-Za-z0-9]*"
NOT_OURS = rf"^(?!{re.escape(API_GROUP)}(/|$))"  # an inline manifest is never a kure-fn config
OBJECT_NAME = r"^(?!\.\.?$)[^/%]+$"  # Kubernetes' rule for every kind: not . or .., no / or %


def _check_manifest(m: dict, path: str, errors: list[Problem]) -> None:
    for key in ("apiVersion", "kind"):
        if not isinstance(m.get(key), str) or not m.get(key):
            errors.append(Problem(join(path, key), f"{key} is required: every inline manifest "
                                                   "needs apiVersion, kind and metadata.name"))
    if isinstance(m.get("apiVersion"), str) and not re.search(NOT_OURS, m["apiVersion"]):
        errors.append(Problem(join(path, "apiVersion"), f"{m['apiVersion']} is kure-fn's own config "
                                                        "API, not a Kubernetes object: written into "
                                                        "the tree, the next run would read it as a "
                                                        "config of its own; remove it from manifests"))
    if isinstance(m.get("kind"), str) and not re.fullmatch(KIND_NAME, m["kind"]):
        errors.append(Problem(join(path, "kind"), f"{m['kind']!r} is not a kind; write a "
                                                  "Kubernetes kind such as ConfigMap"))
    meta = m.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(name, (bool, int, float)):
        errors.append(Problem(join(path, "metadata.name"), "metadata.name must be a string, got "
                              f"{yaml_text(name)}; quote it: \"{yaml_text(name)}\""))
        return
    if not isinstance(name, str) or not name:
        errors.append(Problem(join(path, "metadata.name"), "metadata.name is required: every "
                                                           "inline manifest needs a name"))
        return
    name = meta["name"]
    if not re.search(OBJECT_NAME, name):
        errors.append(Problem(join(path, "metadata.name"), f"{name!r} cannot name a Kubernetes "
                                                           "object; write a name such as my-config"))
    if "namespace" in meta and not isinstance(meta["namespace"], str):
        errors.append(Problem(join(path, "metadata.namespace"), "expected a string"))
    elif meta.get("namespace"):  # "" means "not set"
        NAMESPACE.validate(meta["namespace"], join(path, "metadata.namespace"), errors)


NAMESPACE = label("a namespace")


SELECTOR = Obj("ResourceSelector", {
    "kinds": List(Str(min_len=1), "any of these kinds"),
    "names": List(Str(min_len=1), "any of these names"),
    "namespaces": List(Str(), "any of these namespaces"),
    "matchLabels": StrMap("all of these labels"),
    "matchAnnotations": StrMap("all of these annotations"),
})

APPLICATION = Obj("Application", {
    "name": Field(label("the application's directory name, unique within its bundle"), required=True),
    "namespace": Str("default namespace for namespaced objects that have none (\"\" opts out)",
                     pattern=f"({DNS_LABEL})?", hint=LABEL_HINT, max_len=63),
    "helm": HELM_APP,
    "manifests": List(Manifest("a Kubernetes object"), "inline Kubernetes objects"),
    "resources": Obj("Resources", {"selector": Field(SELECTOR, required=True)},
                     "objects taken from the input package"),
    "enabled": Bool("false removes this application (defined by a profile) from this cluster"),
    # fluxNamespace (docs/config.md, Where Flux objects live)
    "fluxNamespace": label("helm applications: namespace of the HelmRelease, its chart source "
                           "and values ConfigMap (default: the bundle's fluxNamespace)"),
}, exactly_one=(("helm", "manifests", "resources"),))

# -- bundles and nodes -------------------------------------------------------

HEALTH_CHECK = Obj("HealthCheck", {
    "apiVersion": Str(min_len=1), "kind": Field(Str(min_len=1), required=True),
    "name": Field(Str(min_len=1), required=True), "namespace": Str(min_len=1),
})

PATCH = Obj("Patch", {
    "patch": Field(Str("a strategic-merge or JSON6902 patch", min_len=1), required=True),
    "target": Obj("PatchTarget", {k: Str(min_len=1) for k in (
        "group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")}),
})

BUNDLE = Obj("Bundle", {
    "name": Field(label("the Flux Kustomization's name, unique in the cluster"), required=True),
    "dependsOn": depends_on("Kustomization", "bundle", "bundles to reconcile first"),
    "interval": duration("reconcile interval"),
    "retryInterval": duration("retry interval after a failure"),
    "timeout": duration("timeout of build, apply and health checks"),
    "prune": Bool("delete objects removed from the bundle"),
    "wait": Bool("wait for every applied object to be ready"),
    "force": Bool("recreate objects on immutable field changes"),
    "suspend": Bool("suspend reconciliation"),
    "targetNamespace": label("namespace for every object of the bundle"),
    "serviceAccountName": Str("service account to impersonate", min_len=1),
    "healthChecks": List(HEALTH_CHECK, "objects whose readiness the bundle waits for"),
    "postBuild": Obj("PostBuild", {
        "substitute": StrMap("variables to substitute; values are strings",
                             key=Str(pattern=ENV_VAR, hint="variable names use letters, digits and _")),
        "substituteFrom": List(Obj("SubstituteReference", {
            "kind": Field(Str(enum=("ConfigMap", "Secret")), required=True),
            "name": Field(subdomain(), required=True),
            "optional": Bool(),
        })),
    }),
    "decryption": Obj("Decryption", {
        "provider": Field(Str(enum=("sops",)), required=True),
        "secretRef": SECRET_REF,
    }),
    "patches": List(PATCH, "patches applied to the bundle's objects"),
    "components": List(Str(min_len=1), "kustomize components, relative to the bundle directory"),
    "labels": StrMap("labels of the Flux Kustomization"),
    "annotations": StrMap("annotations of the Flux Kustomization"),
    "tenant": label("a tenant of spec.tenants: the bundle reconciles as that tenant, in its namespace"),
    "source": Str("source of an external bundle (one with path): a declared source, an artifact "
                  "of an artifact source, or the tree's own source by its name (also the "
                  "default when neither the bundle nor a node above sets one)", min_len=1),
    "path": Str("external bundle: this path inside its source", min_len=1, check=_repo_path,
                schema_pattern=REPO_PATH, hint="a path inside the source: not absolute, no '..'"),
    "applications": List(APPLICATION, "what the bundle renders"),
    # typed Flux fields (docs/config.md, "Flux fields: typed and overlays")
    "healthCheckExprs": List(Obj("HealthCheckExpr", {
        "apiVersion": Field(Str("apiVersion of the kind, e.g. cert-manager.io/v1", min_len=1),
                            required=True),
        "kind": Field(Str("the kind the expressions judge", min_len=1), required=True),
        "current": Field(Str("CEL: true when the object is ready", min_len=1), required=True),
        "failed": Str("CEL: true when the object failed", min_len=1),
        "inProgress": Str("CEL: true while the object is progressing", min_len=1),
    }), "CEL health checks of custom kinds"),
    "deletionPolicy": Str("what happens to the objects when the Kustomization is deleted",
                          enum=("MirrorPrune", "Delete", "WaitForTermination", "Orphan")),
    "commonMetadata": Obj("CommonMetadata", {
        "labels": StrMap("labels added to every object of the bundle"),
        "annotations": StrMap("annotations added to every object of the bundle"),
    }),
    "namePrefix": Str("prefix of every object name of the bundle", min_len=1, max_len=200),
    "nameSuffix": Str("suffix of every object name of the bundle", min_len=1, max_len=200),
    "kubeConfig": Obj("KubeConfig", {
        "secretRef": Obj("KubeConfigSecretRef", {
            "name": Field(subdomain("a Secret in the Flux namespace"), required=True),
            "key": Str("the key that holds the kubeconfig (default value or value.yaml)", min_len=1),
        }),
        "configMapRef": Obj("KubeConfigConfigMapRef", {
            "name": Field(subdomain("a ConfigMap in the Flux namespace"), required=True),
        }),
    }, "apply the bundle to a remote cluster", exactly_one=(("secretRef", "configMapRef"),)),
    "enabled": Bool("false removes this bundle (defined by a profile) from this cluster"),
    # fluxNamespace (docs/config.md, Where Flux objects live)
    "fluxNamespace": label("namespace of the bundle's Kustomization and, by default, of its "
                           "helm applications' Flux objects (default: the node's)"),
    "kustomization": Any_("Kustomization spec fields, deep-merged over the spec kure-fn writes "
                          "(see docs/config.md, Flux fields: typed and overlays)", kind=dict),
})

# -- defaults: spec.flux.defaults and a node's defaults, one definition --------

# helm application fields that name what is installed, not how: never a default
HELM_IDENTITY = ("chart", "version", "repository", "source", "releaseName", "targetNamespace",
                 "dependsOn",
                 "fluxNamespace",  # where the objects live: set on a node or a bundle instead
                 "pre", "post", "image")  # objects and images of one release
KUSTOMIZATION_DEFAULTS = {"interval": "10m", "prune": True, "wait": True}  # what Flux requires


def defaults_obj(title: str, doc: str, filled: bool) -> Obj:
    """The defaults of bundles and helm applications: `filled` (spec.flux.defaults)
    holds kure-fn's own defaults, a node's holds nothing (unset = inherit)."""
    def typed(t, key):
        if filled and key in KUSTOMIZATION_DEFAULTS:
            return Field(t, default=KUSTOMIZATION_DEFAULTS[key])
        return Field(t)
    return Obj(title, {
        "interval": typed(duration("reconcile interval of every bundle"), "interval"),
        "retryInterval": typed(duration("retry interval after a failure (unset: Flux's)"),
                               "retryInterval"),
        "timeout": typed(duration("timeout of build, apply and health checks (unset: Flux's)"),
                         "timeout"),
        "prune": typed(Bool("delete objects removed from a bundle"), "prune"),
        "wait": typed(Bool("wait for every applied object to be ready"), "wait"),
        "kustomization": Any_("Kustomization spec fields for every bundle", kind=dict),
        "helm": Obj(f"{title}Helm", {k: Field(f.type) for k, f in HELM_APP.fields.items()
                                     if k not in HELM_IDENTITY},
                    "helm application fields for every helm application (values deep-merge)"),
    }, doc)

NODE = Obj("Node", lambda node: {
    "name": Field(label("one directory level"), required=True),
    "source": Str("default source for external bundles below", min_len=1),
    "bundles": List(BUNDLE),
    "children": List(node, "child nodes"),
    "tenant": label("default tenant of the bundles below"),
    # fluxNamespace (docs/config.md, Where Flux objects live)
    "fluxNamespace": label("namespace of the Flux objects of this subtree (default: the parent "
                           "node's, else spec.flux.namespace)"),
    "defaults": defaults_obj("NodeDefaults", "defaults of this subtree's bundles and helm "
                                             "applications, over the parent's", filled=False),
}, "a node of the tree")

# -- tenants (flux create tenant) --------------------------------------------

TENANT_ROLE_DEFAULT = "admin"
TENANT = Obj("Tenant", {
    "name": Field(label("the tenant: its ServiceAccount in each of its namespaces"), required=True),
    "namespaces": List(NAMESPACE, "the tenant's namespaces (default: [name]); its bundles' Flux "
                       "objects live in the first", unique=True, min_items=1),
    "role": Field(Str("ClusterRole bound to the tenant in each of its namespaces "
                      "(cluster-admin is refused)", pattern=OBJECT_NAME, min_len=1,
                      hint="write a ClusterRole's name, such as admin or edit"),
                  default=TENANT_ROLE_DEFAULT),
}, "a tenant, as `flux create tenant` makes it: per namespace a Namespace, a ServiceAccount and "
   "a RoleBinding")

# -- the cluster -------------------------------------------------------------

SOURCE_REF = Obj("SourceRef", {
    "kind": Str("default: the bootstrap sync kind, else GitRepository",
                enum=("GitRepository", "OCIRepository", "Bucket")),
    "name": subdomain("default: the Flux namespace's name, as bootstrap creates it"),
}, "the source that holds this generated tree")

FLUX = Obj("Flux", {
    "namespace": Field(label("namespace of bootstrap, the tree's source and every Flux object "
                             "without a fluxNamespace"), default="flux-system"),
    "placement": Field(Str("where bundle Kustomizations are written",
                           enum=("separate", "integrated")), default="separate"),
    "sourceRef": Field(SOURCE_REF, default=FILL),
    "defaults": Field(defaults_obj("Defaults", "applied to every bundle and helm application "
                                               "unless a node or the bundle sets it",
                                   filled=True), default=FILL),
    # fluxNamespace (docs/config.md, Where Flux objects live)
    "crossNamespaceRefs": Field(Bool("false: the controllers run with --no-cross-namespace-refs; "
                                     "every reference kure-fn writes must stay in one namespace"),
                                default=True),
})

LAYOUT = Obj("Layout", {
    "root": Field(Str("directory of the tree, relative to the repository root", min_len=1,
                      check=_relative_dir, schema_pattern=RELATIVE_DIR,
                      hint="a relative path: no leading '/', no '..', '.' or empty segments, "
                           "no backslash or white space; '.' is the repository root"),
                  default="clusters"),
    "kustomizationMode": Field(Str(enum=("explicit", "recursive")), default="explicit"),
    "fileNaming": Field(Str(enum=("namespaced", "kind-name")), default="namespaced"),
})

BOOTSTRAP = Obj("Bootstrap", {
    "mode": Field(Str(enum=("flux-operator", "gotk")), default="flux-operator"),
    "fluxVersion": Field(Str("Flux version or range, e.g. 2.9.x", min_len=1), required=True),
    "registry": Str("container registry of the Flux images (default ghcr.io/fluxcd)", min_len=1),
    "components": List(Str(enum=CONTROLLERS), "Flux controllers to run", unique=True),
    "sync": Obj("Sync", {
        "kind": Field(Str(enum=("GitRepository", "OCIRepository")), default="GitRepository"),
        "url": Field(Str("URL of the repository that holds this tree", min_len=1,
                         pattern=r"(https?|ssh|oci)://.+",
                         hint="use https://, ssh:// or (for OCIRepository) oci://"), required=True),
        "ref": Str("git: refs/heads/<branch> or refs/tags/<tag>; oci: a tag", min_len=1),
        "secretRef": SECRET_REF,
    }),
    "instance": Any_("FluxInstance spec fields, deep-merged over the spec kure-fn writes "
                     "(flux-operator mode; see docs/config.md, Flux fields: typed and overlays)", kind=dict),
})

SYNC_OPTION = r"[A-Za-z][A-Za-z0-9]*=.+"
DEFAULT_SYNC_OPTIONS = ("CreateNamespace=true", "ServerSideApply=true")


def _repo_url(value: str) -> str | None:
    if any(value.startswith(p) for p in ("https://", "http://", "ssh://", "oci://")):
        return None
    if "@" in value and ":" in value.split("@", 1)[1] and "://" not in value:
        return None  # scp-style git@host:org/repo, which Argo CD accepts
    return (f"{value!r} is not a repository URL; write https://host/org/repo.git, "
            "ssh://git@host/org/repo.git or git@host:org/repo.git")


ARGOCD = Obj("ArgoCD", {
    "namespace": Field(label("namespace of every generated Application: where Argo CD runs"),
                       default="argocd"),
    "project": Field(subdomain("AppProject of every generated Application"), default="default"),
    "repoURL": Str("the repository that holds this generated tree (required with gitops: argocd)",
                   min_len=1, check=_repo_url),
    "targetRevision": Field(Str("branch, tag or commit of repoURL to sync", min_len=1),
                            default="HEAD"),
    "destination": Obj("Destination", {
        "server": Str("API server URL of the target cluster (default https://kubernetes.default.svc)",
                      pattern=r"https?://.+", hint="write the API server's URL, e.g. "
                                                  "https://kubernetes.default.svc"),
        "name": Str("name of the target cluster as registered in Argo CD", min_len=1),
    }, "the cluster bundles and helm applications deploy to", at_most_one=(("server", "name"),)),
    "syncPolicy": Field(Obj("SyncPolicy", {
        "automated": Field(Obj("Automated", {
            "enabled": Field(Bool("sync automatically (false: manual syncs only)"), default=True),
            "prune": Field(Bool("delete resources removed from the tree (a bundle's prune overrides)"),
                           default=True),
            "selfHeal": Field(Bool("revert changes made in the cluster"), default=True),
        }), default=FILL),
        "syncOptions": Field(List(Str("an Argo CD sync option such as CreateNamespace=true",
                                      pattern=SYNC_OPTION, hint="write Name=value, e.g. "
                                                                "ServerSideApply=true"),
                                  "sync options of every Application", unique=True),
                             default=list(DEFAULT_SYNC_OPTIONS)),
        "retry": Obj("Retry", {
            "limit": Int("failed sync attempts to retry (negative: forever)", minimum=-1),
            "backoff": Obj("Backoff", {
                "duration": duration("first back-off"),
                "factor": Int("back-off multiplier", minimum=1),
                "maxDuration": duration("longest back-off"),
            }),
        }, "retry failed syncs (absent: no retries)"),
    }), default=FILL),
}, "Argo CD settings, used with gitops: argocd")

# -- platform services (platform.md): notifications and image automation -----

PROVIDER_TYPES = ("slack", "discord", "msteams", "rocket", "generic", "generic-hmac", "github",
                  "gitlab", "gitea", "giteapullrequestcomment", "bitbucketserver", "bitbucket",
                  "azuredevops", "googlechat", "googlepubsub", "webex", "sentry", "azureeventhub",
                  "telegram", "lark", "matrix", "opsgenie", "alertmanager", "grafana",
                  "githubdispatch", "githubpullrequestcomment", "gitlabmergerequestcomment",
                  "pagerduty", "datadog", "nats", "zulip", "otel")
RECEIVER_TYPES = ("generic", "generic-hmac", "generic-oidc", "github", "gitlab", "bitbucket",
                  "harbor", "dockerhub", "quay", "gcr", "nexus", "acr", "cdevents")

NOTIFICATIONS = Obj("Notifications", {
    "providers": List(Obj("NotificationProvider", {
        "name": Field(subdomain("the Provider's name, named by alerts"), required=True),
        "type": Field(Str("a notification-controller Provider type", enum=PROVIDER_TYPES),
                      required=True),
        "channel": Str("channel, room or topic", min_len=1),
        "address": Str("webhook or API address", min_len=1),
        "username": Str("bot user name", min_len=1),
        "secretRef": SECRET_REF,
    }, "a Provider (notification.toolkit.fluxcd.io/v1beta3)"), "where alerts are sent"),
    "alerts": List(Obj("NotificationAlert", {
        "name": subdomain("the Alert's name (default: the provider's name)"),
        "provider": Field(subdomain("a provider of spec.notifications.providers"), required=True),
        "severity": Field(Str("events of this severity and above", enum=("info", "error")),
                          default="info"),
        "bundles": List(label("a bundle of this cluster"),
                        "bundles whose Kustomization and HelmReleases report (default: every "
                        "bundle)", unique=True),
        "summary": Str("a line added to every event", min_len=1),
        "exclusionList": List(Str(min_len=1), "regular expressions: events whose message "
                                               "matches one are not sent"),
    }, "an Alert (notification.toolkit.fluxcd.io/v1beta3)"),
        "which events go to which provider"),
    "receivers": List(Obj("NotificationReceiver", {
        "name": Field(subdomain("the Receiver's name"), required=True),
        "type": Field(Str("a notification-controller Receiver type", enum=RECEIVER_TYPES),
                      required=True),
        "events": List(Str(min_len=1), "events to accept, e.g. ping, push", unique=True),
        "secretRef": Field(SECRET_REF, required=True),
        "resources": List(Obj("ReceiverResource", {
            "kind": Field(Str(enum=("GitRepository", "OCIRepository", "HelmRepository", "Bucket",
                                    "Kustomization", "HelmRelease", "ImageRepository")),
                          required=True),
            "name": Field(subdomain(), required=True),
        }), "objects to reconcile on a call (default: the tree's source, spec.flux.sourceRef)"),
    }, "a Receiver (notification.toolkit.fluxcd.io/v1): a webhook that triggers reconciles"),
        "webhooks"),
}, "Flux notifications: Providers, Alerts and Receivers in the Flux namespace")

IMAGE_AUTOMATION = Obj("ImageAutomation", {
    "interval": Field(duration("how often to scan the images and update the tree"),
                      default="30m"),
    "git": Field(Obj("ImageAutomationGit", {
        "checkout": Str("branch to check out (default: main)", min_len=1),
        "push": Str("branch to push to (default: the checkout branch)", min_len=1),
        "author": Field(Obj("CommitAuthor", {
            "name": Field(Str("author name", min_len=1), required=True),
            "email": Field(Str("author e-mail", min_len=1), required=True),
        }), required=True),
        "messageTemplate": Str("commit message template", min_len=1),
    }), required=True),
}, "Flux image update automation: commits newer tags of each helm.image into this tree")

SPEC = Obj("ClusterSpec", {
    "gitops": Field(Str("the GitOps engine that applies the tree", enum=("flux", "argocd")),
                    default="flux"),
    "flux": Field(FLUX, default=FILL),
    "argocd": Field(ARGOCD, default=FILL),
    "layout": Field(LAYOUT, default=FILL),
    "output": Field(Obj("Output", {"emit": Field(Str(enum=("all", "flux", "apps")), default="all")}),
                    default=FILL),
    "sources": List(SOURCE),
    "tenants": List(TENANT, "tenants: namespaces whose bundles reconcile as the tenant's "
                    "ServiceAccount (see docs/tenants.md)"),
    "bootstrap": BOOTSTRAP,
    "notifications": NOTIFICATIONS,
    "imageAutomation": IMAGE_AUTOMATION,
    "nodes": List(NODE),
    "profiles": List(label("a Profile's metadata.name"),
                     "Profiles merged under this spec, in order (see docs/config.md, Profiles)",
                     unique=True),
})

METADATA = Obj("Metadata", {
    "name": Field(label("the cluster's directory name"), required=True),
    "namespace": Str(),
    "labels": StrMap(),
    "annotations": Any_(kind=dict),
})

CLUSTER = Obj("Cluster", {
    "apiVersion": Field(Str(enum=(API_VERSION,)), required=True),
    "kind": Field(Str(enum=(KIND,)), required=True),
    "metadata": Field(METADATA, required=True),
    "spec": Field(SPEC, default=FILL),
}, "a cluster: fn.kure.dev/v1alpha1 Cluster")


def is_cluster_config(obj) -> bool:
    """A `fn.kure.dev/v1alpha1 Cluster` document (judged by apiVersion and kind)."""
    return isinstance(obj, dict) and obj.get("apiVersion") == API_VERSION \
        and obj.get("kind") == KIND


PROFILE_KIND = "Profile"
PROFILE = Obj("Profile", {
    "apiVersion": Field(Str(enum=(API_VERSION,)), required=True),
    "kind": Field(Str(enum=(PROFILE_KIND,)), required=True),
    "metadata": Field(METADATA, required=True),
    "spec": SPEC,
}, "a profile: Cluster spec fields (but bootstrap.sync) shared by the Clusters that list it "
   "in spec.profiles")


def json_schema(extension: SchemaExtension | None = None) -> dict:
    """One schema for every kure-fn document: a Profile, a Cluster with
    profiles (a part of its config: nothing required but names) and a Cluster
    written out in full. `extension`: the engines' schemas of free-form
    fields (overlays), from `fn.registry.schema_text`."""
    def partial(root: Obj) -> tuple[dict, dict]:
        doc = json_schema_document(root, partial=True, extension=extension)
        defs = doc.pop("definitions", {})
        doc["required"] = ["apiVersion", "kind", "metadata"]
        return doc, defs
    cluster = json_schema_document(CLUSTER, extension=extension)
    defs = cluster.pop("definitions", {})
    profile, profile_defs = partial(PROFILE)
    with_profiles, partial_defs = partial(CLUSTER)
    return {"$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://kure.dev/schemas/fn.kure.dev/v1alpha1/cluster.json",
            "title": "kure-fn config",
            "description": "a fn.kure.dev/v1alpha1 Cluster or Profile",
            "if": {"required": ["kind"], "properties": {"kind": {"const": PROFILE_KIND}}},
            "then": {"$ref": "#/definitions/Profile"},
            "else": {"if": {"required": ["spec"],
                            "properties": {"spec": {"required": ["profiles"]}}},
                     "then": {"$ref": "#/definitions/PartialCluster"},
                     "else": {"$ref": "#/definitions/Cluster"}},
            "definitions": {**defs, **profile_defs, **partial_defs,
                            **(extension.definitions if extension else {}),
                            "Cluster": cluster, "PartialCluster": with_profiles, "Profile": profile}}


def schema_text(extension: SchemaExtension | None = None) -> str:
    """The JSON Schema as published in schemas/cluster.schema.json (with the
    engines' `extension`: `fn.registry.schema_text`)."""
    import json
    return json.dumps(json_schema(extension), indent=2) + "\n"
