"""The Kure domain model: Cluster → Node tree → Bundle → Application.

Built from a validated config document. Every element knows its config
field path (`spec.nodes[0].bundles[2]`), so later checks can point at it,
and holds its config as a typed record (`fn.model.schema.Record`): read
`bundle.spec.interval`, `app.helm.releaseName`, `cluster.layout.root`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import dataclass, field
from . import config as cfg
from .schema import Problem, Record


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
    spec: Record  # the GitSource, OCISource, HelmSource or BucketSource
    path: str

    @property
    def kind(self) -> str:
        return SOURCE_KINDS[self.type]


@dataclass(eq=False)
class Application:
    name: str
    spec: Record  # Application
    bundle: "Bundle"
    path: str

    @property
    def type(self) -> str:
        """helm, manifests or resources: the one the application sets."""
        s = self.spec
        return "helm" if s.helm is not None else "resources" if s.resources is not None \
            else "manifests"

    @property
    def namespace(self) -> str | None:
        """Default namespace for the application's namespaced objects ("" = none)."""
        return self.spec.namespace

    @property
    def helm(self) -> Record | None:
        """The HelmApplication, or None for manifests and resources."""
        return self.spec.helm

    @property
    def chart_name(self) -> str:
        """A helm application's chart: helm.chart, else (a chart repository)
        the application name, as AICR does."""
        return self.helm.chart or self.name

    @property
    def install_namespace(self) -> str:
        """Where a helm application's chart installs: helm.targetNamespace,
        the application namespace, else the application name."""
        return self.helm.targetNamespace or self.namespace or self.name

    @property
    def cluster(self) -> "Cluster":
        return self.bundle.cluster


@dataclass(eq=False)
class Bundle:
    name: str
    spec: Record  # Bundle
    node: "Node"
    path: str
    applications: list[Application] = field(default_factory=list)

    @property
    def cluster(self) -> "Cluster":
        return self.node.cluster

    @property
    def depends_on(self) -> list[str]:
        return self.spec.dependsOn

    @property
    def is_external(self) -> bool:
        """An external bundle applies a path of another source; no directory."""
        return self.spec.path is not None

    @property
    def source_name(self) -> str | None:
        """The source of an external bundle: its own, else the nearest node's."""
        if self.spec.source:
            return self.spec.source
        node: Node | None = self.node
        while node is not None:
            if node.source:
                return node.source
            node = node.parent
        return None

    # -- Kustomization settings: the bundle's value, else spec.flux.defaults ----
    @property
    def interval(self) -> str:
        return _first(self.spec.interval, self.cluster.defaults.interval)

    @property
    def retry_interval(self) -> str:
        return _first(self.spec.retryInterval, self.cluster.defaults.retryInterval)

    @property
    def timeout(self) -> str:
        return _first(self.spec.timeout, self.cluster.defaults.timeout)

    @property
    def prune(self) -> bool:
        return _first(self.spec.prune, self.cluster.defaults.prune)


def _first(value, default):
    return default if value is None else value


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
    spec: Record  # ClusterSpec
    document: dict  # the config object as given (for results)
    file: str | None = None
    nodes: list[Node] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    # (API group, kind) -> namespaced, from the input's CustomResourceDefinitions
    # (fn.kinds): the inline manifests' (build), then the shell's other items
    crd_scopes: dict = field(default_factory=dict)
    # helm application name -> the image tag the previous render's HelmRelease
    # holds at its image marker (committed by image automation): the shell
    # reads it from its input (Engine.carry_over) and the generator keeps it
    committed_tags: dict = field(default_factory=dict)

    # -- settings ---------------------------------------------------------
    @property
    def gitops(self) -> str:
        """The engine that applies the tree: "flux" or "argocd"."""
        return self.spec.gitops

    @property
    def argocd(self) -> Record:
        """spec.argocd (ArgoCD), defaults filled."""
        return self.spec.argocd

    @property
    def flux(self) -> Record:
        """spec.flux (Flux), defaults filled."""
        return self.spec.flux

    @property
    def namespace(self) -> str:
        return self.flux.namespace

    @property
    def placement(self) -> str:
        return self.flux.placement

    @property
    def defaults(self) -> Record:
        """spec.flux.defaults (Defaults)."""
        return self.flux.defaults

    @property
    def source_ref(self) -> Record:
        """The source holding this tree (SourceRef), both fields resolved:
        kind defaults to the bootstrap sync's kind, name to the Flux namespace."""
        ref = self.flux.sourceRef
        sync = self.bootstrap.sync if self.bootstrap is not None else None
        kind = ref.kind or (sync.kind if sync is not None else None) or "GitRepository"
        return cfg.SOURCE_REF.record(kind=kind, name=ref.name or self.namespace)

    @property
    def layout(self) -> Record:
        """spec.layout (Layout), defaults filled."""
        return self.spec.layout

    @property
    def output(self) -> Record:
        """spec.output (Output), defaults filled."""
        return self.spec.output

    @property
    def emit(self) -> str:
        return self.output.emit

    @property
    def bootstrap(self) -> Record | None:
        """spec.bootstrap (Bootstrap), or None."""
        return self.spec.bootstrap

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
