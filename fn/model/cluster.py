"""The Kure domain model: Cluster → Node tree → Bundle → Application.

Built from a validated config document. Every element knows its config
field path (`spec.nodes[0].bundles[2]`), so later checks can point at it,
and holds its config as a typed record (`fn.model.schema.Record`): read
`bundle.spec.interval`, `app.helm.releaseName`, `cluster.layout.root`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

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
                "bucket": "Bucket", "artifact": "ArtifactGenerator"}
EXTERNAL_ARTIFACT = "ExternalArtifact"


@dataclass(eq=False)
class Source:
    name: str
    type: str  # git | oci | helm | bucket
    spec: Record  # the GitSource, OCISource, HelmSource or BucketSource
    path: str
    namespace: str = ""  # of its Flux object: its own namespace, else spec.flux.namespace
    overlay: dict | None = None  # the source's `spec` overlay

    @property
    def kind(self) -> str:
        return SOURCE_KINDS[self.type]


@dataclass(frozen=True)
class SourceUse:
    """What a bundle's or helm application's `source` names: a declared
    source (`declared` is it), an artifact of an artifact source (kind
    ExternalArtifact; `declared` is the artifact source), or the tree's own
    source (`declared` None unless spec.sources declares it)."""

    kind: str
    name: str
    declared: "Source | None"
    namespace: str  # where the named object lives
    tree: bool = False


@dataclass(frozen=True)
class Dependency:
    """A dependsOn entry, resolved: `internal` when it names an object of
    this config (a bundle's Kustomization, a helm application's HelmRelease),
    else an object outside it that must exist. `namespace`: the named
    object's, None for an outside one written without it (the dependent's
    own, as in Flux)."""

    name: str
    namespace: str | None
    index: int  # position in the dependsOn list, for the field path
    internal: bool


@dataclass(eq=False)
class Tenant:
    """A tenant of spec.tenants: its namespaces, the first being where its
    bundles' Flux objects live, and the ClusterRole bound in each."""

    name: str
    spec: Record  # Tenant
    path: str

    @property
    def namespaces(self) -> list[str]:
        return list(self.spec.namespaces) or [self.name]

    @property
    def namespace(self) -> str:
        """The tenant's Flux namespace: its first namespace."""
        return self.namespaces[0]

    @property
    def role(self) -> str:
        return self.spec.role

    @property
    def service_account(self) -> str:
        """The ServiceAccount its reconcilers impersonate: named after the tenant."""
        return self.name


@dataclass(eq=False)
class Application:
    name: str
    spec: Record  # Application
    bundle: "Bundle"
    path: str
    # namespace of its Flux objects (helm: HelmRelease, chart source, values
    # ConfigMap): its fluxNamespace, else the bundle's; set by build
    flux_namespace: str = ""
    flux_namespace_path: str = ""  # the config field that sets it
    effective_helm: Record | None = None  # helm with the defaults filled (fn.model.defaults)
    dependencies: list[Dependency] = field(default_factory=list)  # helm.dependsOn, resolved

    @property
    def depends_on(self) -> list[str]:
        """helm applications of this config this one's HelmRelease depends on."""
        return [d.name for d in self.dependencies if d.internal]

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
        """The HelmApplication with its defaults filled (node and
        spec.flux.defaults helm), or None for manifests and resources. What
        the application itself says: `spec.helm`."""
        return self.effective_helm if self.effective_helm is not None else self.spec.helm

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

    @property
    def tenant(self) -> "Tenant | None":
        """Its bundle's tenant."""
        return self.bundle.tenant
    def staged(self, stage: str) -> list[dict]:
        """helm.pre or helm.post (`stage`): the objects applied before or after
        the bundle ([] for manifests and resources)."""
        return getattr(self.helm, stage) if self.helm is not None else []


# helm.pre / helm.post: each gives its bundle a second Flux Kustomization
# <bundle>-pre / <bundle>-post, named and ordered as a bundle (platform.md)
STAGES = ("pre", "post")


@dataclass(eq=False)
class Bundle:
    name: str
    spec: Record  # Bundle
    node: "Node"
    path: str
    applications: list[Application] = field(default_factory=list)
    # namespace of its Kustomization: its fluxNamespace, else the node's; set by build
    flux_namespace: str = ""
    flux_namespace_path: str = ""  # the config field that sets it
    dependencies: list[Dependency] = field(default_factory=list)  # dependsOn, resolved

    @property
    def cluster(self) -> "Cluster":
        return self.node.cluster

    @property
    def depends_on(self) -> list[str]:
        """Bundles of this config this one depends on."""
        return [d.name for d in self.dependencies if d.internal]

    @property
    def external_dependencies(self) -> list[Dependency]:
        """dependsOn entries naming Kustomizations outside this config."""
        return [d for d in self.dependencies if not d.internal]

    # -- helm.pre / helm.post: the Kustomizations <bundle>-pre and <bundle>-post --
    @property
    def stages(self) -> list[str]:
        """"pre" and "post", each when some helm application of the bundle has
        such objects (worked out once: the generator and rules ask often)."""
        stages = self.__dict__.get("_stages")
        if stages is None:
            stages = self.__dict__["_stages"] = [
                s for s in STAGES if any(a.staged(s) for a in self.applications)]
        return stages

    def stage_name(self, stage: str) -> str:
        """The Flux Kustomization (and directory) of a stage: <bundle>-pre, <bundle>-post."""
        return f"{self.name}-{stage}"

    def stage_path(self, stage: str) -> str:
        """The config field that gives a stage: the first helm.pre / helm.post."""
        app = next(a for a in self.applications if a.staged(stage))
        return f"{app.path}.helm.{stage}"

    @property
    def ready_name(self) -> str:
        """What a bundle depending on this one waits for: <bundle>-post when
        there is one (the whole unit ready), else the bundle itself."""
        return self.stage_name("post") if "post" in self.stages else self.name

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

    @property
    def tenant_name(self) -> str | None:
        """The bundle's tenant: its own, else the nearest node's."""
        return self._tenant_setting()[0]

    @property
    def tenant_path(self) -> str | None:
        """The config field that gives the bundle its tenant."""
        return self._tenant_setting()[1]

    def _tenant_setting(self) -> tuple[str | None, str | None]:
        if self.spec.tenant:
            return self.spec.tenant, f"{self.path}.tenant"
        node: Node | None = self.node
        while node is not None:
            if node.tenant:
                return node.tenant, f"{node.path}.tenant"
            node = node.parent
        return None, None

    @property
    def tenant(self) -> "Tenant | None":
        """The bundle's Tenant (None without one, or when it names none declared)."""
        if not self.cluster.tenants:  # the usual case: no walk up the nodes
            return None
        name = self.tenant_name
        return self.cluster.tenants.get(name) if name else None

    # -- Kustomization settings: the closest that sets it (fn.model.defaults) --
    def own_setting(self, key: str):
        """A Kustomization setting as the bundle itself gives it: its
        `kustomization` overlay (merged last, so it wins), else the typed
        field; None when it says nothing, or leaves the field out."""
        overlay = self.spec.kustomization
        if overlay and key in overlay:
            return overlay[key]
        return getattr(self.spec, key)

    def leaves_out(self, key: str) -> bool:
        """The bundle's own `kustomization` overlay sets `key` to null: the
        field is not written, Flux's own default applies."""
        overlay = self.spec.kustomization
        return bool(overlay) and key in overlay and overlay[key] is None

    def setting(self, key: str):
        """The bundle's own setting, else the closest default's (None: not
        written, also where a default's overlay sets it to null)."""
        value = self.own_setting(key)
        if value is None and not self.leaves_out(key):
            return self.node.kustomization_defaults.get(key)
        return value

    @property
    def interval(self) -> str:
        return self.setting("interval")

    @property
    def retry_interval(self) -> str | None:
        return self.setting("retryInterval")

    @property
    def timeout(self) -> str | None:
        return self.setting("timeout")

    @property
    def prune(self) -> bool:
        return self.setting("prune")

    @property
    def wait(self) -> bool:
        return self.setting("wait")


@dataclass(eq=False)
class Node:
    name: str
    cluster: "Cluster"
    parent: "Node | None"
    path: str
    source: str | None = None
    tenant: str | None = None
    bundles: list[Bundle] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)
    # its fluxNamespace, else the parent's, else spec.flux.namespace; set by build
    flux_namespace: str = ""
    flux_namespace_path: str = ""  # the config field that sets it
    # what its bundles inherit (fn.model.defaults.inherit): Kustomization spec
    # fields, and the helm defaults records, farthest first
    kustomization_defaults: dict = field(default_factory=dict)
    helm_defaults: tuple = ()
    defaults: Record | None = None  # the node's own `defaults` (NodeDefaults)

    @cached_property
    def segments(self) -> tuple[str, ...]:
        """Directory names from the cluster directory down to this node
        (worked out once: every bundle's directory asks)."""
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
    tenants: dict[str, Tenant] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)  # Flux sources (not artifact ones)
    artifact_sources: dict[str, Source] = field(default_factory=dict)  # ArtifactGenerators
    artifacts: dict[str, Source] = field(default_factory=dict)  # ExternalArtifact -> its generator
    warnings: list[Problem] = field(default_factory=list)
    # (API group, kind) -> namespaced, from the input's CustomResourceDefinitions
    # (fn.kinds): the inline manifests' (build), then the shell's other items
    crd_scopes: dict = field(default_factory=dict)
    # name -> the first bundle / helm application of that name (build fills them)
    bundle_by_name: dict = field(default_factory=dict)
    helm_app_by_name: dict = field(default_factory=dict)
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

    @cached_property
    def source_ref(self) -> Record:
        """The source holding this tree (SourceRef), both fields resolved:
        kind defaults to the bootstrap sync's kind, name to the Flux namespace.
        Worked out once (a model is not changed once built): the generator
        asks for every bundle."""
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

    def source_use(self, name: str | None) -> SourceUse | None:
        """What a source name of the config names (None: the tree's own
        source), or None when it names nothing: a declared Flux source
        first, then the tree's own source by its name, then an artifact."""
        if name is None:
            name = self.source_ref.name
        if name in self.sources:
            src = self.sources[name]
            return SourceUse(src.kind, name, src, src.namespace, tree=name == self.source_ref.name)
        if name == self.source_ref.name:  # bootstrap makes it
            return SourceUse(self.source_ref.kind, self.source_ref.name, None, self.namespace,
                             tree=True)
        if name in self.artifacts:  # an ExternalArtifact lives beside its generator
            gen = self.artifacts[name]
            return SourceUse(EXTERNAL_ARTIFACT, name, gen, gen.namespace)
        return None

    def find_bundle(self, name: str) -> Bundle | None:
        return next((b for b in self.bundles() if b.name == name), None)

    def flux_namespaces(self) -> dict[str, str]:
        """Every namespace that holds Flux objects of this config other than
        spec.flux.namespace -> the first config field that puts them there."""
        out: dict[str, str] = {}
        for s in (*self.sources.values(), *self.artifact_sources.values()):
            out.setdefault(s.namespace, f"{s.path}.namespace")
        for b in self.bundles():
            out.setdefault(b.flux_namespace, b.flux_namespace_path)
            for a in b.applications:
                if a.helm is not None:
                    out.setdefault(a.flux_namespace, a.flux_namespace_path)
        out.pop(self.namespace, None)
        return out

    def ref(self) -> dict:
        return {"apiVersion": cfg.API_VERSION, "kind": cfg.KIND, "name": self.name}
