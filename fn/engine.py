"""What every GitOps engine shares: generated objects, the ownership
annotation, and the three-part engine. The registry is `fn.registry`."""

from __future__ import annotations

from .collisions import long_file_names, object_clashes
from .krm.yamlio import NESTED
from .model.cluster import ConfigError
from .records import dataclass

OWNER = "fn.kure.dev/cluster"


@dataclass(frozen=True)
class Generated:
    """A generated object and what it belongs to, so the layout can place it.

    role: "kustomization" (owner: the Bundle), "app" (owner: the Application),
    "source", "chart-source", "namespace", "tenant", "bootstrap" or "platform"
    (notifications, image automation; no owner: the cluster's control directory).
    """

    obj: dict
    role: str
    owner: object = None
    filename: str | None = None  # a fixed file name (gotk-sync.yaml); else by naming
    path: str | None = None  # the config field that gives the object, for error results
    stage: str | None = None  # "pre" / "post": an object of helm.pre / helm.post (role "app")

    @property
    def given(self) -> bool:
        """The object is the user's own (an inline manifest, a selected item,
        or an inline Namespace written as a "namespace"), not one kure-fn builds."""
        return self.role == "selected" or (self.role == "namespace" and self.owner is not None) \
            or (self.role == "app" and (self.owner.helm is None or self.stage is not None))


def app_objects(app, objects: list[dict]) -> list[Generated]:
    """An application's objects, each with its config field: a helm
    application's objects come from its name, inline manifests from their
    index."""
    if app.helm is not None:
        return [Generated(obj, "app", app, path=f"{app.path}.name") for obj in objects]
    return [Generated(obj, "app", app, path=f"{app.path}.manifests[{i}]")
            for i, obj in enumerate(objects)]


def staged_objects(app, stage: str, objects: list[dict]) -> list[Generated]:
    """A helm application's helm.pre or helm.post objects, by index."""
    return [Generated(obj, "app", app, path=f"{app.path}.helm.{stage}[{i}]", stage=stage)
            for i, obj in enumerate(objects)]


def present(**fields) -> dict:
    """The fields that are set (not None), by name: config values copied into
    an object under the same names, e.g. `present(force=s.force, suspend=s.suspend)`."""
    return {k: v for k, v in fields.items() if v is not None}


def canonical(value, keep: frozenset = frozenset()):
    """Keys sorted recursively, as `flux create --export` writes them.

    Mappings under a key in `keep` (user content such as Helm values) stay
    exactly as given.
    """
    if isinstance(value, dict):  # scalars are taken as they are, without a call each
        return {k: canonical(v, keep) if isinstance(v := value[k], NESTED) and k not in keep
                else v for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v, keep) if isinstance(v, NESTED) else v for v in value]
    return value


class BundleGenerator:
    """The resource generator's entry points: a cluster, a node subtree or a
    bundle → the objects of those bundles. Engines implement `generate`."""

    def generate_cluster(self, cluster) -> list[Generated]:
        return self.generate(cluster, list(cluster.bundles()))

    def generate_node(self, node) -> list[Generated]:
        return self.generate(node.cluster, list(node.all_bundles()))

    def generate_bundle(self, bundle) -> list[Generated]:
        return self.generate(bundle.cluster, [bundle])

    def generate(self, cluster, bundles: list) -> list[Generated]:
        raise NotImplementedError


class WorkflowEngine:
    """A GitOps engine, as Kure designs it: three focused parts composed.

    `resources` turns a cluster, node or bundle into objects (pure), `layout`
    places objects into a tree, `bootstrap` makes a cluster sync the tree.
    Flux and Argo CD are two engines behind this one interface.
    """

    name = ""
    version = ""
    target_namespace_overrides = False  # a bundle's targetNamespace replaces objects' own

    def __init__(self, resources, layout, bootstrap):
        self.resources = resources
        self.layout = layout
        self.bootstrap = bootstrap

    # -- objects ------------------------------------------------------------
    def generate_from_cluster(self, cluster) -> list[dict]:
        return [g.obj for g in self.resources.generate_cluster(cluster)]

    def generate_from_node(self, node) -> list[dict]:
        return [g.obj for g in self.resources.generate_node(node)]

    def generate_from_bundle(self, bundle) -> list[dict]:
        return [g.obj for g in self.resources.generate_bundle(bundle)]

    def generate_bootstrap(self, bootstrap, cluster) -> list[dict]:
        """`bootstrap`: the cluster's `bootstrap` (a record, or None)."""
        return [g.obj for g in self.bootstrap.generate(bootstrap, cluster)]

    def supported_bootstrap_modes(self) -> list[str]:
        return self.bootstrap.supported_modes()

    # -- the tree -----------------------------------------------------------
    def generated(self, cluster, extra: list[Generated] = ()) -> list[Generated]:
        return (self.resources.generate_cluster(cluster)
                + self.bootstrap.generate(cluster.bootstrap, cluster) + list(extra))

    def create_layout_with_resources(self, cluster, *, extra: list[Generated] = (),
                                     existing: frozenset[str] = frozenset()):
        """The planned Tree with every object placed and every kustomization.yaml.
        Raises `ConfigError` when two places of the config give one object, or
        an object's file name is too long (`fn.collisions`)."""
        generated = self.generated(cluster, extra)
        tree = self.layout.integrate(cluster, generated, existing=existing)
        problems = (object_clashes(generated, self.target_namespace_overrides, cluster.crd_scopes)
                    + long_file_names(tree))
        if problems:
            raise ConfigError(problems, cluster.file)
        return tree

    # -- what the shell asks of an engine -------------------------------------
    def validate(self, cluster) -> list:
        """The engine's own rules over a cluster the model accepted: a list of
        `Problem`s (errors and warnings) with config field paths."""
        return []

    def shared_names(self, cluster) -> list[tuple[tuple, str, str]]:
        """(key, config field, description) of each name that one place holds
        for every cluster of a run, so two clusters must not both give it
        (`fn.fleet`); e.g. Argo CD Applications, all in one namespace."""
        return []

    def schema_extension(self):
        """JSON Schema of the config's free-form fields this engine gives
        meaning to (a `fn.model.schema.SchemaExtension`), or None."""
        return None

    def carry_over(self, cluster, previous) -> None:
        """Keep what the cluster's previous render holds and a tool other
        than kure-fn changed since (image tags committed by an automation):
        `previous` iterates the objects of that render (read lazily)."""

    def listed_if_present(self, cluster) -> frozenset[str]:
        """Files the tree lists when they exist in the repository but never
        generates (and never takes as `resources`), e.g. gotk-components.yaml."""
        return frozenset()
