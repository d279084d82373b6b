"""`resources` applications: pick items of the input package by selector."""

from __future__ import annotations

from .krm.resourcelist import KubeObject
from .model.cluster import Application, Cluster
from .model.schema import Problem, Record, warning


def matches(selector: Record, item: KubeObject) -> bool:
    """Whether `item` passes a ResourceSelector (every criterion set must hold)."""
    if selector.kinds and item.kind not in selector.kinds:
        return False
    if selector.names and item.name not in selector.names:
        return False
    if selector.namespaces and item.namespace not in selector.namespaces:
        return False
    labels, anns = item.labels, item.annotations
    if any(labels.get(k) != v for k, v in (selector.matchLabels or {}).items()):
        return False
    if any(anns.get(k) != v for k, v in (selector.matchAnnotations or {}).items()):
        return False
    return True


def is_empty(selector: Record) -> bool:
    return not (selector.kinds or selector.names or selector.namespaces
                or selector.matchLabels or selector.matchAnnotations)


def select_resources(cluster: Cluster, candidates: list[KubeObject]):
    """([(app, items)], errors, warnings) for every `resources` application."""
    selections: list[tuple[Application, list[KubeObject]]] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    chosen_by: dict[int, Application] = {}
    for app in cluster.applications():
        res = app.spec.resources
        if res is None:
            continue
        sel = res.selector
        path = f"{app.path}.resources.selector"
        if is_empty(sel):
            problems.append(Problem(path, "an empty selector would take every item of the package; "
                                          "set kinds, names, namespaces, matchLabels or matchAnnotations"))
            continue
        items = [it for it in candidates if matches(sel, it)]
        if not items:
            warnings.append(warning(path, "the selector matches no item of the input package"))
        for it in items:
            other = chosen_by.get(id(it))
            if other is not None:
                problems.append(Problem(path, f"{it.kind} {it.name!r} is also selected by "
                                              f"{other.path}; an item can be placed only once — "
                                              "narrow one of the selectors"))
            chosen_by[id(it)] = app
        selections.append((app, items))
    return selections, problems, warnings
