"""Platform services around the bundles (platform.md): notifications
(`spec.notifications`: Provider, Alert, Receiver) and image automation
(`helm.image` + `spec.imageAutomation`: ImageRepository, ImagePolicy, one
ImageUpdateAutomation, and the setter marker in the HelmRelease values).
Pure: no I/O; the tag committed by the automation reaches the model through
`committed_tags` (`Engine.carry_over`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import Generated, canonical, present
from ..krm.yamlio import Commented
from ..layout.plan import TreePlan, repo_path
from ..model.cluster import Application, Cluster

NOTIFICATION_API = "notification.toolkit.fluxcd.io/v1beta3"
RECEIVER_API = "notification.toolkit.fluxcd.io/v1"
IMAGE_API = "image.toolkit.fluxcd.io/v1"
IMAGE_CONTROLLERS = ("image-reflector-controller", "image-automation-controller")
DEFAULT_BRANCH = "main"


def flux_namespace(owner) -> str:
    """The namespace of the Flux object generated for a bundle or a helm
    application (its Kustomization, its HelmRelease): its fluxNamespace."""
    return owner.flux_namespace


def _namespace_of(cluster: Cluster, kind: str, name: str) -> str:
    """Where the Flux object `kind`/`name` of this config lives (a receiver's
    resource): a bundle's, helm application's or declared source's
    namespace; anything else, and the source bootstrap makes, in
    spec.flux.namespace."""
    owner = cluster.bundle_by_name.get(name) if kind == "Kustomization" else \
        cluster.helm_app_by_name.get(name) if kind == "HelmRelease" else None
    if owner is not None:
        return owner.flux_namespace
    src = cluster.sources.get(name)
    return src.namespace if src is not None and src.kind == kind else cluster.namespace


def automation_namespace(cluster: Cluster) -> str:
    """Where the ImageUpdateAutomation, and so every ImageRepository and
    ImagePolicy, lives: the automation reads policies of its own namespace."""
    return cluster.namespace


def image_apps(cluster: Cluster) -> list[Application]:
    return [a for a in cluster.applications() if a.helm is not None and a.helm.image is not None]


def platform_objects(cluster: Cluster, bundles: list) -> list[Generated]:
    out: list[Generated] = []
    n = cluster.spec.notifications
    if n is not None:
        out += [Generated(provider(p, cluster), "platform", None,
                          path=f"spec.notifications.providers[{i}].name")
                for i, p in enumerate(n.providers)]
        out += [Generated(alert(a, cluster), "platform", None,
                          path=f"spec.notifications.alerts[{i}]")
                for i, a in enumerate(n.alerts)]
        out += [Generated(receiver(r, cluster), "platform", None,
                          path=f"spec.notifications.receivers[{i}].name")
                for i, r in enumerate(n.receivers)]
    if cluster.spec.imageAutomation is not None:
        for app in (a for b in bundles for a in b.applications):
            if app.helm is not None and app.helm.image is not None:
                out += [Generated(obj, "platform", None, path=f"{app.path}.helm.image")
                        for obj in image_objects(app)]
        out.append(Generated(update_automation(cluster), "platform", None,
                             path="spec.imageAutomation"))
    return out


# -- notifications ----------------------------------------------------------------

def _meta(name: str, namespace: str) -> dict:
    return {"name": name, "namespace": namespace}


def provider(p, cluster: Cluster) -> dict:
    spec = present(type=p.type, channel=p.channel, address=p.address, username=p.username)
    if p.secretRef is not None:
        spec["secretRef"] = p.secretRef.to_data()
    return canonical({"apiVersion": NOTIFICATION_API, "kind": "Provider",
                      "metadata": _meta(p.name, cluster.namespace), "spec": spec})


def alert_name(a) -> str:
    return a.name or a.provider


def alert(a, cluster: Cluster) -> dict:
    spec: dict = {"providerRef": {"name": a.provider}, "eventSeverity": a.severity,
                  "eventSources": event_sources(cluster, a.bundles),
                  "eventMetadata": {"cluster": cluster.name}}
    spec.update(present(summary=a.summary))
    if a.exclusionList:
        spec["exclusionList"] = list(a.exclusionList)
    return canonical({"apiVersion": NOTIFICATION_API, "kind": "Alert",
                      "metadata": _meta(alert_name(a), cluster.namespace), "spec": spec})


def event_sources(cluster: Cluster, names: list[str]) -> list[dict]:
    """The chosen bundles' Kustomizations and their HelmReleases by name; with
    no bundle named, every Kustomization and HelmRelease (`*`) of each
    namespace that holds one."""
    if not names:
        owners = [*cluster.bundles(), *(a for a in cluster.applications() if a.helm is not None)]
        namespaces = sorted({flux_namespace(o) for o in owners} or {cluster.namespace})
        return [{"kind": kind, "name": "*", "namespace": ns}
                for ns in namespaces for kind in ("Kustomization", "HelmRelease")]
    out = []
    for name in names:
        bundle = cluster.find_bundle(name)
        out.append({"kind": "Kustomization", "name": bundle.name, "namespace": flux_namespace(bundle)})
        out += [{"kind": "HelmRelease", "name": app.name, "namespace": flux_namespace(app)}
                for app in bundle.applications if app.helm is not None]
    return out


def receiver(r, cluster: Cluster) -> dict:
    ns = cluster.namespace
    if r.resources:
        resources = [{"kind": x.kind, "name": x.name,
                      "namespace": _namespace_of(cluster, x.kind, x.name)} for x in r.resources]
    else:
        ref = cluster.source_ref
        resources = [{"kind": ref.kind, "name": ref.name,
                      "namespace": _namespace_of(cluster, ref.kind, ref.name)}]
    spec: dict = {"type": r.type, "secretRef": r.secretRef.to_data(), "resources": resources}
    if r.events:
        spec["events"] = list(r.events)
    return canonical({"apiVersion": RECEIVER_API, "kind": "Receiver",
                      "metadata": _meta(r.name, ns), "spec": spec})


# -- image automation ---------------------------------------------------------------

def image_objects(app: Application) -> list[dict]:
    """The ImageRepository and ImagePolicy of a helm application's image,
    both named after the application, beside the automation."""
    img = app.helm.image
    ns = automation_namespace(app.cluster)
    interval = app.cluster.spec.imageAutomation.interval
    repo: dict = {"image": img.repository, "interval": interval}
    if img.secretRef is not None:
        repo["secretRef"] = img.secretRef.to_data()
    p = img.policy
    if p.semver is not None:
        policy = {"semver": {"range": p.semver}}
    elif p.alphabetical is not None:
        policy = {"alphabetical": {"order": p.alphabetical}}
    else:
        policy = {"numerical": {"order": p.numerical}}
    spec: dict = {"imageRepositoryRef": {"name": app.name, "namespace": ns}, "policy": policy}
    if p.filterTags is not None:
        spec["filterTags"] = p.filterTags.to_data()
    return [canonical({"apiVersion": IMAGE_API, "kind": "ImageRepository",
                       "metadata": _meta(app.name, ns), "spec": repo}),
            canonical({"apiVersion": IMAGE_API, "kind": "ImagePolicy",
                       "metadata": _meta(app.name, ns), "spec": spec})]


def checkout_branch(cluster: Cluster) -> str:
    """imageAutomation.git.checkout, else the branch bootstrap syncs, else main."""
    git = cluster.spec.imageAutomation.git
    if git.checkout:
        return git.checkout
    sync = cluster.bootstrap.sync if cluster.bootstrap is not None else None
    if sync is not None and sync.ref and sync.ref.startswith("refs/heads/"):
        return sync.ref[len("refs/heads/"):]
    return DEFAULT_BRANCH


def update_automation(cluster: Cluster) -> dict:
    """One ImageUpdateAutomation, named after the cluster, on the tree's own
    source: it rewrites the marked values lines below the cluster directory."""
    ia = cluster.spec.imageAutomation
    ns = automation_namespace(cluster)
    ref = cluster.source_ref
    branch = checkout_branch(cluster)
    commit: dict = {"author": ia.git.author.to_data()}
    commit.update(present(messageTemplate=ia.git.messageTemplate))
    return canonical({
        "apiVersion": IMAGE_API, "kind": "ImageUpdateAutomation",
        "metadata": _meta(cluster.name, ns),
        "spec": {"interval": ia.interval,
                 "sourceRef": {"kind": ref.kind, "name": ref.name, "namespace": ns},
                 "git": {"checkout": {"ref": {"branch": branch}}, "commit": commit,
                         "push": {"branch": ia.git.push or branch}},
                 "update": {"path": repo_path(TreePlan.for_cluster(cluster).cluster_dir),
                            "strategy": "Setters"}}})


def marker(app: Application) -> str:
    """The setter comment image-automation-controller looks for."""
    return f'{{"$imagepolicy": "{automation_namespace(app.cluster)}:{app.name}:tag"}}'


def path_keys(values_path: str) -> list[str]:
    return values_path.split(".")


def value_at(values, values_path: str):
    """The value at a dotted path of mappings, or None."""
    for key in path_keys(values_path):
        if not isinstance(values, dict) or key not in values:
            return None
        values = values[key]
    return values


def is_tag(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def tag_text(value) -> str:
    """A tag as written: `6.10` read as a number stays 6.10 (yamlio keeps
    the spelling of numbers Python would print otherwise)."""
    return getattr(value, "written", None) or str(value)


def marked_values(app: Application, values: dict) -> dict:
    """`values` with the tag at helm.image.valuesPath marked for the
    automation: the tag committed in the previous render if there is one
    (`cluster.committed_tags`), else the config's. Copies only the mappings
    on the path."""
    img = app.helm.image if app.helm is not None else None
    if img is None or app.cluster.spec.imageAutomation is None \
            or not is_tag(value_at(values, img.valuesPath)):
        return values
    keys = path_keys(img.valuesPath)
    tag = app.cluster.committed_tags.get(app.name, value_at(values, img.valuesPath))
    out = dict(values)
    inner = out
    for key in keys[:-1]:
        inner[key] = dict(inner[key])
        inner = inner[key]
    inner[keys[-1]] = Commented(tag_text(tag), marker(app))
    return out


def committed_tags(cluster: Cluster, previous: Iterable[dict]) -> dict[str, str]:
    """helm application name -> the tag at its marker in the previous render
    (its HelmRelease among `previous`), for the applications with an image."""
    apps = {(flux_namespace(a), a.name): a for a in image_apps(cluster)}
    if not apps or cluster.spec.imageAutomation is None:
        return {}
    out: dict[str, str] = {}
    for obj in previous:
        if not isinstance(obj, dict) or obj.get("kind") != "HelmRelease" \
                or not str(obj.get("apiVersion", "")).startswith("helm.toolkit.fluxcd.io/"):
            continue
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        app = apps.get((meta.get("namespace"), meta.get("name")))
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        tag = value_at(spec.get("values"), app.helm.image.valuesPath) if app else None
        if is_tag(tag):
            out[app.name] = tag_text(tag)
    return out
