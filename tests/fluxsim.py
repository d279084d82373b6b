"""Flux simulation: what Flux would apply from a repository tree on disk.

Given a repository directory (written by `kpt fn render` or `kure-fn
render`) and a cluster directory inside it, `simulate` does what Flux does
after bootstrap, with `kubectl kustomize` in place of kustomize-controller:

1. build the cluster directory (the bootstrap sync path);
2. for every Flux Kustomization applied so far whose sourceRef is the tree's
   own source, build its `spec.path` too (applying its `targetNamespace`),
   recursively; Kustomizations of other sources (external bundles, artifacts)
   are skipped, and the bootstrap sync Kustomization (its path is the cluster
   directory) is the root build itself. An external bundle on the tree's own
   source is built like any when its path exists in the repository; when
   it does not and the caller lists the path in `by_hand` (a directory the
   repository keeps by hand, which kure-fn does not write) it is recorded in
   `absent` instead of being a problem;
3. check the invariants of output.md:
   - every directory built has a `kustomization.yaml` (otherwise Flux would
     generate one and apply every file below it);
   - every generated object (annotated `fn.kure.dev/cluster`) found on disk
     under the repository is applied exactly once, and no object is applied
     twice;
   - every Kustomization `sourceRef` / `dependsOn` / Flux-kind
     `healthChecks`, HelmRelease `chart.spec.sourceRef` / `chartRef` /
     `dependsOn`, Alert `providerRef` / named `eventSources`, Receiver
     `resources`, ImagePolicy `imageRepositoryRef` and ImageUpdateAutomation
     `sourceRef` resolves to an object
     that is applied or that bootstrap creates (the FluxInstance sync source
     and Kustomization, named after the Flux namespace; the source of the
     gotk-sync Kustomization) or that is assumed to exist (the tree's own
     source, when no bootstrap object is in the tree: `flux bootstrap` made
     it), or an ExternalArtifact that an applied ArtifactGenerator lists
     (whose own `sources` must resolve too); `outside`: (kind, namespace,
     name) of objects the config names outside itself (dependsOn
     {name, namespace}), taken as existing;
   - every Flux object outside the bootstrap namespace lives in a Namespace
     applied by the same Kustomization or by the root build (Flux applies
     Namespaces first; one applied later would come too late);
   - tenants, as the controllers see them: a Kustomization or HelmRelease
     with `serviceAccountName` impersonates that ServiceAccount of its own
     namespace, which must be applied with a RoleBinding in the same apply
     as the object or earlier (by the bootstrap sync); every reference it
     carries stays in its namespace; what it applies (a Kustomization's
     objects, a HelmRelease's target namespace) lies in namespaces where the
     ServiceAccount is bound, and is never cluster-scoped;
   - `lockdown=True` (the controllers' --no-cross-namespace-refs, FluxInstance
     cluster.multitenant): no sourceRef, chartRef or dependsOn of any object
     crosses namespaces.

A source applied in the cluster directory with the kind and URL of the
tree's own source holds the tree too (a tenant's copy of it).

`check(...)` raises AssertionError listing every problem; `simulate(...)`
returns the Simulation for further assertions; `reconcile(sim, ...)` then
plays Flux's ordering round by round (dependsOn, waiting for HelmReleases,
custom resources refused until the chart that installs their CRDs is
Ready). Needs `kubectl` on PATH.
"""

from __future__ import annotations

import posixpath
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

OWNER = "fn.kure.dev/cluster"
LOCAL_CONFIG = "config.kubernetes.io/local-config"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
ARTIFACT_GROUP = "source.extensions.fluxcd.io"
NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"
IMAGE_GROUP = "image.toolkit.fluxcd.io"
EVENT_GROUPS = {"Kustomization": KUSTOMIZE_GROUP, "HelmRelease": HELM_GROUP}
OPERATOR_GROUP = "fluxcd.controlplane.io"
SYNC = "<bootstrap sync>"
# (API group, kind) of the cluster-scoped kinds the tests use, written out
# here (not taken from fn.kinds) so the simulation judges kure-fn independently;
# CustomResourceDefinitions found in the repository add their own kinds.
CLUSTER_SCOPED = frozenset({
    ("", "Namespace"), ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("scheduling.k8s.io", "PriorityClass"), ("storage.k8s.io", "StorageClass"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"),
    ("cert-manager.io", "ClusterIssuer"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiregistration.k8s.io", "APIService"), ("node.k8s.io", "RuntimeClass"),
    ("gateway.networking.k8s.io", "GatewayClass"), ("kyverno.io", "ClusterPolicy"),
    ("external-secrets.io", "ClusterSecretStore"),
})

Key = tuple  # (group, kind, namespace, name)


def group_of(obj: dict) -> str:
    api = str(obj.get("apiVersion", ""))
    return api.split("/", 1)[0] if "/" in api else ""


def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return (group_of(obj), obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def show(key: Key) -> str:
    group, kind, ns, name = key
    return f"{kind}{'.' + group if group else ''} {ns + '/' if ns else ''}{name}"


def normalise(path: str) -> str:
    """A Flux spec.path as a repository-relative directory ('' = the root)."""
    p = posixpath.normpath(path.strip() or ".")
    return "" if p in (".", "/") else p.lstrip("/")


@dataclass
class Simulation:
    repo: Path
    cluster_dir: str
    builds: dict[str, list[dict]] = field(default_factory=dict)  # dir -> objects applied from it
    applied: dict[Key, list[str]] = field(default_factory=dict)  # object as applied -> appliers
    built: dict[Key, list[str]] = field(default_factory=dict)    # object as on disk -> appliers
    objects: dict[Key, dict] = field(default_factory=dict)       # applied object by key
    generated: dict[Key, str] = field(default_factory=dict)      # must be applied once -> file
    created: set[Key] = field(default_factory=set)               # created by bootstrap / assumed
    followed: list[str] = field(default_factory=list)            # Kustomizations built
    paths: dict[Key, str] = field(default_factory=dict)          # Kustomization built -> its dir
    skipped: list[str] = field(default_factory=list)             # other sources' Kustomizations
    absent: list[str] = field(default_factory=list)              # tree-source paths not on disk
    own_sources: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, ns, name)
    own_urls: set[tuple[str, str]] = field(default_factory=set)  # (kind, url) of those
    crds: dict[tuple[str, str], bool] = field(default_factory=dict)  # (group, kind) -> namespaced
    problems: list[str] = field(default_factory=list)

    def exists(self, key: Key) -> bool:
        return key in self.applied or key in self.created

    def is_namespaced(self, obj: dict) -> bool:
        key = (group_of(obj), obj.get("kind"))
        return self.crds.get(key, key not in CLUSTER_SCOPED)

    def kinds_applied(self, kind: str) -> list[dict]:
        return [o for k, o in self.objects.items() if k[1] == kind]


class Kustomize:
    """`kubectl kustomize` with a cache (a directory is built once per run)."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.cache: dict[str, list[dict] | str] = {}

    def build(self, directory: str) -> list[dict] | str:
        """The objects, or the error text."""
        if directory not in self.cache:
            proc = subprocess.run(["kubectl", "kustomize", str(self.repo / directory)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                self.cache[directory] = proc.stderr.strip() or f"exit {proc.returncode}"
            else:
                self.cache[directory] = [d for d in yaml.safe_load_all(proc.stdout) if d]
        return self.cache[directory]


def documents(repo: Path):
    """(repository-relative path, object) of every YAML object on disk."""
    for f in sorted(repo.rglob("*.y*ml")):
        rel = f.relative_to(repo)
        if any(part.startswith(".") for part in rel.parts) or f.suffix not in (".yaml", ".yml"):
            continue
        try:
            docs = list(yaml.safe_load_all(f.read_text()))
        except yaml.YAMLError:
            continue
        for d in docs:
            if isinstance(d, dict):
                yield rel.as_posix(), d


def generated_objects(repo: Path, cluster: str | None = None) -> dict[Key, str]:
    """Every object on disk carrying the ownership annotation (of `cluster`, or any)."""
    out: dict[Key, str] = {}
    for rel, d in documents(repo):
        anns = (d.get("metadata") or {}).get("annotations") or {}
        owner = anns.get(OWNER)
        if owner is None or str(anns.get(LOCAL_CONFIG, "")).lower() == "true":
            continue
        if cluster is None or owner == cluster:
            out[key_of(d)] = rel
    return out


def crd_scopes(repo: Path) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, from the CustomResourceDefinitions on disk."""
    out: dict[tuple[str, str], bool] = {}
    for _, d in documents(repo):
        if (group_of(d), d.get("kind")) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            spec = d.get("spec") or {}
            out[(spec.get("group"), (spec.get("names") or {}).get("kind"))] = \
                spec.get("scope") != "Cluster"
    return out


def simulate(repo: str | Path, cluster_dir: str, *, cluster: str | None = None,
             own_sources: set[tuple[str, str]] = frozenset(),
             namespace: str = "flux-system", also: dict[Key, str] | None = None,
             lockdown: bool = False,
             outside: set[tuple[str, str, str]] = frozenset(),
             by_hand: set[str] = frozenset()) -> Simulation:
    """Follow the tree from `cluster_dir` (relative to `repo`) as Flux would.

    cluster: only objects owned by this cluster count as generated (default:
    the cluster directory's last segment). own_sources: extra (kind, name)
    sources that hold this tree besides the bootstrap sync source. also:
    more objects (key -> where they came from) that must be applied exactly
    once, such as items placed by `resources` selectors (they carry no
    ownership annotation).
    """
    repo = Path(repo)
    cluster_dir = normalise(cluster_dir)
    sim = Simulation(repo, cluster_dir)
    kustomize = Kustomize(repo)
    cluster = cluster or posixpath.basename(cluster_dir)
    sim.generated = {**generated_objects(repo, cluster), **(also or {})}
    sim.crds = crd_scopes(repo)

    root = _build(sim, kustomize, cluster_dir, SYNC, None)
    _bootstrap(sim, root or [], namespace, own_sources)
    _copies_of_own_sources(sim, root or [])

    queue = [o for o in (root or []) if _is_flux_kustomization(o)]
    seen: set[Key] = set()
    while queue:
        ks = queue.pop(0)
        k = _effective_key(ks, None)
        if k in seen:
            continue
        seen.add(k)
        spec = ks.get("spec") or {}
        ref = spec.get("sourceRef") or {}
        src = (ref.get("kind"), ref.get("namespace") or k[2], ref.get("name"))
        if src not in sim.own_sources:
            sim.skipped.append(show(k))
            continue
        path = normalise(str(spec.get("path", "")))
        if path == cluster_dir:
            continue  # the bootstrap sync itself (gotk-sync Kustomization)
        if path in {normalise(p) for p in by_hand} and not (repo / path).is_dir():
            sim.absent.append(f"{show(k)}: ./{path}")
            continue
        sim.followed.append(show(k))
        sim.paths[k] = path
        built = _build(sim, kustomize, path, show(k), spec.get("targetNamespace"))
        queue.extend(o for o in built or [] if _is_flux_kustomization(o))

    for kind, ns, name in outside:
        group = HELM_GROUP if kind == "HelmRelease" else KUSTOMIZE_GROUP
        sim.created.add((group, kind, ns, name))
    _check_counts(sim)
    _check_references(sim, lockdown)
    _check_namespaces(sim, namespace)
    _check_tenants(sim)
    return sim


def check(repo: str | Path, cluster_dir: str, **kwargs) -> Simulation:
    sim = simulate(repo, cluster_dir, **kwargs)
    assert not sim.problems, "Flux simulation of %s/%s:\n  %s" % (
        repo, cluster_dir, "\n  ".join(sim.problems))
    return sim


# -- steps ----------------------------------------------------------------------

def _build(sim: Simulation, kustomize: Kustomize, directory: str, applier: str,
           target_namespace: str | None) -> list[dict] | None:
    where = directory or "."
    if ".." in directory.split("/"):
        sim.problems.append(f"{applier}: path {where!r} leaves the repository")
        return None
    if not (sim.repo / directory).is_dir():
        sim.problems.append(f"{applier}: path {where!r} does not exist")
        return None
    if not (sim.repo / directory / "kustomization.yaml").is_file():
        sim.problems.append(f"{applier}: {where}/ has no kustomization.yaml (Flux would generate "
                            "one that applies every manifest below it)")
        return None
    result = kustomize.build(directory)
    if isinstance(result, str):
        sim.problems.append(f"{applier}: kubectl kustomize {where} failed: {result}")
        return None
    objects = []
    for obj in result:
        sim.built.setdefault(key_of(obj), []).append(applier)
        moved_to = target_namespace if sim.is_namespaced(obj) else None
        key = _effective_key(obj, moved_to)
        if moved_to:
            obj = {**obj, "metadata": {**(obj.get("metadata") or {}), "namespace": moved_to}}
        sim.applied.setdefault(key, []).append(applier)
        sim.objects[key] = obj
        objects.append(obj)
    sim.builds[directory] = objects
    return objects


def _bootstrap(sim: Simulation, root: list[dict], namespace: str,
               own_sources: set[tuple[str, str]]) -> None:
    """What bootstrap creates, and which source holds the tree."""
    found = False
    for obj in root:
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or namespace
        if group_of(obj) == OPERATOR_GROUP and obj.get("kind") == "FluxInstance":
            sync = (obj.get("spec") or {}).get("sync")
            if sync:
                name = sync.get("name") or ns
                sim.created.add((SOURCE_GROUP, sync.get("kind"), ns, name))
                sim.created.add((KUSTOMIZE_GROUP, "Kustomization", ns, name))
                sim.own_sources.add((sync.get("kind"), ns, name))
                sim.own_urls.add((sync.get("kind"), sync.get("url")))
                found = True
                if normalise(str(sync.get("path", ""))) != sim.cluster_dir:
                    sim.problems.append(f"FluxInstance {meta.get('name')}: sync.path "
                                        f"{sync.get('path')!r} is not the cluster directory "
                                        f"./{sim.cluster_dir}")
        elif _is_flux_kustomization(obj):
            spec = obj.get("spec") or {}
            if normalise(str(spec.get("path", ""))) == sim.cluster_dir:  # gotk-sync
                ref = spec.get("sourceRef") or {}
                src = (ref.get("kind"), ref.get("namespace") or ns, ref.get("name"))
                sim.own_sources.add(src)
                sim.created.add((SOURCE_GROUP, *src))  # gotk-sync.yaml holds it, or bootstrap made it
                found = True
    if not found:  # no bootstrap object: `flux bootstrap` made the sync source
        sim.own_sources.add(("GitRepository", namespace, namespace))
        sim.created.add((SOURCE_GROUP, "GitRepository", namespace, namespace))
    for kind, name in own_sources:
        sim.own_sources.add((kind, namespace, name))


def _check_counts(sim: Simulation) -> None:
    twice = {k: a for k, a in sim.built.items() if len(a) > 1}
    twice.update((k, a) for k, a in sim.applied.items() if len(a) > 1)
    for key, appliers in sorted(twice.items(), key=lambda kv: str(kv[0])):
        sim.problems.append(f"{show(key)} is applied {len(appliers)} times "
                            f"(by {', '.join(appliers)})")
    for key, path in sorted(sim.generated.items(), key=lambda kv: str(kv[0])):
        if key not in sim.built:
            sim.problems.append(f"{show(key)} ({path}) is applied by no Kustomization")


def _copies_of_own_sources(sim: Simulation, root: list[dict]) -> None:
    """Sources the bootstrap sync applies with the kind and URL of one that
    holds the tree hold the tree as well (a tenant's copy in its namespace)."""
    sources = [o for o in root if group_of(o) == SOURCE_GROUP]
    for o in sources:
        if (o.get("kind"), *key_of(o)[2:]) in sim.own_sources:
            sim.own_urls.add((o.get("kind"), (o.get("spec") or {}).get("url")))
    for o in sources:
        if (o.get("kind"), (o.get("spec") or {}).get("url")) in sim.own_urls:
            sim.own_sources.add((o.get("kind"), *key_of(o)[2:]))


def _check_references(sim: Simulation, lockdown: bool = False) -> None:
    for key, obj in sim.objects.items():  # the ExternalArtifacts ArtifactGenerators make
        if key[:2] == (ARTIFACT_GROUP, "ArtifactGenerator"):
            for art in (obj.get("spec") or {}).get("artifacts") or []:
                sim.created.add((SOURCE_GROUP, "ExternalArtifact", key[2], art.get("name")))
    for key, obj in sorted(sim.objects.items(), key=lambda kv: str(kv[0])):
        ns = key[2]
        spec = obj.get("spec") or {}
        refs: list[tuple[str, str, dict]] = []
        if key[0] == KUSTOMIZE_GROUP and key[1] == "Kustomization":
            refs.append(("sourceRef", SOURCE_GROUP, spec.get("sourceRef") or {}))
            refs += [("dependsOn", KUSTOMIZE_GROUP, {"kind": "Kustomization", **d})
                     for d in spec.get("dependsOn") or []]
            refs += [("healthChecks", group_of(c), c) for c in spec.get("healthChecks") or []
                     if group_of(c).endswith(".fluxcd.io")]  # Flux objects of the tree
        elif key[0] == HELM_GROUP and key[1] == "HelmRelease":
            chart_spec = (spec.get("chart") or {}).get("spec") or {}
            if chart_spec:
                refs.append(("chart.spec.sourceRef", SOURCE_GROUP, chart_spec.get("sourceRef") or {}))
            if spec.get("chartRef"):
                refs.append(("chartRef", SOURCE_GROUP, spec["chartRef"]))
            refs += [("dependsOn", HELM_GROUP, {"kind": "HelmRelease", **d})
                     for d in spec.get("dependsOn") or []]
        elif key[:2] == (ARTIFACT_GROUP, "ArtifactGenerator"):
            refs += [("sources", SOURCE_GROUP, src) for src in spec.get("sources") or []]
        elif key[0] == NOTIFICATION_GROUP and key[1] == "Alert":
            refs.append(("providerRef", NOTIFICATION_GROUP,
                         {"kind": "Provider", **(spec.get("providerRef") or {})}))
            refs += [("eventSources", EVENT_GROUPS.get(s.get("kind"), SOURCE_GROUP), s)
                     for s in spec.get("eventSources") or [] if s.get("name") != "*"]
        elif key[0] == NOTIFICATION_GROUP and key[1] == "Receiver":
            refs += [("resources", EVENT_GROUPS.get(r.get("kind"), IMAGE_GROUP
                                                    if r.get("kind") == "ImageRepository"
                                                    else SOURCE_GROUP), r)
                     for r in spec.get("resources") or []]
        elif key[0] == IMAGE_GROUP and key[1] == "ImagePolicy":
            refs.append(("imageRepositoryRef", IMAGE_GROUP,
                         {"kind": "ImageRepository", **(spec.get("imageRepositoryRef") or {})}))
        elif key[0] == IMAGE_GROUP and key[1] == "ImageUpdateAutomation":
            refs.append(("sourceRef", SOURCE_GROUP, spec.get("sourceRef") or {}))
        tenant = spec.get("serviceAccountName")
        for what, group, ref in refs:
            target = (group, ref.get("kind"), ref.get("namespace") or ns, ref.get("name"))
            if target[2] != ns and (tenant or lockdown and what != "healthChecks"):
                sim.problems.append(f"{show(key)}: {what} {show(target)} crosses namespaces"
                                    + (f" (it reconciles as tenant {tenant!r})" if tenant else
                                       ", refused with --no-cross-namespace-refs"))
            if not ref.get("kind") or not ref.get("name"):
                sim.problems.append(f"{show(key)}: {what} is incomplete: {ref}")
            elif not sim.exists(target):
                sim.problems.append(f"{show(key)}: {what} {show(target)} is neither applied nor "
                                    "created by bootstrap")


def _check_tenants(sim: Simulation) -> None:
    """Kustomizations and HelmReleases that impersonate a ServiceAccount."""
    bindings: dict[tuple[str, str], set[str]] = {}  # (namespace, account) -> bound namespaces
    for key, obj in sim.objects.items():
        if key[:2] == ("rbac.authorization.k8s.io", "RoleBinding"):
            for s in obj.get("subjects") or []:
                if s.get("kind") == "ServiceAccount":
                    bindings.setdefault((s.get("namespace") or key[2], s.get("name")),
                                        set()).add(key[2])
    for key, obj in sorted(sim.objects.items(), key=lambda kv: str(kv[0])):
        spec = obj.get("spec") or {}
        account = spec.get("serviceAccountName")
        if not account or key[:2] not in ((KUSTOMIZE_GROUP, "Kustomization"),
                                          (HELM_GROUP, "HelmRelease")):
            continue
        ns = key[2]
        sa = ("", "ServiceAccount", ns, account)
        mine = sim.applied.get(key, [])
        if not sim.exists(sa):
            sim.problems.append(f"{show(key)}: impersonates {show(sa)}, which is not applied")
        elif not set(sim.applied.get(sa, [])) & (set(mine) | {SYNC}):
            sim.problems.append(f"{show(key)}: {show(sa)} is applied by "
                                f"{', '.join(sim.applied[sa])}, not before the object itself")
        bound = bindings.get((ns, account), set())
        if key[1] == "HelmRelease":
            target = spec.get("targetNamespace") or ns
            if target not in bound:
                sim.problems.append(f"{show(key)}: installs into {target!r}, where {account!r} "
                                    "is not bound")
            continue
        for o in sim.builds.get(normalise(str(spec.get("path", ""))), []) \
                if (spec.get("sourceRef") or {}).get("kind") and show(key) in sim.followed else []:
            where = (o.get("metadata") or {}).get("namespace")
            if not sim.is_namespaced(o):
                sim.problems.append(f"{show(key)}: applies cluster-scoped {show(key_of(o))} as "
                                    f"tenant {account!r}")
            elif where not in bound:
                sim.problems.append(f"{show(key)}: applies {show(key_of(o))} into {where!r}, "
                                    f"where {account!r} is not bound")


def _check_namespaces(sim: Simulation, namespace: str) -> None:
    for key, appliers in sorted(sim.applied.items(), key=lambda kv: str(kv[0])):
        group, _, ns, _ = key
        if not ns or ns == namespace or not (group.endswith(".fluxcd.io") or group == OPERATOR_GROUP):
            continue
        by = sim.applied.get(("", "Namespace", "", ns), [])
        if not any(a in by for a in (SYNC, *appliers)):
            sim.problems.append(f"{show(key)}: namespace {ns!r} is applied neither by the root "
                                f"build nor by {', '.join(appliers)}")
# -- ordering ---------------------------------------------------------------------

@dataclass
class Reconciliation:
    ready: list[str]      # Kustomizations and HelmReleases, in the order they became Ready
    failures: list[str]   # applies refused (a kind whose CRDs a chart installs, not yet Ready)
    stuck: list[str]      # never Ready


def reconcile(sim: Simulation, chart_crds: dict[str, set[str]] | None = None) -> Reconciliation:
    """Flux's ordering over the Kustomizations `simulate` followed, round by
    round. A Kustomization applies once every dependsOn is Ready; the apply
    fails (and is retried) while one of its objects is of an API group that
    a HelmRelease installs (`chart_crds`: HelmRelease name -> API groups of
    its chart's CRDs) and that release is not Ready. A HelmRelease is Ready
    the round after it is applied, once its dependsOn are Ready. A
    Kustomization is Ready once applied and what it waits for is Ready:
    with wait, its HelmReleases; else its health-checked HelmReleases."""
    chart_crds = chart_crds or {}
    provider = {g: name for name, groups in chart_crds.items() for g in groups}
    kustomizations = {k: sim.objects[k] for k in sim.paths}
    releases = {k: o for k, o in sim.objects.items() if k[:2] == (HELM_GROUP, "HelmRelease")}
    ready: list[Key] = []
    failures: list[str] = []
    applied: set[Key] = set()

    def deps(obj: dict, key: Key, group: str, kind: str) -> list[Key]:
        return [(group, kind, d.get("namespace") or key[2], d["name"])
                for d in (obj.get("spec") or {}).get("dependsOn") or []]

    def is_ready(key: Key) -> bool:  # what the simulation does not follow is taken as Ready
        return key in ready or (key not in kustomizations and key not in releases)

    progress = True
    while progress:
        progress = False
        for key, hr in releases.items():
            if key in applied and key not in ready and all(
                    is_ready(d) for d in deps(hr, key, HELM_GROUP, "HelmRelease")):
                ready.append(key)
                progress = True
        for key, ks in kustomizations.items():
            spec = ks.get("spec") or {}
            built = sim.builds.get(sim.paths[key], [])
            if key not in applied and all(is_ready(d) for d in
                                          deps(ks, key, KUSTOMIZE_GROUP, "Kustomization")):
                missing = [o for o in built if group_of(o) in provider
                           and (HELM_GROUP, "HelmRelease", key[2], provider[group_of(o)]) not in ready]
                if missing:
                    failure = f"{show(key)}: no matches for kind {missing[0].get('kind')}"
                    if failure not in failures:
                        failures.append(failure)
                    continue
                applied.add(key)
                applied.update(key_of(o) for o in built if key_of(o) in releases)
                progress = True
            if key in applied and key not in ready:
                if spec.get("wait"):
                    waits = [key_of(o) for o in built if key_of(o) in releases]
                else:
                    waits = [(HELM_GROUP, "HelmRelease", c.get("namespace") or key[2], c["name"])
                             for c in spec.get("healthChecks") or [] if c.get("kind") == "HelmRelease"]
                if all(is_ready(w) for w in waits):
                    ready.append(key)
                    progress = True
    stuck = [show(k) for k in [*kustomizations, *releases] if k not in ready]
    return Reconciliation([show(k) for k in ready], failures, stuck)


def _is_flux_kustomization(obj: dict) -> bool:
    return group_of(obj) == KUSTOMIZE_GROUP and obj.get("kind") == "Kustomization"


def _effective_key(obj: dict, target_namespace: str | None) -> Key:
    """The key of an object as applied; target_namespace only for namespaced ones."""
    group, kind, ns, name = key_of(obj)
    return group, kind, target_namespace or ns, name
