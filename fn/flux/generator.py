"""Resource generator: cluster, node or bundle → Flux objects. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import BundleGenerator, Generated, app_objects, canonical, present, staged_objects
from ..kinds import with_default_namespace
from ..layout.plan import TreePlan, relative_path, repo_path
from ..model.cluster import EXTERNAL_ARTIFACT, STAGES, Application, Bundle, Cluster, Source
from ..model.profiles import deep_merge
from .helm import HELM_API, helm_objects
from .platform import platform_objects
from .refs import depends_on
from .sources import ChartSources, artifact_generator, source_object, tree_source_copy
from .tenants import generated_tenants, service_account, tenant_namespaces

KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"


class ResourceGenerator(BundleGenerator):
    def generate_cluster(self, cluster: Cluster) -> list[Generated]:
        """The bundles' objects and the tenants' (flux create tenant)."""
        return super().generate_cluster(cluster) + generated_tenants(cluster)

    def generate(self, cluster: Cluster, bundles: list[Bundle]) -> list[Generated]:
        plan = TreePlan.for_cluster(cluster)
        charts = ChartSources(cluster)
        out: list[Generated] = []
        apps = [a for b in bundles for a in b.applications]
        ready = {b.name: b.ready_name for b in cluster.bundles()}
        for bundle in bundles:
            ks = self.kustomization(bundle, plan, ready)
            out.append(Generated(ks, "kustomization", bundle, path=f"{bundle.path}.name"))
            out.extend(Generated(stage_kustomization(bundle, stage, ks, plan, ready),
                                 "kustomization", bundle, path=bundle.stage_path(stage))
                       for stage in bundle.stages)
            for app in bundle.applications:
                out.extend(app_objects(app, self.application(app, charts)))
                for stage in STAGES:
                    out.extend(staged_objects(app, stage, [self._manifest(m, app)
                                                           for m in app.staged(stage)]))
        out.extend(Generated(obj, "chart-source" if for_charts else "source", None,
                             path=f"{src.path}.name")
                   for obj, for_charts, src in self.sources(cluster, bundles, charts))
        derived_by = chart_users(apps, charts)
        out.extend(Generated(obj, "chart-source", None,
                             path=derived_by[(obj["metadata"]["namespace"], obj["metadata"]["name"])])
                   for obj in charts.objects(apps))
        out.extend(tree_source_copies(cluster, bundles))
        out.extend(platform_objects(cluster, bundles))
        return with_namespaces(cluster, out)

    # -- the Flux Kustomization of a bundle ------------------------------------
    def kustomization(self, bundle: Bundle, plan: TreePlan,
                      ready: dict[str, str] | None = None) -> dict:
        """`ready`: bundle name -> the Kustomization that says it is ready
        (`Bundle.ready_name`; default: worked out from the bundle's cluster)."""
        if ready is None:
            ready = {b.name: b.ready_name for b in bundle.cluster.bundles()}
        cluster = bundle.cluster
        ns = bundle.flux_namespace
        s = bundle.spec
        meta: dict = {"name": bundle.name, "namespace": ns}
        if s.labels:
            meta["labels"] = dict(s.labels)
        if s.annotations:
            meta["annotations"] = dict(s.annotations)
        if bundle.is_external:  # a declared source, an artifact, or the tree's own source
            use = cluster.source_use(bundle.source_name)
            source_ref = {"kind": use.kind, "name": use.name, "namespace": use.namespace}
            path = repo_path(relative_path(s.path))
        else:
            source_ref = {**cluster.source_ref.to_data(), "namespace": tree_source_namespace_of(bundle)}
            path = repo_path(plan.bundle_dir(bundle))
        # the bundle's own typed fields over the defaults it inherits (spec.flux.defaults,
        # nodes), its own kustomization overlay over both: the closest setting wins
        spec: dict = {"path": path, "sourceRef": source_ref}
        spec.update(present(interval=s.interval, retryInterval=s.retryInterval, timeout=s.timeout,
                            prune=s.prune, wait=s.wait))
        if s.wait is None and s.healthChecks:
            spec["wait"] = False
        spec.update(present(force=s.force, suspend=s.suspend, targetNamespace=s.targetNamespace,
                            serviceAccountName=s.serviceAccountName or service_account(bundle)))
        # typed Flux fields (docs/config.md, "Flux fields: typed and overlays")
        spec.update(present(deletionPolicy=s.deletionPolicy, namePrefix=s.namePrefix,
                            nameSuffix=s.nameSuffix))
        if s.healthCheckExprs:
            spec["healthCheckExprs"] = [e.to_data() for e in s.healthCheckExprs]
        for key in ("commonMetadata", "kubeConfig"):
            if getattr(s, key) is not None:
                spec[key] = getattr(s, key).to_data()
        if s.decryption is not None:
            spec["decryption"] = s.decryption.to_data()
        if s.components:
            spec["components"] = s.components
        checks = health_checks(bundle)
        if checks:
            spec["healthChecks"] = checks
        if s.patches:
            spec["patches"] = [p.to_data() for p in s.patches]
        post = s.postBuild
        if post is not None and (post.substitute or post.substituteFrom):
            spec["postBuild"] = {k: v for k, v in post.to_data().items() if v}
        if "pre" in bundle.stages:
            spec["dependsOn"] = [{"name": bundle.stage_name("pre"), "namespace": ns}]
        elif bundle.dependencies:
            spec["dependsOn"] = depends_on(bundle.dependencies, ns, ready)
        spec = deep_merge(deep_merge(bundle.node.kustomization_defaults, spec),
                          s.kustomization or {})
        return canonical({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                          "metadata": meta, "spec": left_out(spec)})

    # -- applications ----------------------------------------------------------
    def application(self, app: Application, charts: ChartSources) -> list[dict]:
        if app.helm is not None:
            return helm_objects(app, charts)
        # none for `resources`: they select input items, which the function shell places
        return [self._manifest(m, app) for m in app.spec.manifests]

    @staticmethod
    def _manifest(m: dict, app: Application) -> dict:
        return with_default_namespace(m, app.namespace, app.cluster.crd_scopes)

    # -- declared sources -------------------------------------------------------
    def sources(self, cluster: Cluster, bundles: Iterable[Bundle],
                charts: ChartSources) -> list[tuple[dict, bool, Source]]:
        """Declared sources that something references (or the tree's own source),
        each with whether Helm charts come from it, and the artifact sources
        whose artifacts something references, with the sources they split."""
        used: dict[str, bool] = {}  # name -> used as a Helm chart source
        generators: set[str] = set()  # artifact sources used
        ref_name = cluster.source_ref.name
        if ref_name in cluster.sources:
            used[ref_name] = False
        for b in bundles:
            if b.is_external:
                _use(cluster, b.source_name, used, generators)
            for app in b.applications:
                h = app.helm
                if h is not None and h.source:
                    if h.source in cluster.sources:
                        used[h.source] = True
                    else:
                        _use(cluster, h.source, used, generators)
                elif h is not None and charts.for_app(app) is not None:
                    name = charts.for_app(app)[1]
                    if name in cluster.sources:
                        used[name] = True
        for g in sorted(generators):
            for name in cluster.artifact_sources[g].spec.sources.values():
                _use(cluster, name, used, generators)
        out = [(source_object(cluster.sources[n], cluster.sources[n].namespace,
                              helm_chart=used[n]), used[n], cluster.sources[n]) for n in sorted(used)]
        return out + [(artifact_generator(cluster.artifact_sources[g], cluster,
                                          cluster.artifact_sources[g].namespace), False,
                       cluster.artifact_sources[g]) for g in sorted(generators)]


def _use(cluster: Cluster, name: str | None, used: dict[str, bool], generators: set[str]) -> None:
    """Mark what a bundle's (or artifact source's) source name needs emitted."""
    use = cluster.source_use(name)
    if use is not None and use.declared is not None:
        if use.kind == EXTERNAL_ARTIFACT:
            generators.add(use.declared.name)
        else:
            used.setdefault(use.name, False)


# the bundle's fields that concern its own objects, not its helm.pre / helm.post
STAGE_OMITS = ("dependsOn", "healthChecks", "healthCheckExprs", "patches", "components")


def stage_kustomization(bundle: Bundle, stage: str, ks: dict, plan: TreePlan,
                        ready: dict[str, str]) -> dict:
    """<bundle>-pre / <bundle>-post (helm.pre / helm.post): the bundle's
    Kustomization `ks` (namespace, source, interval, timeout, prune, ...)
    for the stage's directory, without what concerns the bundle's own objects
    (health checks, patches, components). pre takes the bundle's dependsOn
    (the bundle depends on pre); post depends on the bundle, which is Ready
    only once its HelmReleases are (`health_checks`)."""
    spec = {k: v for k, v in ks["spec"].items() if k not in STAGE_OMITS}
    spec["path"] = repo_path(plan.stage_dir(bundle, stage))
    spec["wait"] = bundle.wait  # the bundle's own, not turned off for health checks: none here
    spec = left_out(spec)
    ns = ks["metadata"]["namespace"]
    deps = depends_on(bundle.dependencies, ns, ready) if stage == "pre" \
        else [{"name": bundle.name, "namespace": ns}]
    if deps:
        spec["dependsOn"] = deps
    return canonical({**ks, "metadata": {**ks["metadata"], "name": bundle.stage_name(stage)},
                      "spec": spec})


def chart_users(apps: list[Application], charts: ChartSources) -> dict[tuple[str, str], str]:
    """(namespace, chart source name) -> the config field of the first
    application that derives it (its helm.repository)."""
    users: dict[tuple[str, str], str] = {}
    for app in apps:
        derived = charts.for_app(app)
        if derived is not None:
            users.setdefault((derived[2], derived[1]), f"{app.path}.helm.repository")
    return users


# -- namespaces (fluxNamespace) ---------------------------------------------------

def tree_source_namespace(cluster: Cluster) -> str:
    """Where the source holding the tree lives: a declared source's namespace,
    else spec.flux.namespace (bootstrap creates it there)."""
    return cluster.source_use(None).namespace


def tree_source_namespace_of(bundle: Bundle) -> str:
    """Where a rendered bundle's Kustomization finds the tree's source: a
    tenant bundle in its own namespace (a copy, `tree_source_copies`), any
    other where the source lives."""
    if bundle.tenant is not None:
        return bundle.flux_namespace
    return tree_source_namespace(bundle.cluster)


def tree_source_copies(cluster: Cluster, bundles: list[Bundle]) -> list[Generated]:
    """The tree's own source in each tenant namespace that rendered bundles of
    a tenant read from (their Kustomizations impersonate the tenant, which
    must not reach into spec.flux.namespace). fn.flux.rules refuses a tenant
    bundle when kure-fn does not know the source."""
    home = tree_source_namespace(cluster)
    first: dict[str, str] = {}  # namespace -> the tenant field that puts a bundle there
    for b in bundles:
        if b.tenant is not None and not b.is_external and b.flux_namespace != home:
            first.setdefault(b.flux_namespace, b.tenant_path)
    return [Generated(obj, "source", None, path=first[ns]) for ns in sorted(first)
            if (obj := tree_source_copy(cluster, ns)) is not None]


def with_namespaces(cluster: Cluster, generated: list[Generated]) -> list[Generated]:
    """`generated` with a Namespace for every namespace other than
    spec.flux.namespace that holds a Flux object kure-fn writes (fluxNamespace,
    a source's namespace). They sit in flux-system/, applied by the bootstrap
    sync before the Kustomizations and sources in them (Flux applies
    Namespaces first); a Namespace in a bundle would come too late for the
    bundle's own Kustomization. An inline Namespace manifest of such a
    namespace is the one written there (its labels, annotations and spec as
    given), and not in its bundle. A tenant's namespaces come with its RBAC
    (fn.flux.tenants)."""
    where = cluster.flux_namespaces()
    if not where:
        return generated
    needed = {g.obj["metadata"]["namespace"] for g in generated
              if g.role != "app" or g.owner.helm is not None}
    wanted = needed & set(where) - tenant_namespaces(cluster)
    given: dict[str, Generated] = {}
    out = []
    for g in generated:
        name = _namespace_name(g)
        if name in wanted and name not in given:  # a second one: fn.collisions says so
            given[name] = Generated(g.obj, "namespace", g.owner, path=g.path)
        else:
            out.append(g)
    return out + [given.get(ns) or Generated({"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": ns}}, "namespace", None,
                                             path=where[ns])
                  for ns in sorted(wanted)]


def _namespace_name(g: Generated) -> str | None:
    """The name of an inline Namespace manifest (not of helm.pre / helm.post)."""
    obj = g.obj
    if g.role == "app" and g.stage is None and obj.get("kind") == "Namespace" \
            and obj.get("apiVersion") == "v1":
        return obj["metadata"]["name"]
    return None


def left_out(spec: dict) -> dict:
    """A Kustomization spec without the fields a `kustomization` overlay (a
    bundle's or a default's) sets to null: Flux's own defaults apply."""
    return {k: v for k, v in spec.items() if v is not None}


def effective_wait(bundle: Bundle) -> bool:
    """wait as the bundle sets it (typed or in its kustomization overlay; a
    null there: Flux's default, false); unset with healthChecks: false (Flux
    ignores healthChecks under wait); otherwise the closest default
    (spec.flux.defaults: true; a null there: false)."""
    own = bundle.own_setting("wait")
    if own is not None or bundle.leaves_out("wait"):
        return bool(own)
    if bundle.spec.healthChecks:
        return False
    return bool(bundle.setting("wait"))


def health_checks(bundle: Bundle) -> list[dict]:
    """The user's health checks; without wait, also every HelmRelease of the
    bundle, so dependents start only once the releases are Ready — unless the
    bundle itself says wait: false (or leaves wait out, a null in its
    `kustomization` overlay) and lists no health checks: that is honoured
    as written (a default's wait: false is not the bundle saying so), except
    in a bundle with helm.post: its <bundle>-post needs the releases' CRDs."""
    checks = [c.to_data() for c in bundle.spec.healthChecks]
    says_no = bundle.own_setting("wait") is False or bundle.leaves_out("wait")
    if says_no and not checks and "post" not in bundle.stages:
        return checks
    if not effective_wait(bundle):
        have = {(c.kind, c.name, c.namespace) for c in bundle.spec.healthChecks}
        for app in bundle.applications:
            ns = app.flux_namespace
            if app.helm is not None and ("HelmRelease", app.name, ns) not in have:
                checks.append({"apiVersion": HELM_API, "kind": "HelmRelease",
                               "name": app.name, "namespace": ns})
    return checks
