"""What Flux applies (a `tree.Tree`) as a `fn.kure.dev/v1alpha1 Cluster` config.

- Each Flux Kustomization built from the repository is a bundle; what it
  applies is built into the bundle (its path, patches, components,
  targetNamespace are gone into the objects), its other fields are bundle
  fields (KUSTOMIZATION_SPEC). Bundles sit in one node per Flux namespace,
  the node's `fluxNamespace` (node `cluster`: the Flux namespace itself).
- Each HelmRelease is a helm application when what kure-fn derives (chart,
  targetNamespace, releaseName, ...) is what it says and its chart source is
  a declared source (SOURCE_SPECS); otherwise it stays a manifest, as written.
  Fields with a typed form are typed, every other field goes to the
  overlays: the bundle's `kustomization`, the helm `release`, the source's
  `spec` (OVERLAY: Flux fields no typed field owns, docs/config.md).
- Everything else is an inline manifest of the bundle that applied it, one
  `manifests` application per namespace.
- The values most bundles share go to `spec.flux.defaults`.

The tables below are the one home of "which Flux field has which config
field". `OVERLAY` means: the field goes, as written, into the object's
overlay. An object kure-fn cannot render as written is reported
(`Mapped.differs` when kure-fn renders it differently, `Mapped.kept` when it
stays a manifest, unchanged).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field

from ..flux.generator import KUSTOMIZE_API
from ..flux.helm import HELM_API
from ..flux.sources import SOURCE_API
from ..kinds import is_namespaced
from ..model.config import API_VERSION, DNS_LABEL, KIND
from .tree import KUSTOMIZE_GROUP, SOURCE_GROUP, Key, Tree, group_of, key_of, show

HELM_GROUP = "helm.toolkit.fluxcd.io"
OWNER = "fn.kure.dev/cluster"        # kure-fn's ownership mark (fn.engine.OWNER): not the user's
LOCAL_CONFIG = "config.kubernetes.io/local-config"
ROOT_BUNDLE = "root"                 # what the sync path applies itself, beside Kustomizations
FLUX_NODE = "cluster"                # the node of bundles in the Flux namespace

BUILT = "built"  # applied to the bundle's objects at import: the field has no config form left
OVERLAY = "overlay"  # no typed form: the bundle's `kustomization`, helm `release`, source `spec`

# -- Flux Kustomization .spec -> bundle ------------------------------------------------
KUSTOMIZATION_SPEC: dict[str, str | None] = {
    "interval": "interval", "retryInterval": "retryInterval", "timeout": "timeout",
    "prune": "prune", "wait": "wait", "force": "force", "suspend": "suspend",
    "serviceAccountName": "serviceAccountName", "healthChecks": "healthChecks",
    "postBuild": "postBuild", "decryption": "decryption", "dependsOn": "dependsOn",
    "targetNamespace": "targetNamespace",  # kept: Flux sets what the objects already say
    "healthCheckExprs": "healthCheckExprs", "deletionPolicy": "deletionPolicy",
    "kubeConfig": "kubeConfig",
    "path": BUILT, "sourceRef": BUILT, "namePrefix": BUILT,
    "nameSuffix": BUILT, "patches": BUILT, "patchesStrategicMerge": BUILT,
    "patchesJson6902": BUILT, "components": BUILT, "ignoreMissingComponents": BUILT,
    "images": BUILT, "commonMetadata": BUILT,
}  # any other field: OVERLAY
DEFAULTED = ("interval", "retryInterval", "timeout", "prune", "wait")
# kure-fn's own defaults; retryInterval / timeout are written only when set (amendment D)
MODEL_DEFAULTS = {"interval": "10m", "prune": True, "wait": True}

# -- HelmRelease .spec -> helm application ------------------------------------------------
HELM_RELEASE_SPEC: dict[str, str] = {
    "interval": "interval", "releaseName": "releaseName", "targetNamespace": "targetNamespace",
    "storageNamespace": "storageNamespace",  # kure-fn writes targetNamespace: must equal it
    "chart": "chart", "chartRef": "chartRef",  # a declared source: helm.source
    "values": "values", "valuesFrom": "valuesFrom", "timeout": "timeout",
    "serviceAccountName": "serviceAccountName", "driftDetection": "driftDetection",
    "dependsOn": "dependsOn", "install": "install", "upgrade": "upgrade",
    "maxHistory": "maxHistory", "suspend": "suspend", "postRenderers": "postRenderers",
}  # any other field (test: kure-fn's typed test adds enable; rollback, uninstall, ...): OVERLAY
# install and upgrade sub-fields that one typed helm field writes into both, when they agree
HELM_BOTH = ("crds", "remediation", "strategy")
HELM_UPGRADE = {"cleanupOnFail", "force", "preserveValues", "disableWait", "disableHooks"}

# -- sources .spec -> declared source -----------------------------------------------------
SOURCE_SPECS: dict[str, tuple[str, dict[str, str | None]]] = {
    "GitRepository": ("git", {"url": "url", "ref": "ref", "secretRef": "secretRef",
                              "interval": "interval", "ignore": "ignore",
                              "recurseSubmodules": "recurseSubmodules"}),
    "OCIRepository": ("oci", {"url": "url", "ref": "ref", "secretRef": "secretRef",
                              "interval": "interval", "provider": "provider",
                              "layerSelector": "layerSelector"}),
    "HelmRepository": ("helm", {"url": "url", "secretRef": "secretRef", "interval": "interval",
                                "passCredentials": "passCredentials"}),
    "Bucket": ("bucket", {"bucketName": "bucketName", "endpoint": "endpoint",
                          "provider": "provider", "region": "region", "secretRef": "secretRef",
                          "interval": "interval"}),
}  # any other field (timeout, verify, certSecretRef, ...): the source's `spec` overlay
REF_KEYS = {"git": ("branch", "tag", "semver", "commit"), "oci": ("tag", "semver", "digest")}


@dataclass
class Mapped:
    config: dict
    differs: list[str] = field(default_factory=list)  # objects kure-fn renders differently
    kept: list[str] = field(default_factory=list)     # objects kept as manifests, unchanged
    left_out: list[str] = field(default_factory=list)  # objects not in the config at all

    def report(self) -> list[str]:
        return ([f"differs: {line}" for line in self.differs]
                + [f"kept as a manifest: {line}" for line in self.kept]
                + [f"left out: {line}" for line in self.left_out])


def to_config(tree: Tree, name: str, notes: list[str] | None = None) -> Mapped:
    flux_ns = tree.root[2]
    out = Mapped({})
    applied = tree.applied()
    sources = _sources(applied, flux_ns)
    external = _external(tree, sources, out)
    names = _bundle_names(tree, external)
    helm_apps, declared = _helm_and_sources(applied, sources, out)
    declared.update({s: sources[s] for s in external.values()})
    _older_apis(applied, [*helm_apps, *declared], out)
    specs: dict[Key, dict] = {}
    for key, applier in tree.appliers.items():
        if key == tree.root:
            continue
        specs[key] = _bundle(applier.obj, names, flux_ns, out, applier.patches_kept)
    for key, skey in external.items():
        path = str((tree.external[key].obj.get("spec") or {}).get("path") or ".")
        specs[key] = {**_bundle(tree.external[key].obj, names, flux_ns, out),
                      "path": path.removeprefix("./") or ".", "source": skey[3]}
    releases: dict[Key, list[Key]] = {}  # applier -> its HelmReleases
    plain: dict[Key, list[dict]] = {}    # applier -> its other objects
    for key, applier in tree.appliers.items():
        objects = [(k, o) for k, o in applier.keyed() if _keep_object(k, tree, names, out)]
        releases[key] = [k for k, _ in objects if k in helm_apps]
        plain[key] = [_named(k, o) for k, o in objects if k not in helm_apps and k not in declared
                      and not _unresolved(k, out)]
    _home_namespaces(plain, releases, tree.root,
                     ({k[2] for k in specs} | {k[2] for k in helm_apps}
                      | {k[2] for k in declared}) - {flux_ns})
    placed: list[tuple[str, dict, list[dict], bool]] = []  # node, bundle, apps, is the root
    for key in tree.appliers:
        home = flux_ns if key == tree.root else key[2]
        apps = [_placed(helm_apps[k], k[2], home) for k in releases[key]]
        apps += _manifest_apps(plain[key], {a["name"] for a in apps})
        if key == tree.root and not apps:
            continue  # nothing of its own beside Kustomizations and sources
        node = FLUX_NODE if key == tree.root or key[2] == flux_ns else key[2]
        placed.append((node, {"name": ROOT_BUNDLE} if key == tree.root else specs[key],
                       sorted(apps, key=lambda a: a["name"]), key == tree.root))
    for key in external:
        placed.append((FLUX_NODE if key[2] == flux_ns else key[2], specs[key], [], False))
    top, own, effective = _levels(placed)
    bundles: dict[str, list[dict]] = {}  # node -> bundles
    for node, bundle, apps, root in placed:
        has_releases = any("helm" in a for a in apps)
        written = bundle if root else _with_defaults(bundle, effective[node][0], has_releases)
        if apps:
            written = {**written, "applications": [_helm_with_defaults(a, effective[node][1])
                                                   for a in apps]}
        bundles.setdefault(node, []).append(written)
    spec: dict = {}
    if top:
        spec["flux"] = {"defaults": top}
    if declared:
        spec["sources"] = [declared[k] for k in sorted(declared, key=lambda k: declared[k]["name"])]
    spec["nodes"] = [{"name": n, **({} if n == FLUX_NODE else {"fluxNamespace": n}),
                      **({"defaults": own[n]} if own.get(n) else {}),
                      "bundles": sorted(bs, key=lambda b: b["name"])}
                     for n, bs in sorted(bundles.items())]
    out.config = {"apiVersion": API_VERSION, "kind": KIND,
                  "metadata": {"name": name, "annotations": {LOCAL_CONFIG: "true"}},
                  "spec": spec}
    out.left_out += sorted(set(notes or []))  # kustomize features not read: their objects
    _built_without(tree, out)
    out.differs.sort()
    out.kept.sort()
    out.left_out.sort()
    return out


# -- bundles ------------------------------------------------------------------------------

def _bundle_names(tree: Tree, external: dict[Key, Key]) -> dict[Key, str]:
    """Kustomization -> bundle name: its own, unless another namespace has it first."""
    names: dict[Key, str] = {}
    taken = {ROOT_BUNDLE}
    for key in sorted([k for k in tree.appliers if k != tree.root] + list(external)):
        base = re.sub(r"[^a-z0-9-]+", "-", key[3].lower()).strip("-")[:63] or "bundle"
        name = base if base not in taken else f"{base}-{key[2]}"[:63].rstrip("-")
        names[key] = name
        taken.add(name)
    return names


def _bundle(ks: dict, names: dict[Key, str], flux_ns: str, out: Mapped,
            patches_kept: bool = False) -> dict:
    key = key_of(ks)
    spec = ks.get("spec") or {}
    meta = ks.get("metadata") or {}
    bundle: dict = {"name": names[key]}
    reasons = []
    if names[key] != key[3]:
        reasons.append(f"renamed bundle {names[key]}: another namespace has a {key[3]}")
    if ks.get("apiVersion") != KUSTOMIZE_API:
        reasons.append(f"apiVersion {ks.get('apiVersion')}: kure-fn writes {KUSTOMIZE_API}")
    for what in ("labels", "annotations"):
        values = {str(k): str(v) for k, v in (meta.get(what) or {}).items() if k != OWNER}
        if values:
            bundle[what] = values
    overlay: dict = {}
    for k, v in spec.items():
        target = KUSTOMIZATION_SPEC.get(k, OVERLAY)
        if target == OVERLAY:
            overlay[k] = copy.deepcopy(v)
        elif k == "patches" and patches_kept:
            bundle["patches"] = copy.deepcopy(v)
        elif target == BUILT:
            if k not in ("path", "sourceRef"):
                reasons.append(f"spec.{k} is built into the bundle's objects")
        elif k == "dependsOn":
            deps = []
            for d in v or []:
                dkey = (KUSTOMIZE_GROUP, "Kustomization", d.get("namespace") or key[2], d.get("name"))
                deps.append(names[dkey] if dkey in names else _outside(dkey))
            if deps:
                bundle["dependsOn"] = _sorted_deps(deps)
        elif k == "postBuild":
            post = {}
            if v.get("substitute"):
                post["substitute"] = {str(a): str(b) for a, b in v["substitute"].items()}
            if v.get("substituteFrom"):
                post["substituteFrom"] = [{x: s[x] for x in ("kind", "name", "optional") if x in s}
                                          for s in v["substituteFrom"]]
            for extra in sorted(set(v) - {"substitute", "substituteFrom"}):
                overlay.setdefault("postBuild", {})[extra] = copy.deepcopy(v[extra])
            if post:
                bundle["postBuild"] = post
        else:
            bundle[target] = copy.deepcopy(v)
    if overlay:
        bundle["kustomization"] = overlay
    if "wait" not in spec:
        bundle["wait"] = None  # left to Flux: a null in a kustomization overlay (_with_defaults)
    if reasons:
        out.differs.append(f"{show(key)}: " + "; ".join(reasons))
    return bundle


# settings a default may give: a bundle's (typed, else in the defaults' `kustomization`
# overlay) and a helm application's; with the model's own defaults
BUNDLE_SHARED = DEFAULTED + ("patches", "targetNamespace")
HELM_SHARED = ("interval", "chartInterval", "timeout", "createNamespace", "crds", "remediation", "strategy",
               "driftDetection", "maxHistory", "upgrade", "serviceAccountName", "suspend")
HELM_MODEL_DEFAULTS = {"interval": "10m", "createNamespace": True}
UNSET = object()


def _levels(placed: list) -> tuple[dict, dict[str, dict], dict[str, tuple[dict, dict]]]:
    """The defaults: spec.flux.defaults, each node's own `defaults`, and
    what each node's bundles and helm applications inherit (bundle settings,
    helm settings). A value becomes a default where most of the level's
    bundles (applications) share it, never where one of them would get a
    value it does not have (a default cannot be unset)."""
    bundles = [(n, b) for n, b, _, root in placed if not root]
    helms = [(n, a["helm"]) for n, _, apps, _ in placed for a in apps if "helm" in a]
    top_b = _shared([b for _, b in bundles], BUNDLE_SHARED, MODEL_DEFAULTS)
    top_h = _shared([h for _, h in helms], HELM_SHARED, HELM_MODEL_DEFAULTS)
    top = _as_defaults(top_b, top_h)
    own, effective = {}, {}
    for node in {n for n, *_ in placed}:
        inherited_b, inherited_h = {**MODEL_DEFAULTS, **top_b}, {**HELM_MODEL_DEFAULTS, **top_h}
        node_b = _shared([b for n, b in bundles if n == node], BUNDLE_SHARED, inherited_b)
        node_h = _shared([h for n, h in helms if n == node], HELM_SHARED, inherited_h)
        own[node] = _as_defaults(node_b, node_h)
        effective[node] = ({**inherited_b, **node_b}, {**inherited_h, **node_h})
    return top, own, effective


def _shared(items: list[dict], keys: tuple, inherited: dict) -> dict:
    """For each key, the value most `items` have (their own, else the
    inherited one), when it beats the inherited value, two items at least
    share it, and every item has a value."""
    out = {}
    for k in keys:
        values = [item.get(k, inherited.get(k, UNSET)) for item in items]
        if not values or any(v is UNSET for v in values):
            continue
        counts = Counter(repr(v) for v in values)
        best, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if n < 2 or n <= counts.get(repr(inherited.get(k, UNSET)), 0):
            continue
        out[k] = next(v for v in values if repr(v) == best)
    return out


def _as_defaults(bundle: dict, helm: dict) -> dict:
    """Shared settings as a `defaults` level: typed bundle settings, the
    others in its `kustomization` overlay, helm settings under `helm`."""
    out = {k: bundle[k] for k in DEFAULTED if bundle.get(k) is not None}
    overlay = {k: bundle[k] for k in BUNDLE_SHARED  # a null: left to Flux
               if k in bundle and (k not in DEFAULTED or bundle[k] is None)}
    if overlay:
        out["kustomization"] = _sorted(overlay)
    if helm:
        out["helm"] = dict(helm)
    return out


def _with_defaults(bundle: dict, inherited: dict, releases: bool) -> dict:
    """The bundle's fields where they differ from what it inherits, keys in
    the order kure-fn writes them (sorted), so that the import of a render is
    the same config. `releases`: the bundle has helm applications."""
    out = {"name": bundle["name"]}
    for k, v in sorted(bundle.items()):
        effective = inherited.get(k, UNSET)
        if k == "wait" and bundle.get("healthChecks"):
            effective = False  # kure-fn: unset wait with healthChecks is false
        if k == "wait" and not v and releases and not bundle.get("healthChecks"):
            effective = UNSET  # only its own wait: false keeps kure-fn's release health checks off
        if k in BUNDLE_SHARED and v == effective:
            continue
        out[k] = _sorted(v)
    if "wait" in out and out["wait"] is None:  # no wait: Flux's default, left out by a null
        del out["wait"]
        out["kustomization"] = _sorted({**out.get("kustomization", {}), "wait": None})
    return {"name": out["name"], **{k: out[k] for k in sorted(out) if k != "name"}}


def _helm_with_defaults(app: dict, inherited: dict) -> dict:
    """A helm application without the settings it inherits."""
    if "helm" not in app:
        return app
    helm = {k: v for k, v in app["helm"].items()
            if not (k in HELM_SHARED and v == inherited.get(k, UNSET))}
    return {**app, "helm": helm}


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _keep_object(key: Key, tree: Tree, names: dict[Key, str], out: Mapped) -> bool:
    """Whether an applied object goes into a bundle (else: it is the config itself)."""
    if key in names:
        return False  # a bundle of its own
    if key == tree.root or key == tree.source:
        out.left_out.append(f"{show(key)}: the bootstrap sync; kure-fn writes it from "
                            "spec.bootstrap")
        return False
    if key in tree.generators:
        out.left_out.append(f"{show(key)}: its artifacts are read into the bundles that use "
                            "them (an `artifact` source needs external bundles on its artifacts)")
        return False
    return True


# -- manifests -----------------------------------------------------------------------------

def _manifest_apps(objects: list[dict], taken: set[str]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for obj in objects:
        obj = _clean(obj)
        ns = obj["metadata"].get("namespace") or ""
        if ns and is_namespaced(obj.get("apiVersion"), obj.get("kind")) \
                and re.fullmatch(DNS_LABEL, ns) and len(ns) <= 63:
            del obj["metadata"]["namespace"]
            groups.setdefault(ns, []).append(obj)
        else:
            groups.setdefault("", []).append(obj)
    apps = []
    for ns, objs in sorted(groups.items()):
        name = ns or "cluster"
        while name in taken:
            name = f"{name}-manifests"[:63]
        taken.add(name)
        app: dict = {"name": name}
        if ns:
            app["namespace"] = ns
        app["manifests"] = sorted(objs, key=_order)
        apps.append(app)
    return apps


def _built_without(tree: Tree, out: Mapped) -> None:
    """Each object of a Kustomization built without a kustomize feature the
    importer does not read may differ: one line each, unless reported already."""
    said = {line.split(": ", 1)[0] for line in out.differs + out.kept + out.left_out}
    for key in sorted(tree.incomplete):
        applier = tree.appliers.get(key)
        for k, _ in applier.keyed() if applier is not None else ():
            if show(k) not in said and k[:2] != (KUSTOMIZE_GROUP, "Kustomization"):
                said.add(show(k))
                out.differs.append(f"{show(k)}: applied by {show(key)}, built without a "
                                   "kustomize feature the importer does not read (its line)")


def _unresolved(key: Key, out: Mapped) -> bool:
    """A name or namespace that stays a `${VAR}` (postBuild.substituteFrom:
    its value is in the cluster, not in the repository): a manifest cannot
    hold it, so the object is left out (reported)."""
    if "${" not in key[2] + key[3]:
        return False
    out.left_out.append(f"{show(key)}: its name or namespace is a postBuild variable whose "
                        "value is not in the repository (substituteFrom)")
    return True


def _named(key: Key, obj: dict) -> dict:
    """The object with the name and namespace Flux gives it: a `${VAR}` there is
    substituted now (the bundle keeps its postBuild for the rest), so that two
    bundles' `${APP}` objects stay two objects in the config."""
    meta = obj.get("metadata") or {}
    if (meta.get("namespace") or "", meta.get("name")) == (key[2], key[3]):
        return obj
    obj = copy.deepcopy(obj)
    obj["metadata"]["name"] = key[3]
    if key[2]:
        obj["metadata"]["namespace"] = key[2]
    return obj


def _placed(app: dict, namespace: str, home: str) -> dict:
    """A helm application in a bundle whose Kustomization lives in `home`."""
    if namespace == home:
        return app
    return {"name": app["name"], "fluxNamespace": namespace,
            **{k: v for k, v in app.items() if k != "name"}}


def _home_namespaces(plain: dict[Key, list[dict]], releases: dict[Key, list[Key]], root: Key,
                     flux_namespaces: set[str]) -> None:
    """The Namespace of a fluxNamespace goes to one place whoever applied it
    (kure-fn writes it into flux-system/, fn.flux.generator.with_namespaces,
    so a render applies it from there): the first bundle whose Kustomization
    lives in it, else the bundle of the first HelmRelease there, else the
    first bundle. The import of a render is then the same config."""
    homes: dict[str, Key] = {}
    for key in sorted(k for k in plain if k != root):
        homes.setdefault(key[2], key)
    for release, applier in sorted((r, k) for k, rs in releases.items() for r in rs):
        homes.setdefault(release[2], applier)
    first = min((k for k in plain if k != root), default=root)  # only external bundles there
    homes = {ns: homes.get(ns, first) for ns in flux_namespaces}
    for key in plain:
        for obj in list(plain[key]):
            name = (obj.get("metadata") or {}).get("name")
            if (group_of(obj), obj.get("kind")) == ("", "Namespace") and name in flux_namespaces \
                    and homes[name] != key:
                plain[key].remove(obj)
                plain[homes[name]].append(obj)


def _order(obj: dict) -> tuple:
    return (group_of(obj), str(obj.get("kind")), str(obj["metadata"].get("namespace") or ""),
            str(obj["metadata"].get("name")))


def _clean(obj: dict) -> dict:
    """A copy without kure-fn's ownership mark (a render of an imported config has it)."""
    obj = copy.deepcopy(obj)
    meta = obj["metadata"]
    annotations = meta.get("annotations")
    if isinstance(annotations, dict) and OWNER in annotations:
        del annotations[OWNER]
        if not annotations:
            del meta["annotations"]
    return obj


# -- helm releases and their sources -------------------------------------------------------

def _sources(objects: dict[Key, dict], flux_ns: str) -> dict[Key, dict]:
    """Every source applied (`objects`: Tree.applied): its declared form, or
    {"reason": why it has none}."""
    sources: dict[Key, dict] = {}
    source_names: set[str] = set()  # declared sources are named by name alone
    for key, obj in sorted(objects.items()):
        if key[0] == SOURCE_GROUP and key[1] in SOURCE_SPECS:
            declared, reason = _source(key, obj, flux_ns)
            if key[3] in source_names:
                declared, reason = None, f"another namespace has a source named {key[3]}"
            source_names.add(key[3])
            sources[key] = declared if declared is not None else {"reason": reason}
    return sources


def _external(tree: Tree, sources: dict[Key, dict], out: Mapped) -> dict[Key, Key]:
    """Kustomization on another source -> that source, when it is a declared
    one (an external bundle); the others stay manifests (reported)."""
    external = {}
    for key, applier in tree.external.items():
        kind, ns, name = applier.source
        skey = (SOURCE_GROUP, kind, ns, name)
        source = sources.get(skey)
        if kind in ("GitRepository", "OCIRepository", "Bucket") and source \
                and "reason" not in source:
            external[key] = skey
            continue
        why = source["reason"] if source else "it is not applied from this repository"
        out.kept.append(f"{show(key)}: its source {kind} {ns}/{name} is not this repository "
                        f"and not a declared source: {why}")
    return external


def _helm_and_sources(objects: dict[Key, dict], sources: dict[Key, dict],
                      out: Mapped) -> tuple[dict[Key, dict], dict[Key, dict]]:
    """HelmRelease -> helm application, source -> declared source, for those
    whose every field has a form; the others stay manifests (reported).
    `objects`: Tree.applied."""
    releases = {k: o for k, o in objects.items() if k[:2] == (HELM_GROUP, "HelmRelease")}
    mapped = {}
    app_names: set[str] = set()  # helm applications are named by name alone
    for key, obj in sorted(releases.items()):
        app, source_key, reasons = _helm(key, obj, sources)
        if key[3] in app_names:
            reasons.append(f"another namespace has a HelmRelease named {key[3]}")
        app_names.add(key[3])
        if reasons:
            out.kept.append(f"{show(key)}: " + "; ".join(reasons))
        else:
            mapped[key] = (app, source_key)
    for key, (app, _) in mapped.items():  # a release kept as a manifest is outside the config
        deps = [d[3] if d in mapped else _outside(d) for d in _helm_deps(key, releases[key])]
        if deps:
            app["helm"]["dependsOn"] = _sorted_deps(deps)
    apps = {k: app for k, (app, _) in mapped.items()}
    used = {s: sources[s] for _, s in mapped.values()}
    return apps, used


def _older_apis(objects: dict[Key, dict], keys: list[Key], out: Mapped) -> None:
    """A HelmRelease or source written in an older API version: kure-fn
    writes the current one (the same object to Flux v2.9)."""
    for key in sorted(set(keys)):
        api = (objects.get(key) or {}).get("apiVersion")
        want = HELM_API if key[0] == HELM_GROUP else SOURCE_API
        if api is not None and api != want:
            out.differs.append(f"{show(key)}: apiVersion {api}: kure-fn writes {want}")


def _outside(key: Key) -> dict:
    """A dependsOn entry naming a Flux object the config does not hold."""
    return {"name": key[3], "namespace": key[2]}


def _sorted_deps(deps: list) -> list:
    unique = {repr(d): d for d in deps}
    return [unique[k] for k in sorted(unique, key=lambda r: (r.startswith("{"), r))]


def _helm_deps(key: Key, obj: dict) -> list[Key]:
    return [(HELM_GROUP, "HelmRelease", d.get("namespace") or key[2], d.get("name"))
            for d in (obj.get("spec") or {}).get("dependsOn") or []]


def _source(key: Key, obj: dict, flux_ns: str) -> tuple[dict | None, str]:
    kind, table = SOURCE_SPECS[key[1]]
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    reasons = []
    if meta.get("labels") or set(meta.get("annotations") or {}) - {OWNER}:
        reasons.append("metadata labels or annotations have no form")
    if not key[2]:
        reasons.append("it has no namespace")
    if key[1] == "HelmRepository" and spec.get("type") == "oci":
        reasons.append("a HelmRepository of type oci: kure-fn writes OCI charts as OCIRepository")
    body: dict = {}
    overlay: dict = {}
    for k, v in spec.items():
        target = table.get(k)
        if target is None:
            overlay[k] = copy.deepcopy(v)
        elif k == "ref":
            allowed = REF_KEYS.get(kind, ())
            if set(v) - set(allowed) or len(v) != 1:
                reasons.append(f"spec.ref {sorted(v)} has no form")
            else:
                body.update(v)
        else:
            body[target] = copy.deepcopy(v)
    if "interval" not in spec:
        reasons.append("spec.interval: kure-fn writes one")
    if kind in REF_KEYS and "ref" not in spec:
        reasons.append("spec.ref: kure-fn writes one")
    if reasons:
        return None, "; ".join(reasons)
    return {"name": key[3], **({"namespace": key[2]} if key[2] != flux_ns else {}),
            kind: _sorted(body), **({"spec": _sorted(overlay)} if overlay else {})}, ""


def _helm(key: Key, obj: dict, sources: dict[Key, dict]) -> tuple[dict, Key | None, list[str]]:
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    reasons: list[str] = []
    helm: dict = {}
    if not re.fullmatch(DNS_LABEL, key[3]) or len(key[3]) > 63:
        reasons.append(f"its name {key[3]} is not a DNS label")
    if meta.get("labels") or set(meta.get("annotations") or {}) - {OWNER}:
        reasons.append("metadata labels or annotations have no form")
    if not key[2]:
        reasons.append("it has no namespace")
    release: dict = {k: copy.deepcopy(v) for k, v in spec.items() if k not in HELM_RELEASE_SPEC}
    target = spec.get("targetNamespace")
    release_name = spec.get("releaseName")
    if target:  # kure-fn writes releaseName, targetNamespace and storageNamespace together
        if spec.get("storageNamespace") != target:
            reasons.append("kure-fn writes storageNamespace equal to targetNamespace")
        if not release_name:
            reasons.append("kure-fn writes releaseName with targetNamespace (Flux's default "
                           "is <targetNamespace>-<name>)")
        if target == key[2]:  # in its own namespace kure-fn writes it only when told to
            helm["targetNamespace"] = target
    else:  # a release in its own namespace: Flux's defaults, as kure-fn writes it
        if release_name:
            helm["releaseName"] = release_name
        if spec.get("storageNamespace"):
            release["storageNamespace"] = spec["storageNamespace"]
    source_key = None
    if spec.get("chartRef"):
        ref = spec["chartRef"]
        source_key = (SOURCE_GROUP, ref.get("kind"), ref.get("namespace") or key[2], ref.get("name"))
    elif spec.get("chart"):
        chart = (spec["chart"] or {}).get("spec") or {}
        ref = chart.get("sourceRef") or {}
        source_key = (SOURCE_GROUP, ref.get("kind"), ref.get("namespace") or key[2], ref.get("name"))
        extra = set(chart) - {"chart", "version", "sourceRef", "reconcileStrategy", "interval"}
        if extra or set(spec["chart"]) - {"spec"}:
            reasons.append(f"spec.chart fields {sorted(extra)} have no form")
        if ref.get("kind") in ("GitRepository", "Bucket") \
                and chart.get("reconcileStrategy") != "Revision":
            reasons.append("kure-fn writes reconcileStrategy: Revision for a chart in git")
        if ref.get("kind") == "HelmRepository" and (chart.get("reconcileStrategy") or not chart.get("version")):
            reasons.append("spec.chart.spec: kure-fn writes version and no reconcileStrategy")
        helm["chart"] = chart.get("chart")
        if chart.get("version"):
            helm["version"] = chart["version"]
        if chart.get("interval"):
            helm["chartInterval"] = chart["interval"]
    source = sources.get(source_key) if source_key else None
    if source is None and source_key and "${" in str(source_key[3]):
        reasons.append(f"its chart source's name {source_key[3]} holds a postBuild variable")
    elif source is None:
        reasons.append("its chart source is not in this repository")
    elif "reason" in source:
        reasons.append(f"its chart source {show(source_key)} {source['reason']}")
    else:
        helm["source"] = source_key[3]
    install, upgrade = spec.get("install") or {}, spec.get("upgrade") or {}
    for k in HELM_BOTH:
        a, b = install.get(k), upgrade.get(k)
        if a is None and b is None:
            continue
        if a == b and k == "crds":
            helm["crds"] = a
        elif a == b and k == "remediation" and set(a) == {"retries"}:
            helm["remediation"] = {"retries": a["retries"]}
        elif a == b and k == "strategy" and set(a) == {"name"}:
            helm["strategy"] = a["name"]
        else:  # as written, each in its own place
            for what, value in (("install", a), ("upgrade", b)):
                if value is not None:
                    release.setdefault(what, {})[k] = copy.deepcopy(value)
    for k, v in install.items():
        if k not in HELM_BOTH and k != "createNamespace":
            release.setdefault("install", {})[k] = copy.deepcopy(v)
    for k, v in upgrade.items():
        if k in HELM_UPGRADE:
            helm.setdefault("upgrade", {})[k] = copy.deepcopy(v)
        elif k not in HELM_BOTH:
            release.setdefault("upgrade", {})[k] = copy.deepcopy(v)
    if not install.get("createNamespace"):
        helm["createNamespace"] = False
    if spec.get("driftDetection"):
        drift = spec["driftDetection"]
        if drift.get("mode"):
            helm["driftDetection"] = drift["mode"]
        if set(drift) - {"mode"}:
            release["driftDetection"] = {k: copy.deepcopy(v) for k, v in drift.items()
                                         if k != "mode"}
    for k in ("interval", "timeout", "serviceAccountName", "values", "maxHistory", "suspend",
              "postRenderers"):
        if k in spec:
            helm[k] = copy.deepcopy(spec[k])
    if "interval" not in spec:
        reasons.append("spec.interval: kure-fn writes one")
    if spec.get("valuesFrom"):
        helm["valuesFrom"] = copy.deepcopy(spec["valuesFrom"])
    if release:
        helm["release"] = release
    # keys as kure-fn writes them (sorted; helm values as given), so that the
    # import of a render is the same config
    helm = {k: v if k == "values" else _sorted(v) for k, v in helm.items()}
    app: dict = {"name": key[3], "namespace": target or key[2]}
    if target and release_name and release_name != key[3]:
        helm["releaseName"] = release_name
    app["helm"] = helm
    return app, source_key, reasons
