"""The Kure domain model: Cluster → Node tree → Bundle → Application.

Built from a validated config document. Every element knows its config
field path (`spec.nodes[0].bundles[2]`), so later checks can point at it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import dataclass, field
from . import config as cfg
from .schema import Problem


class ConfigError(Exception):
    """A config with problems; every problem has a field path."""

    def __init__(self, problems: list[Problem], file: str | None = None):
        self.problems = problems
        self.file = file
        super().__init__("; ".join(str(p) for p in problems))


SOURCE_KINDS = {"git": "GitRepository", "oci": "OCIRepository", "helm": "HelmRepository",
                "bucket": "Bucket"}


@dataclass(eq=False)
class Source:
    name: str
    type: str  # git | oci | helm | bucket
    spec: dict
    path: str

    @property
    def kind(self) -> str:
        return SOURCE_KINDS[self.type]


@dataclass(eq=False)
class Application:
    name: str
    spec: dict
    bundle: "Bundle"
    path: str

    @property
    def type(self) -> str:
        return next(k for k in ("helm", "manifests", "resources") if self.spec.get(k) is not None)

    @property
    def namespace(self) -> str | None:
        """Default namespace for the application's namespaced objects ("" = none)."""
        return self.spec.get("namespace")

    @property
    def helm(self) -> dict | None:
        return self.spec.get("helm")

    @property
    def chart_name(self) -> str:
        """A helm application's chart: helm.chart, else (a chart repository)
        the application name, as AICR does."""
        return self.helm.get("chart") or self.name

    @property
    def install_namespace(self) -> str:
        """Where a helm application's chart installs: helm.targetNamespace,
        the application namespace, else the application name."""
        return self.helm.get("targetNamespace") or self.namespace or self.name

    @property
    def cluster(self) -> "Cluster":
        return self.bundle.cluster


@dataclass(eq=False)
class Bundle:
    name: str
    spec: dict
    node: "Node"
    path: str
    applications: list[Application] = field(default_factory=list)

    @property
    def cluster(self) -> "Cluster":
        return self.node.cluster

    @property
    def depends_on(self) -> list[str]:
        return self.spec.get("dependsOn") or []

    @property
    def is_external(self) -> bool:
        """An external bundle applies a path of another source; no directory."""
        return self.spec.get("path") is not None

    @property
    def source_name(self) -> str | None:
        """The source of an external bundle: its own, else the nearest node's."""
        if self.spec.get("source"):
            return self.spec["source"]
        node: Node | None = self.node
        while node is not None:
            if node.source:
                return node.source
            node = node.parent
        return None

    def setting(self, key: str):
        """A Kustomization setting: the bundle's value, else the cluster default."""
        v = self.spec.get(key)
        return self.cluster.defaults.get(key) if v is None else v


@dataclass(eq=False)
class Node:
    name: str
    cluster: "Cluster"
    parent: "Node | None"
    path: str
    source: str | None = None
    bundles: list[Bundle] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)

    @property
    def segments(self) -> tuple[str, ...]:
        """Directory names from the cluster directory down to this node."""
        out: list[str] = []
        node: Node | None = self
        while node is not None:
            out.append(node.name)
            node = node.parent
        return tuple(reversed(out))

    def walk(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            yield from child.walk()

    def all_bundles(self) -> Iterator[Bundle]:
        for node in self.walk():
            yield from node.bundles


@dataclass(eq=False)
class Cluster:
    name: str
    spec: dict
    document: dict  # the config object as given (for results)
    file: str | None = None
    nodes: list[Node] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    # (API group, kind) -> namespaced, from the input's CustomResourceDefinitions
    # (fn.kinds): the inline manifests' (build), then the shell's other items
    crd_scopes: dict = field(default_factory=dict)

    # -- settings ---------------------------------------------------------
    @property
    def gitops(self) -> str:
        """The engine that applies the tree: "flux" or "argocd"."""
        return self.spec["gitops"]

    @property
    def argocd(self) -> dict:
        return self.spec["argocd"]

    @property
    def flux(self) -> dict:
        return self.spec["flux"]

    @property
    def namespace(self) -> str:
        return self.flux["namespace"]

    @property
    def placement(self) -> str:
        return self.flux["placement"]

    @property
    def defaults(self) -> dict:
        return self.flux["defaults"]

    @property
    def source_ref(self) -> dict:
        """The source holding this tree: {kind, name}."""
        ref = self.flux["sourceRef"]
        sync = (self.bootstrap or {}).get("sync") or {}
        kind = ref.get("kind") or sync.get("kind") or "GitRepository"
        return {"kind": kind, "name": ref.get("name") or self.namespace}

    @property
    def layout(self) -> dict:
        return self.spec["layout"]

    @property
    def emit(self) -> str:
        return self.spec["output"]["emit"]

    @property
    def bootstrap(self) -> dict | None:
        return self.spec.get("bootstrap")

    # -- traversal ----------------------------------------------------------
    def walk_nodes(self) -> Iterator[Node]:
        for node in self.nodes:
            yield from node.walk()

    def bundles(self) -> Iterator[Bundle]:
        for node in self.walk_nodes():
            yield from node.bundles

    def applications(self) -> Iterator[Application]:
        for bundle in self.bundles():
            yield from bundle.applications

    def find_bundle(self, name: str) -> Bundle | None:
        return next((b for b in self.bundles() if b.name == name), None)

    def ref(self) -> dict:
        return {"apiVersion": cfg.API_VERSION, "kind": cfg.KIND, "name": self.name}
