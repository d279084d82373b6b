"""Flux source objects: declared sources and the chart sources Helm apps need."""

from __future__ import annotations

import re
from collections import Counter

from .. import lazy
from ..engine import canonical, present
from ..model.cluster import Application, Cluster, Source
from ..model.schema import Record
from ..model.profiles import deep_merge
from ..records import dataclass

SOURCE_API = "source.toolkit.fluxcd.io/v1"
HELM_CHART_LAYER = {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "operation": "copy"}
MAX_NAME = 63
HELM_REPOSITORY_INTERVAL = "1h"
OCI_CHART_INTERVAL = "10m"
EXACT_VERSION = lazy.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?")


def source_object(src: Source, namespace: str, *, helm_chart: bool = False) -> dict:
    """The Flux object of a declared source."""
    s = src.spec
    spec: dict = {"interval": s.interval}
    if s.secretRef is not None:
        spec["secretRef"] = s.secretRef.to_data()
    if src.type == "git":
        spec.update(present(url=s.url, ignore=s.ignore, recurseSubmodules=s.recurseSubmodules))
        spec["ref"] = present(branch=s.branch, tag=s.tag, semver=s.semver, commit=s.commit) \
            or {"branch": "main"}
    elif src.type == "oci":
        spec.update(present(url=s.url, provider=s.provider))
        spec["ref"] = present(tag=s.tag, semver=s.semver, digest=s.digest) or {"tag": "latest"}
        if s.layerSelector is not None:
            spec["layerSelector"] = s.layerSelector.to_data()
        elif helm_chart:
            spec["layerSelector"] = dict(HELM_CHART_LAYER)
    elif src.type == "helm":
        spec.update(present(url=s.url, passCredentials=s.passCredentials))
    else:  # bucket
        spec.update(present(bucketName=s.bucketName, endpoint=s.endpoint, region=s.region,
                            provider=s.provider))
    if src.overlay:
        spec = deep_merge(spec, src.overlay)
    return canonical({"apiVersion": SOURCE_API, "kind": src.kind,
                      "metadata": {"name": src.name, "namespace": namespace}, "spec": spec})


def sync_ref(sync: Record) -> str:
    """bootstrap.sync's ref, defaulted: a git ref name or an OCI tag."""
    if sync.ref:
        return sync.ref
    return "refs/heads/main" if sync.kind == "GitRepository" else "latest"


def _git_ref(ref: str) -> dict:
    if ref.startswith("refs/heads/"):
        return {"branch": ref[len("refs/heads/"):]}
    if ref.startswith("refs/tags/"):
        return {"tag": ref[len("refs/tags/"):]}
    return {"name": ref} if ref.startswith("refs/") else {"branch": ref}


def sync_source(sync: Record, name: str, namespace: str) -> dict:
    """The source bootstrap.sync describes, as gotk-sync.yaml holds it."""
    ref = sync_ref(sync)
    spec: dict = {"interval": "1m", "url": sync.url,
                  "ref": _git_ref(ref) if sync.kind == "GitRepository" else {"tag": ref}}
    if sync.secretRef is not None:
        spec["secretRef"] = sync.secretRef.to_data()
    return canonical({"apiVersion": SOURCE_API, "kind": sync.kind,
                      "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def tree_source_copy(cluster: Cluster, namespace: str) -> dict | None:
    """The source that holds the tree, written into another namespace (a
    tenant's, whose Kustomizations must not reach across): a copy of the
    declared source, else of the one bootstrap.sync makes; None when kure-fn
    does not know it (`flux bootstrap` made it)."""
    ref = cluster.source_ref
    src = cluster.sources.get(ref.name)
    if src is not None:
        return source_object(src, namespace)
    sync = cluster.bootstrap.sync if cluster.bootstrap is not None else None
    if sync is not None and ref.name == cluster.namespace:
        return sync_source(sync, ref.name, namespace)
    return None
ARTIFACT_API = "source.extensions.fluxcd.io/v1beta1"


def artifact_generator(src: Source, cluster: Cluster, namespace: str) -> dict:
    """The ArtifactGenerator of an artifact source: its aliases resolved to
    the sources they name (sorted by alias), its artifacts as written."""
    a = src.spec
    sources = []
    for alias in sorted(a.sources):
        use = cluster.source_use(a.sources[alias])
        sources.append({"alias": alias, "kind": use.kind, "name": use.name,
                        "namespace": use.namespace})
    artifacts = []
    for art in a.artifacts:
        out = present(name=art.name, originRevision=art.originRevision, revision=art.revision)
        out["copy"] = [{k: v for k, v in c.to_data().items() if v != []} for c in art.copy]
        artifacts.append(out)
    spec = {"sources": sources, "artifacts": artifacts}
    if src.overlay:
        spec = deep_merge(spec, src.overlay)
    return canonical({"apiVersion": ARTIFACT_API, "kind": src.kind,
                      "metadata": {"name": src.name, "namespace": namespace}, "spec": spec})


SOURCE_WATCHER = "source-watcher"  # the controller that runs ArtifactGenerators


def uses_artifacts(cluster: Cluster) -> bool:
    """Whether a bundle or helm application names an artifact (so an
    ArtifactGenerator is rendered and source-watcher must run)."""
    for b in cluster.bundles():
        if b.is_external and b.source_name in cluster.artifacts:
            return True
        if any(a.helm is not None and a.helm.source in cluster.artifacts for a in b.applications):
            return True
    return False


def sanitize(url: str) -> str:
    """A DNS-1123 label from a URL, as AICR derives source names."""
    s = url.lower()
    for prefix in ("oci://", "https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    s = s.rstrip("/")
    if s.endswith(".git"):
        s = s[:-4]
    s = re.sub(r"[^a-z0-9-]+", "-", s).strip("-")
    s = s[:MAX_NAME].rstrip("-")
    return s or "source"


def normalise_url(url: str) -> str:
    """The URL that identifies a chart repository or chart: no trailing '/'."""
    return url.rstrip("/")


def oci_ref(version: str) -> dict:
    """OCIRepository ref for a chart version: an exact version is a tag (with
    '+' written '_', as `helm push` tags it), anything else a semver range."""
    if EXACT_VERSION.fullmatch(version):
        return {"tag": version.replace("+", "_")}
    return {"semver": version}


HASH_LEN = 8

ChartKey = tuple  # (kind, normalised url, version or None)


def _with_hash(base: str, key: ChartKey, length: int = HASH_LEN) -> str:
    import hashlib  # only on a name collision: keeps it out of start-up

    digest = hashlib.sha256("\x00".join(k or "" for k in key).encode()).hexdigest()[:length]
    return f"{base[:MAX_NAME - length - 1].rstrip('-')}-{digest}"


def _base_name(key: ChartKey, with_version: bool) -> str:
    kind, url, version = key
    name, ver = sanitize(url), sanitize(version or "")
    if kind == "HelmRepository" or not with_version or ver == "source":
        return name
    return f"{name}-{ver}"[:MAX_NAME].rstrip("-")


def chart_source_names(keys, reserved=frozenset()) -> dict[ChartKey, str]:
    """Names for chart sources: the sanitised URL, plus the version for an OCI
    chart used at several versions (so a version bump only changes the tag),
    unless another key (or a reserved name: a declared source) would share
    it; then each colliding key gets a hash of itself appended, lengthened
    until every name is unique. Depends only on the set of keys, never on
    their order."""
    keys = sorted(set(keys), key=lambda k: tuple(x or "" for x in k))
    versions = Counter((k[0], k[1]) for k in keys)
    base = {k: _base_name(k, versions[(k[0], k[1])] > 1) for k in keys}
    taken = Counter(base.values())
    names = {k: b if taken[b] == 1 and b not in reserved else _with_hash(b, k)
             for k, b in base.items()}
    length = HASH_LEN
    while True:
        counts = Counter(names.values())
        clash = {n for n, c in counts.items() if c > 1} | (set(counts) & set(reserved))
        if not clash:
            return names
        length += 4
        for k in keys:
            if names[k] in clash:
                names[k] = _with_hash(base[k], k, length)


@dataclass(frozen=True)
class ChartSource:
    """A chart source kure-fn derives from a helm application's repository."""

    kind: str  # HelmRepository | OCIRepository
    url: str
    version: str | None  # OCI only: the ref
    name: str

    def to_object(self, namespace: str) -> dict:
        if self.kind == "HelmRepository":
            spec = {"interval": HELM_REPOSITORY_INTERVAL, "url": self.url}
        else:
            spec = {"interval": OCI_CHART_INTERVAL, "layerSelector": dict(HELM_CHART_LAYER),
                    "ref": oci_ref(self.version), "url": self.url}
        return canonical({"apiVersion": SOURCE_API, "kind": self.kind,
                          "metadata": {"name": self.name, "namespace": namespace}, "spec": spec})


def tree_source_names(cluster: Cluster) -> frozenset[str]:
    """Names of the source that holds the tree: spec.flux.sourceRef, and the
    one bootstrap creates (named after the Flux namespace), declared or not."""
    return frozenset({cluster.source_ref.name, cluster.namespace})


class ChartSources:
    """Chart sources of a cluster, de-duplicated and named without collisions.

    Per namespace (an application's fluxNamespace): one HelmRepository per
    distinct https URL (a trailing '/' does not make a URL distinct), one
    OCIRepository per distinct (oci URL, version). A declared helm source
    with the same URL in the same namespace is reused instead of a derived
    one. Names: `chart_source_names` over every namespace at once (so a
    chart source has one name wherever it lives), with every declared source
    name and the tree's own source reserved.
    """

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self._declared_helm: dict[tuple[str, str], Source] = {}  # (namespace, url) -> source
        for s in cluster.sources.values():
            if s.type == "helm":
                self._declared_helm.setdefault((s.namespace, normalise_url(s.spec.url)), s)
        keys = {key for app in cluster.applications()
                if (key := self._key(app)) is not None and self._declared(app, key) is None}
        names = chart_source_names(keys, reserved=tree_source_names(cluster) | set(cluster.sources))
        self.by_key = {k: ChartSource(k[0], k[1], k[2], n) for k, n in names.items()}

    @staticmethod
    def _key(app: Application) -> ChartKey | None:
        h = app.helm
        if h is None or not h.repository:
            return None
        repo = normalise_url(h.repository)
        if repo.startswith("oci://"):
            return ("OCIRepository", repo, h.version)
        return ("HelmRepository", repo, None)

    def _declared(self, app: Application, key: ChartKey) -> Source | None:
        if key[0] != "HelmRepository":
            return None
        return self._declared_helm.get((app.flux_namespace, key[1]))

    def for_app(self, app: Application) -> tuple[str, str, str] | None:
        """(kind, name, namespace) of the chart source a repository app uses."""
        key = self._key(app)
        if key is None:
            return None
        declared = self._declared(app, key)
        if declared is not None:
            return "HelmRepository", declared.name, declared.namespace
        cs = self.by_key[key]
        return cs.kind, cs.name, app.flux_namespace

    def objects(self, apps) -> list[dict]:
        """Objects of the derived sources the given apps use, once each per
        namespace, by name."""
        used = {}
        for app in apps:
            key = self._key(app)
            if key is not None and self._declared(app, key) is None:
                used[(self.by_key[key].name, app.flux_namespace)] = self.by_key[key]
        return [used[k].to_object(k[1]) for k in sorted(used)]
