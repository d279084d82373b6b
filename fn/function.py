"""The KRM function: a ResourceList holding Cluster configs → the same
ResourceList with each cluster's tree added.

Rules (krm-protocol.md, output.md):
- every input item comes back unchanged unless kure-fn owns it (ownership
  annotation) or a `resources` selector places it;
- items owned by a cluster of this run are replaced by the new set, so a
  second run changes nothing and removed bundles disappear;
- any error: every input item back unchanged, no generated item, exit 1.
"""

from __future__ import annotations

from .engine import OWNER, Generated
from .configs import Document, Loaded, Report, is_config, is_profile, load
from .kinds import with_input_crds
from .krm.resourcelist import FUNCTION, ID, LEGACY_ID, KubeObject, ResourceList, Results
from .layout.kustomize import blocking_files
from .model import config as cfg
from .model.cluster import Cluster, ConfigError
from .model.config import is_cluster_config
from .model.profiles import PROFILE_KIND
from .model.rules import chart_crd_warnings
from .records import dataclass, field
from .registry import engine_for_cluster
from .selectors import select_resources

TOOL_NAMES = {"flux": "Flux", "argocd": "Argo CD"}


def find_configs(rl: ResourceList) -> list[Document]:
    """The Cluster configs: the functionConfig when it is a Cluster, else every
    Cluster item; and every Profile item (profiles are read from the package
    either way)."""
    fc = rl.function_config
    profiles = [_document(it) for it in rl.items if is_profile(it.data)]
    if is_cluster_config(fc):
        twin = _twin(rl.items, KubeObject(fc))
        return [Document(fc, _file_path(twin), twin)] + profiles
    return [_document(it) for it in rl.items if is_cluster_config(it.data)] + profiles


def _document(item: KubeObject) -> Document:
    return Document(item.data, _file_path(item), item)


def _file_path(item: KubeObject | None) -> str | None:
    ref = item.file_ref() if item is not None else None
    return ref["path"] if ref else None


def _file_ref(doc: Document | None) -> dict | None:
    return doc.source.file_ref() if doc is not None and doc.source is not None else None


def near_misses(rl: ResourceList, out: Results) -> None:
    """Objects meant as a Cluster config but misspelt (apiVersion or kind) are
    errors, never silently skipped: skipping one would prune its tree."""
    group = cfg.API_GROUP
    objs = [(it.data, it) for it in rl.items]
    fc = KubeObject(rl.function_config) if isinstance(rl.function_config, dict) else None
    if fc is not None and _twin(rl.items, fc) is None:  # kpt render: the config is an item too
        objs.append((fc.data, None))
    for doc, item in objs:
        if is_config(doc):
            continue
        obj = KubeObject(doc)
        api, kind = obj.api_version, obj.kind
        ours = api.split("/")[0] == group or ("kure" in api.lower() and kind.lower() == "cluster")
        if not ours:
            continue
        where = dict(ref=obj.ref(), file=item.file_ref() if item is not None else None)
        if api != cfg.API_VERSION:
            out.error(f"apiVersion {api!r} is not a kure-fn config version; "
                      f"write apiVersion: {cfg.API_VERSION}", path="apiVersion", **where)
        if kind not in (cfg.KIND, PROFILE_KIND):
            out.error(f"kind {kind!r} is not a kure-fn config kind; write kind: {cfg.KIND} "
                      f"(or {PROFILE_KIND} for a profile)", path="kind", **where)


def _twin(items: list[KubeObject], fc: KubeObject) -> KubeObject | None:
    """The item that is the functionConfig (kpt render configPath, kustomize generator)."""
    fid = fc.annotation(ID) or fc.annotation(LEGACY_ID)
    for it in items:
        if fid is not None and (it.annotation(ID) or it.annotation(LEGACY_ID)) == fid \
                and it.kind == fc.kind:
            return it
    for it in items:
        if it.is_gvk(fc.api_version, fc.kind) and it.name == fc.name:
            return it
    return None


def process(rl: ResourceList, engine_factory=engine_for_cluster) -> ResourceList:
    """Run the function on `rl` (in place) and return it with results.
    `engine_factory(cluster)` gives each cluster's engine (by `spec.gitops`).

    Phases: read the configs, drop the items this run regenerates, render each
    cluster's tree, refuse to overwrite files kure-fn does not own, then place.
    Any error stops before the items change."""
    out = Results()  # this run's results (the input may carry others)
    near_misses(rl, out)
    configs = find_configs(rl)
    if not out and not any(d.kind == cfg.KIND for d in configs):
        fc = rl.function_config or {}
        what = f"{fc.get('apiVersion', '?')} {fc.get('kind', '?')}" if fc else "none"
        out.error(f"no {cfg.API_VERSION} {cfg.KIND} found: put one in the package or pass it as "
                  f"the function config (function config given: {what})")
    if out:
        return _done(rl, out)
    loaded = load(configs)  # each Cluster merged with its profiles, validated
    for r in loaded.reports:
        _emit(out, r)
    if out.has_errors():
        return _done(rl, out)
    clusters = loaded.clusters

    config_items = {id(d.source) for d in configs if d.source is not None}
    for cluster, _ in clusters:  # what the previous render holds (image tags committed since)
        engine_factory(cluster).carry_over(
            cluster, (it.data for it in rl.items if it.annotation(OWNER) == cluster.name
                      and id(it) not in config_items))
    kept = _drop_owned(rl.items, {c.name for c, _ in clusters}, config_items, out)
    _add_input_crds(clusters, kept)
    for cluster, _ in clusters:
        for p in chart_crd_warnings(cluster):
            _emit(out, loaded.report(cluster, p.severity, p.message, p.path))
    render = _render(loaded, kept, config_items, engine_factory, out)
    _check_overwrites(loaded, kept, render, out)
    if out.has_errors():
        return _done(rl, out)

    for it, path, index in render.placements:
        it.set_path(path, index)
    rl.items = kept + render.generated
    summary = ", ".join(f"{c.name}: {render.counts.get(c.name, 0)} items" for c, _ in clusters)
    tools = " and ".join(sorted({TOOL_NAMES[c.gitops] for c, _ in clusters}))
    out.info(f"generated the {tools} tree ({summary})")
    return _done(rl, out)


def _done(rl: ResourceList, out: Results) -> ResourceList:
    rl.results.extend(out)
    return rl


def _emit(out: Results, r: Report) -> None:
    report = out.error if r.severity == "error" else out.warning
    report(r.message, ref=r.document.ref() if r.document else None, path=r.path,
           file=_file_ref(r.document))


def _add_input_crds(clusters, items: list[KubeObject]) -> None:
    """CustomResourceDefinitions among the package's items decide their kinds'
    scope too (after the clusters' inline manifests)."""
    objects = [it.data for it in items]
    for cluster, _ in clusters:
        cluster.crd_scopes = with_input_crds(cluster.crd_scopes, objects)


def _drop_owned(items: list[KubeObject], rendered: set[str], config_items: set[int],
                out: Results) -> list[KubeObject]:
    """The input items minus those generated for a cluster of this run (they
    are regenerated); items of clusters not in this run stay, with a warning."""
    kept = [it for it in items
            if id(it) in config_items or it.annotation(OWNER) is None
            or it.annotation(OWNER) not in rendered]
    foreign = sorted({it.annotation(OWNER) for it in kept
                      if it.annotation(OWNER) and id(it) not in config_items} - rendered)
    for name in foreign:
        out.warning(f"items generated for cluster {name!r} were left untouched: its Cluster "
                    "config is not in this run")
    return kept


@dataclass
class Rendered:
    """What the clusters' trees add: new items, and input items to move."""

    generated: list[KubeObject] = field(default_factory=list)
    placements: list[tuple[KubeObject, str, int]] = field(default_factory=list)
    writer: dict[str, tuple[Cluster, Document]] = field(default_factory=dict)  # path -> cluster
    counts: dict[str, int] = field(default_factory=dict)


def _render(loaded: Loaded, kept: list[KubeObject], config_items: set[int], engine_factory,
            out: Results) -> Rendered:
    clusters = loaded.clusters
    existing = frozenset(it.path for it in kept if it.path)
    bootstrap_files = set().union(*(engine_factory(c).listed_if_present(c) for c, _ in clusters))
    candidates = [it for it in kept
                  if _selectable(it, config_items) and it.path not in bootstrap_files]
    result = Rendered()
    selected_by: dict[int, tuple[str, str]] = {}  # item -> (cluster, application path)
    for cluster, src in clusters:
        selections, problems, warnings = select_resources(cluster, candidates)
        for p in problems + warnings:
            _emit(out, loaded.report(cluster, p.severity, p.message, p.path))
        for app, its in selections:
            for it in its:
                other = selected_by.setdefault(id(it), (cluster.name, app.path))
                if other[0] != cluster.name:
                    _emit(out, loaded.report(
                        cluster, "error", f"{it.kind} {it.name!r} is also selected by cluster "
                        f"{other[0]!r} ({other[1]}); an item can be placed only once — narrow one "
                        "of the selectors", f"{app.path}.resources.selector"))
        extra = _selected(selections)
        by_data = {id(it.data): it for _, its in selections for it in its}
        try:
            tree = engine_factory(cluster).create_layout_with_resources(cluster, extra=extra,
                                                                        existing=existing)
        except ConfigError as e:
            for p in e.problems:
                _emit(out, loaded.report(cluster, p.severity, p.message, p.path))
            continue
        for path, index, obj, owned, shared in tree.entries():
            result.writer.setdefault(path, (cluster, src))
            if owned:
                item = KubeObject(obj)
                item.set_path(path, index if shared else None)
                result.generated.append(item)
                result.counts[cluster.name] = result.counts.get(cluster.name, 0) + 1
            else:
                result.placements.append((by_data[id(obj)], path, index))
    return result


def _selected(selections) -> list[Generated]:
    """The selected items as generated objects, each once (an item selected
    twice is reported by `select_resources`)."""
    out: dict[int, Generated] = {}
    for app, its in selections:
        for it in its:
            out.setdefault(id(it), Generated(it.data, "selected", app,
                                             path=f"{app.path}.resources.selector"))
    return list(out.values())


def _check_overwrites(loaded: Loaded, kept: list[KubeObject], render: Rendered,
                      out: Results) -> None:
    """A file kure-fn writes must not hold an item it does not own or move,
    and no other file may break the tree (`blocking_files`)."""
    moved = {id(it) for it, _, _ in render.placements}
    held: dict[str, KubeObject] = {}  # files that keep items kure-fn does not place
    for it in kept:
        if it.path and id(it) not in moved:
            held.setdefault(it.path, it)
    written = set(render.writer)  # every path of a generated or a moved item
    for path in sorted(written):
        clash = held.get(path)
        if clash is not None:
            cluster, _ = render.writer[path]
            _emit(out, loaded.report(cluster, "error", f"{path} would be overwritten: it holds "
                                     f"{clash.kind} {clash.name!r}, which kure-fn did not "
                                     "generate; move or delete that file, or change "
                                     "spec.layout.root", "spec.layout.root"))
    for path, problem in blocking_files(written, held.__contains__):
        cluster, _ = render.writer[path]
        _emit(out, loaded.report(cluster, "error", problem, "spec.layout.root"))


def _selectable(it: KubeObject, config_items: set[int]) -> bool:
    if id(it) in config_items or is_config(it.data):
        return False
    if it.is_kptfile() or it.is_local_config() or it.annotation(FUNCTION) is not None:
        return False
    return it.annotation(OWNER) is None
