"""Flux source objects: declared sources and the chart sources Helm apps need."""

from __future__ import annotations

import re

from ..engine import canonical
from ..model.checks import EXACT_VERSION
from ..model.cluster import Application, Cluster, Source
from ..records import dataclass

SOURCE_API = "source.toolkit.fluxcd.io/v1"
HELM_CHART_LAYER = {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "operation": "copy"}
MAX_NAME = 63


def source_object(src: Source, namespace: str, *, helm_chart: bool = False) -> dict:
    """The Flux object of a declared source."""
    s = src.spec
    spec: dict = {"interval": s["interval"]}
    for key in ("secretRef", "provider", "ignore", "recurseSubmodules", "passCredentials",
                "bucketName", "endpoint", "region"):
        if s.get(key) is not None:
            spec[key] = s[key]
    if src.type in ("git", "oci", "helm"):
        spec["url"] = s["url"]
    if src.type == "git":
        ref = {k: s[k] for k in ("branch", "tag", "semver", "commit") if s.get(k)}
        spec["ref"] = ref or {"branch": "main"}
    elif src.type == "oci":
        ref = {k: s[k] for k in ("tag", "semver", "digest") if s.get(k)}
        spec["ref"] = ref or {"tag": "latest"}
        if s.get("layerSelector"):
            spec["layerSelector"] = s["layerSelector"]
        elif helm_chart:
            spec["layerSelector"] = dict(HELM_CHART_LAYER)
    return canonical({"apiVersion": SOURCE_API, "kind": src.kind,
                      "metadata": {"name": src.name, "namespace": namespace}, "spec": spec})


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


def _with_hash(base: str, key: str) -> str:
    import hashlib  # only on a name collision: keeps it out of start-up

    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{base[:MAX_NAME - 9].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class ChartSource:
    """A chart source kure-fn derives from a helm application's repository."""

    kind: str  # HelmRepository | OCIRepository
    url: str
    version: str | None  # OCI only: the ref
    name: str

    def to_object(self, namespace: str) -> dict:
        if self.kind == "HelmRepository":
            spec = {"interval": "1h", "url": self.url}
        else:
            ref = ({"tag": self.version} if EXACT_VERSION.fullmatch(self.version or "")
                   else {"semver": self.version})
            spec = {"interval": "10m", "layerSelector": dict(HELM_CHART_LAYER), "ref": ref,
                    "url": self.url}
        return canonical({"apiVersion": SOURCE_API, "kind": self.kind,
                          "metadata": {"name": self.name, "namespace": namespace}, "spec": spec})


class ChartSources:
    """Chart sources of a cluster, de-duplicated and named without collisions.

    One HelmRepository per distinct https URL, one OCIRepository per distinct
    (oci URL, version). A name is the sanitised URL (plus the version for
    OCI); when two different keys would share a name, or a declared source
    already has it, each colliding key gets a short hash of itself appended.
    A declared helm source with the same URL is reused instead.
    """

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.by_key: dict[tuple, ChartSource] = {}
        declared_helm = {s.spec["url"].rstrip("/"): s for s in cluster.sources.values()
                         if s.type == "helm"}
        keys: dict[tuple, str] = {}
        for app in cluster.applications():
            key = self._key(app)
            if key is None or key in keys:
                continue
            if key[0] == "HelmRepository" and key[1].rstrip("/") in declared_helm:
                continue
            keys[key] = self._base_name(key)
        taken: dict[str, list[tuple]] = {}
        for key, base in keys.items():
            taken.setdefault(base, []).append(key)
        declared = set(cluster.sources)
        for base, group in taken.items():
            for key in group:
                name = base if len(group) == 1 and base not in declared else \
                    _with_hash(base, "\x00".join(k or "" for k in key[:3]))
                self.by_key[key] = ChartSource(key[0], key[1], key[2], name)
        self._declared_helm = declared_helm

    @staticmethod
    def _key(app: Application) -> tuple | None:
        h = app.helm
        if h is None or not h.get("repository"):
            return None
        repo = h["repository"]
        if repo.startswith("oci://"):
            return ("OCIRepository", repo.rstrip("/"), h.get("version"))
        return ("HelmRepository", repo, None)

    @staticmethod
    def _base_name(key: tuple) -> str:
        kind, url, version = key
        if kind == "HelmRepository":
            return sanitize(url)
        base = f"{sanitize(url)}-{sanitize(version or '')}"
        return base if len(base) <= MAX_NAME else _with_hash(base, url + "\x00" + (version or ""))

    def for_app(self, app: Application) -> tuple[str, str] | None:
        """(kind, name) of the chart source a repository app uses."""
        key = self._key(app)
        if key is None:
            return None
        if key in self.by_key:
            cs = self.by_key[key]
            return cs.kind, cs.name
        src = self._declared_helm[key[1].rstrip("/")]
        return "HelmRepository", src.name

    def objects(self, apps, namespace: str) -> list[dict]:
        """Objects of the derived sources the given apps use, once each, by name."""
        used = {}
        for app in apps:
            key = self._key(app)
            if key in self.by_key:
                cs = self.by_key[key]
                used[cs.name] = cs
        return [used[n].to_object(namespace) for n in sorted(used)]
