"""Property-based tests (hypothesis).

- Generated valid Cluster configs (node trees, bundles with dependsOn DAGs,
  manifests / helm / resources applications, sources, layouts, bootstrap)
  always produce output that holds every invariant of output.md and passes
  the offline Flux validator.
- Generated invalid configs (one known mistake) always produce a clean
  error naming the field path, with every input item back byte for byte.
- No tree that renders holds one object twice; an inline manifest copied
  within its bundle is always an error naming both fields.
- Random damage anywhere in a valid config never causes an internal error.

Examples per test: KURE_FN_HYPOTHESIS_EXAMPLES (default 300).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import os
import posixpath
import re
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fn.kinds import is_namespaced
from helpers import VALIDATOR, SHARED, dump, run

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("KURE_FN_HYPOTHESIS_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OWNER = "fn.kure.dev/cluster"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# -- strategies: valid configs ---------------------------------------------------------

NODE_WORDS = ["apps", "infra", "team-a", "team-b", "edge", "x", "data-1"]
NAMESPACES = ["flux-system", "flux", "gitops"]
FLUX_NAMESPACES = ["media", "tools"]  # fluxNamespace values besides spec.flux.namespace
RESERVED = set(NODE_WORDS) | set(NAMESPACES) | set(FLUX_NAMESPACES) | {"flux-system"}
ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _label(middle_min: int, middle_max: int) -> st.SearchStrategy:
    """DNS-1123 labels: alphanumeric ends, '-' allowed inside."""
    return st.builds(lambda a, mid, z: a + mid + z, st.sampled_from(ALNUM),
                     st.text(ALNUM + "-", min_size=middle_min, max_size=middle_max),
                     st.sampled_from(ALNUM))


NAME = st.one_of(st.sampled_from(ALNUM), _label(0, 6), _label(7, 30),
                 _label(50, 50),  # 52 characters: still fits a Helm release name
                 ).filter(lambda n: n not in RESERVED)
TRICKY = st.sampled_from(["yes", "no", "on", "off", "y", "n", "true", "null", "~", "", "0755",
                          "0x1F", "1e3", "1:20", "2024-01-01", "- x", "a: b", "#c", "*a", "&a",
                          "'q'", '"d"', "tab\there", "line\nbreak\n", "  lead", "trail  ",
                          "grüße ✓", "\u2028", "{{ .Values.x }}", "${VAR}", "12345678901234567890"])
STRING = st.one_of(TRICKY, st.text(max_size=12))
DURATION = st.sampled_from(["30s", "1m", "5m", "10m", "1h", "1h30m", "90s", "500ms", "2.5h"])
KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)

# defaults and overlays (docs/config.md, Defaults): valid Flux fields only
KS_OVERLAY = st.fixed_dictionaries({}, optional={
    "timeout": DURATION, "retryInterval": DURATION, "force": st.booleans(),
    "deletionPolicy": st.sampled_from(["MirrorPrune", "Delete", "Orphan"]),
    "commonMetadata": st.fixed_dictionaries({"labels": st.dictionaries(KEY, st.just("a"), max_size=2)})})
HR_OVERLAY = st.fixed_dictionaries({}, optional={
    "timeout": DURATION, "maxHistory": st.integers(0, 10),
    "upgrade": st.fixed_dictionaries({"cleanupOnFail": st.booleans()})})
DEFAULTS = st.fixed_dictionaries({}, optional={
    "interval": DURATION, "timeout": DURATION, "wait": st.booleans(), "kustomization": KS_OVERLAY,
    "helm": st.fixed_dictionaries({}, optional={"interval": DURATION, "release": HR_OVERLAY,
                                                "values": st.dictionaries(KEY, st.integers(), max_size=2)})})


def _values() -> st.SearchStrategy:
    leaf = st.none() | st.booleans() | st.integers(-10**20, 10**20) | STRING
    return st.recursive(leaf, lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(STRING, kids, max_size=3), max_leaves=8)


@st.composite
def manifests(draw, app_ns, taken: set):
    """Inline manifests; `taken`: (kind, name) of the cluster's manifests so
    far, never repeated (a bundle's targetNamespace may merge namespaces)."""
    objs = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["ConfigMap", "Secret", "Namespace", "ClusterRole", "Widget"]))
        name = draw(NAME)
        meta = {"name": name}
        if kind not in ("Namespace", "ClusterRole") and draw(st.booleans()):
            meta["namespace"] = draw(st.sampled_from(["web", "db", "kube-system"]))
        if (kind, name) in taken:
            continue
        taken.add((kind, name))
        if draw(st.booleans()):
            meta["labels"] = draw(st.dictionaries(KEY, st.sampled_from(["a", "b-1", "web"]), max_size=2))
        obj = {"apiVersion": "example.com/v1" if kind == "Widget" else
               "rbac.authorization.k8s.io/v1" if kind == "ClusterRole" else "v1",
               "kind": kind, "metadata": meta}
        if kind == "ConfigMap":
            obj["data"] = draw(st.dictionaries(KEY, STRING, max_size=4))
        elif kind == "Secret":
            obj["stringData"] = draw(st.dictionaries(KEY, STRING, max_size=2))
        elif kind == "Widget":
            obj["spec"] = draw(st.dictionaries(KEY, _values(), max_size=3))
        objs.append(obj)
    return objs


@st.composite
def clusters(draw, flux_namespaces: bool = False):
    """(config, names of the Deployments the config's resources select).
    flux_namespaces: nodes, bundles, helm applications and sources may set
    their own fluxNamespace / namespace."""
    used: set[str] = set()
    taken: set[tuple[str, str]] = set()

    def fresh() -> str:
        name = draw(NAME.filter(lambda n: n not in used))
        used.add(name)
        return name

    ns = draw(st.sampled_from(NAMESPACES))

    def place(element: dict, key: str = "fluxNamespace") -> None:
        if flux_namespaces and draw(st.integers(0, 2)) == 0:
            element[key] = draw(st.sampled_from(FLUX_NAMESPACES + [ns]))

    spec: dict = {}
    cfg = {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
           "metadata": {"name": fresh()}, "spec": spec}
    flux = {}
    if ns != "flux-system":
        flux["namespace"] = ns
    if draw(st.booleans()):
        flux["placement"] = draw(st.sampled_from(["separate", "integrated"]))
    if draw(st.booleans()):
        flux["defaults"] = {k: draw(v) for k, v in (("interval", DURATION), ("prune", st.booleans()),
                                                      ("wait", st.booleans()))
                            if draw(st.booleans())}
        flux["defaults"].update(draw(DEFAULTS))
    if flux:
        spec["flux"] = flux
    if draw(st.booleans()):
        spec["layout"] = {"root": draw(st.sampled_from(["clusters", ".", "fleet/prod"])),
                          "kustomizationMode": draw(st.sampled_from(["explicit", "recursive"])),
                          "fileNaming": draw(st.sampled_from(["namespaced", "kind-name"]))}
    if draw(st.integers(0, 9)) == 0:
        spec["output"] = {"emit": draw(st.sampled_from(["flux", "apps"]))}
    sources = []
    for kind in draw(st.lists(st.sampled_from(["git", "oci", "helm", "bucket"]), max_size=3)):
        name = fresh()
        body = {"git": {"url": f"https://github.com/acme/{name}"},
                "oci": {"url": f"oci://ghcr.io/acme/{name}"},
                "helm": {"url": f"https://charts.example.com/{name}"},
                "bucket": {"bucketName": name, "endpoint": "minio.example.com"}}[kind]
        if kind == "git" and draw(st.booleans()):
            body["branch"] = "main"
        sources.append({"name": name, kind: body})
        place(sources[-1], "namespace")
    if sources:
        spec["sources"] = sources
    if draw(st.booleans()):
        spec["bootstrap"] = {"mode": draw(st.sampled_from(["flux-operator", "gotk"])),
                             "fluxVersion": "2.9.x"}
        if draw(st.booleans()):
            spec["bootstrap"]["sync"] = {"kind": "GitRepository",
                                         "url": "https://github.com/acme/fleet.git"}
    by_type = {t: [s["name"] for s in sources if t in s] for t in ("git", "oci", "helm", "bucket")}
    bundles: list[str] = []
    helm_apps: list[str] = []
    selected: list[str] = []

    def bundle() -> dict:
        name = fresh()
        b: dict = {"name": name}
        place(b)
        if bundles and draw(st.booleans()):
            b["dependsOn"] = draw(st.lists(st.sampled_from(bundles), unique=True, max_size=3))
        for key, strat in (("interval", DURATION), ("timeout", DURATION), ("prune", st.booleans()),
                           ("wait", st.booleans())):
            if draw(st.integers(0, 3)) == 0:
                b[key] = draw(strat)
        if draw(st.integers(0, 3)) == 0:
            b["postBuild"] = {"substitute": draw(st.dictionaries(KEY, STRING, min_size=1, max_size=3))}
        if draw(st.integers(0, 4)) == 0:
            b["kustomization"] = draw(KS_OVERLAY)
        bundles.append(name)
        external = by_type["git"] + by_type["bucket"]  # (an oci source may hold charts)
        if external and draw(st.integers(0, 4)) == 0:
            b["source"] = draw(st.sampled_from(external))
            b["path"] = draw(st.sampled_from(["./deploy", "deploy/prod", "./"]))
            return b
        apps, app_names = [], set()
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["manifests", "helm", "resources"]))
            app_name = name if kind != "helm" and not app_names and draw(st.booleans()) else fresh()
            app_names.add(app_name)
            app: dict = {"name": app_name}
            if draw(st.booleans()):
                app["namespace"] = draw(st.sampled_from(["web", "db", ""]))
            if kind == "manifests":
                app["manifests"] = draw(manifests(app.get("namespace"), taken))
            elif kind == "resources":
                item = f"sel-{len(selected)}"
                selected.append(item)
                app["resources"] = {"selector": {"kinds": ["Deployment"], "names": [item]}}
            else:
                app["helm"] = helm(app_name)
                place(app)
            apps.append(app)
        if apps:
            b["applications"] = apps
        if not any("helm" in a for a in apps) and draw(st.integers(0, 3)) == 0:
            b["targetNamespace"] = draw(st.sampled_from(["web", "db"]))  # (would move HelmReleases)
        return b

    def helm(app_name: str) -> dict:
        how = draw(st.sampled_from(["https", "oci"] + [t for t in by_type if by_type[t]]))
        chart = draw(st.sampled_from(["podinfo", "web", "redis"]))
        if how == "https":
            h = {"chart": chart, "version": draw(st.sampled_from(["1.0.0", ">=1.0 <2", "6.7.1"])),
                 "repository": draw(st.sampled_from(["https://charts.example.com",
                                                     "https://stefanprodan.github.io/podinfo"]))}
        elif how == "oci":
            h = {"repository": f"oci://ghcr.io/acme/charts/{chart}", "version": "1.0.0"}
        else:
            h = {"source": draw(st.sampled_from(by_type[how]))}
            if how == "helm":
                h.update(chart=chart, version="1.0.0")
            elif how in ("git", "bucket"):
                h["chart"] = f"./charts/{chart}"
        if helm_apps and draw(st.booleans()):
            h["dependsOn"] = draw(st.lists(st.sampled_from(helm_apps), unique=True, max_size=2))
        if draw(st.booleans()):
            h["values"] = draw(st.dictionaries(STRING, _values(), max_size=3))
        for key, strat in (("interval", DURATION), ("crds", st.sampled_from(["Create", "Skip"])),
                           ("driftDetection", st.sampled_from(["enabled", "warn"]))):
            if draw(st.integers(0, 3)) == 0:
                h[key] = draw(strat)
        if draw(st.integers(0, 4)) == 0:
            h["release"] = draw(HR_OVERLAY)
        helm_apps.append(app_name)
        return h

    def nodes(depth: int) -> list[dict]:
        out = []
        for word in draw(st.lists(st.sampled_from(NODE_WORDS), unique=True, max_size=3 - depth)):
            node: dict = {"name": word}
            place(node)
            if draw(st.integers(0, 3)) == 0:
                node["defaults"] = draw(DEFAULTS)
            bs = [bundle() for _ in range(draw(st.integers(0, 2)))]
            if bs:
                node["bundles"] = bs
            if depth < 2:
                kids = nodes(depth + 1)
                if kids:
                    node["children"] = kids
            out.append(node)
        return out

    spec["nodes"] = nodes(0)
    return cfg, selected


# -- building the input ---------------------------------------------------------------

def deployment(name: str, i: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "web", "annotations": {
                "config.kubernetes.io/path": f"deploy/{name}.yaml",
                "internal.config.kubernetes.io/path": f"deploy/{name}.yaml",
                "config.kubernetes.io/index": "0", "internal.config.kubernetes.io/index": "0",
                "internal.config.kubernetes.io/id": str(i + 10)}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "c", "image": "nginx:1.27", "args": ["--port=8080", "yes"]}]}}}}


def resource_list(cfg: dict, selected: list[str]) -> str:
    cluster = copy.deepcopy(cfg)
    cluster.setdefault("metadata", {}).setdefault("annotations", {}).update({
        "config.kubernetes.io/path": "cluster.yaml", "internal.config.kubernetes.io/path": "cluster.yaml",
        "config.kubernetes.io/index": "0", "internal.config.kubernetes.io/index": "0",
        "internal.config.kubernetes.io/id": "1"})
    kptfile = {"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {
        "name": "pkg", "annotations": {"config.kubernetes.io/local-config": "true",
                                        "config.kubernetes.io/path": "Kptfile",
                                        "internal.config.kubernetes.io/path": "Kptfile"}}}
    items = [kptfile, cluster] + [deployment(n, i) for i, n in enumerate(selected)]
    return dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                 "items": items}, sort_keys=False, allow_unicode=True)


def entries(text: str) -> list[str]:
    """The item entries of a ResourceList written at column 0."""
    body = text.split("\nitems:\n", 1)[1]
    body = re.split(r"^(?:results|functionConfig):", body, maxsplit=1, flags=re.M)[0]
    return ["- " + e.rstrip("\n") for e in ("\n" + body).split("\n- ")[1:]]


# -- the invariants ---------------------------------------------------------------------

def _validator():
    if not VALIDATOR.exists():
        return None
    spec = importlib.util.spec_from_file_location("validate_flux", VALIDATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules["validate_flux"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.Validator(SHARED / "schemas", require_namespace=True)


VALIDATOR_INSTANCE = _validator()


def ann(obj: dict) -> dict:
    return ((obj.get("metadata") or {}).get("annotations")) or {}


def check_invariants(cfg: dict, selected: list[str] | None, out: str) -> None:
    doc = yaml.load(out, Loader=LOADER)
    items = doc["items"]
    name = cfg["metadata"]["name"]
    spec = cfg["spec"]
    ns = (spec.get("flux") or {}).get("namespace") or "flux-system"  # null means unset
    emit = (spec.get("output") or {}).get("emit") or "all"
    root = (spec.get("layout") or {}).get("root") or "clusters"
    cluster_dir = name if root == "." else f"{root}/{name}"
    generated = [it for it in items if OWNER in ann(it)]
    moved = [it for it in items if it["kind"] == "Deployment"
             and not ann(it)["internal.config.kubernetes.io/path"].startswith("deploy/")]
    assert generated

    # annotations: both path forms, relative, no '..'; (path, index) unique
    files: dict[str, list[dict]] = {}
    seen = set()
    for it in items:
        a = ann(it)
        path = a.get("internal.config.kubernetes.io/path")
        if it in generated or it in moved:
            assert path and a.get("config.kubernetes.io/path") == path, a
            assert not path.startswith("/") and ".." not in path.split("/"), path
            assert a.get("internal.config.kubernetes.io/index") == a.get("config.kubernetes.io/index")
            files.setdefault(path, []).append(it)
        key = (path, a.get("internal.config.kubernetes.io/index", "0"))
        assert key not in seen, f"two items at {key}"
        seen.add(key)
    for path, objs in files.items():
        if len(objs) > 1:
            assert sorted(int(ann(o)["internal.config.kubernetes.io/index"]) for o in objs) \
                == list(range(len(objs))), path
    for it in generated:
        assert ann(it)[OWNER] == name
    if selected is not None and emit != "flux":
        assert {it["metadata"]["name"] for it in moved} == set(selected)
    for it in moved:
        assert OWNER not in ann(it)

    # every kustomization.yaml lists existing entries only, sorted
    lists = {posixpath.dirname(p): objs[0] for p, objs in files.items()
             if posixpath.basename(p) == "kustomization.yaml"}
    for d, k in lists.items():
        assert ann(k).get("config.kubernetes.io/local-config") == "true"
        res = k.get("resources") or []
        assert res == sorted(res), d
        for entry in res:
            assert ".." not in entry.split("/") and not entry.startswith("/"), entry
            target = posixpath.normpath(posixpath.join(d, entry))
            assert target in files or target in lists, f"{d}/kustomization.yaml lists {entry}"

    # Flux objects: references resolve; bundle paths exist
    flux = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in generated}
    tree_ref = (spec.get("flux") or {}).get("sourceRef") or {}
    sync = (spec.get("bootstrap") or {}).get("sync") or {}
    provided = {(tree_ref.get("kind") or sync.get("kind") or "GitRepository", ns,
                 tree_ref.get("name") or ns)}
    applied: dict[str, int] = {}

    def reach(d: str) -> None:
        for entry in (lists.get(d) or {}).get("resources") or []:
            target = posixpath.normpath(posixpath.join(d, entry))
            if target in lists:
                reach(target)
            else:
                applied[target] = applied.get(target, 0) + 1

    if emit != "apps":
        reach(cluster_dir)
    for o in generated:
        kind, s = o["kind"], o.get("spec") or {}
        if o["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/"):
            ref = s["sourceRef"]
            assert (ref["kind"], ref["namespace"], ref["name"]) in flux | provided, ref
            for dep in s.get("dependsOn") or []:
                assert ("Kustomization", dep["namespace"], dep["name"]) in flux, dep
            if (ref["kind"], ref["namespace"], ref["name"]) in provided and emit == "all":
                directory = s["path"][2:]
                assert directory in lists, f"{s['path']} has no kustomization.yaml"
                if directory != cluster_dir:  # (gotk's own Kustomization is the root sync)
                    reach(directory)
        elif kind == "HelmRelease":
            ref = s.get("chartRef") or s["chart"]["spec"]["sourceRef"]
            assert (ref["kind"], ref["namespace"], ref["name"]) in flux, ref
            for dep in s.get("dependsOn") or []:
                assert ("HelmRelease", dep["namespace"], dep["name"]) in flux, dep
    for o in generated:  # Flux objects elsewhere than spec.flux.namespace: kure-fn makes it
        o_ns = o["metadata"].get("namespace")
        if "fluxcd" in o["apiVersion"] and o_ns != ns and emit != "apps":
            assert ("Namespace", None, o_ns) in flux, f"no Namespace {o_ns} for {o['metadata']}"
    if emit == "all":  # every object applied by exactly one Flux Kustomization
        for path, objs in files.items():
            if posixpath.basename(path) != "kustomization.yaml":
                assert applied.get(path) == 1, f"{path} applied {applied.get(path, 0)} times"

    check_identities(spec, cluster_dir, generated + moved)

    objs = [o for o in generated if "fluxcd" in o["apiVersion"]]
    if VALIDATOR_INSTANCE is not None and objs:
        text = yaml.safe_dump_all(objs, sort_keys=False)
        bad = [r for r in VALIDATOR_INSTANCE.run([("<out>", text)]) if r.status == "fail"]
        assert not bad, [(r.ident(), r.errors) for r in bad]


def check_identities(spec: dict, cluster_dir: str, items: list[dict]) -> None:
    """No object twice in a tree that rendered: (API group, kind, namespace
    as Flux applies it, name) unique. A bundle's targetNamespace replaces the
    namespace of the namespaced objects below its directory."""
    targets: dict[str, str] = {}

    def walk(nodes, directory):
        for n in nodes or []:
            d = f"{directory}/{n['name']}"
            for b in n.get("bundles") or []:
                if b.get("targetNamespace"):
                    targets[f"{d}/{b['name']}/"] = b["targetNamespace"]
            walk(n.get("children"), d)
    walk(spec.get("nodes"), cluster_dir)
    seen: dict[tuple, str] = {}
    for it in items:
        meta = it["metadata"]
        path = ann(it)["internal.config.kubernetes.io/path"]
        ns = ""
        if is_namespaced(it["apiVersion"], it["kind"]):
            ns = next((t for d, t in targets.items() if path.startswith(d)),
                      meta.get("namespace") or "")
        api = it["apiVersion"]
        key = (api.split("/")[0] if "/" in api else "", it["kind"], ns, meta["name"])
        assert key not in seen, f"{key} twice: {seen[key]} and {path}"
        seen[key] = path


@SETTINGS
@given(case=clusters())
def test_valid_configs_produce_a_sound_tree(case):
    cfg, selected = case
    text = resource_list(cfg, selected)
    rc, out, _ = run_quiet(text)
    assert rc == 0, out
    check_invariants(cfg, selected, out)
    assert run(text) == (0, out)  # deterministic
    assert run(out) == (0, out)  # idempotent: its own output changes nothing


@SETTINGS
@given(case=clusters(flux_namespaces=True))
def test_flux_namespaces_keep_every_invariant(case):
    """fluxNamespace anywhere: every reference still resolves, in the
    namespace of the object it names; every namespace exists."""
    cfg, selected = case
    text = resource_list(cfg, selected)
    rc, out, _ = run_quiet(text)
    assert rc == 0, out
    check_invariants(cfg, selected, out)
    assert run(out) == (0, out)


# -- invalid configs --------------------------------------------------------------------

def _bundles(cfg: dict):
    def walk(nodes, path):
        for i, n in enumerate(nodes):
            for j, b in enumerate(n.get("bundles") or []):
                yield b, f"{path}[{i}].bundles[{j}]"
            yield from walk(n.get("children") or [], f"{path}[{i}].children")
    return list(walk(cfg["spec"]["nodes"], "spec.nodes"))


def _mistakes(cfg: dict) -> list:
    """(name, apply(cfg) -> expected field path) for every mistake that fits cfg."""
    bundles = _bundles(cfg)
    out = [
        ("root with ..", lambda c: _set(c, ["spec", "layout", "root"], "../escape") or "spec.layout.root"),
        ("absolute root", lambda c: _set(c, ["spec", "layout", "root"], "/etc") or "spec.layout.root"),
        ("cluster name", lambda c: _set(c, ["metadata", "name"], "Not_A_Label") or "metadata.name"),
        ("unknown spec field", lambda c: _set(c, ["spec", "nodez"], []) or "spec.nodez"),
        ("emit typo", lambda c: _set(c, ["spec", "output"], {"emit": "al"}) or "spec.output.emit"),
        ("days", lambda c: _set(c, ["spec", "flux"], {**c["spec"].get("flux", {}),
                                                      "defaults": {"interval": "1d"}})
         or "spec.flux.defaults.interval"),
    ]
    if bundles:
        def first(c):
            return _bundles(c)[0]
        out += [
            ("bundle name", lambda c: first(c)[0].update(name="UPPER") or f"{first(c)[1]}.name"),
            ("long bundle name", lambda c: first(c)[0].update(name="a" * 64) or f"{first(c)[1]}.name"),
            ("interval 1d", lambda c: first(c)[0].update(interval="1d") or f"{first(c)[1]}.interval"),
            ("prune yes", lambda c: first(c)[0].update(prune="yes") or f"{first(c)[1]}.prune"),
            ("misspelt field", lambda c: first(c)[0].update(dependOn=[]) or f"{first(c)[1]}.dependOn"),
            ("unknown dependency", lambda c: first(c)[0].update(dependsOn=["no-such-bundle"])
             or f"{first(c)[1]}.dependsOn[0]"),
            ("self dependency", lambda c: first(c)[0].update(dependsOn=[first(c)[0]["name"]])
             or f"{first(c)[1]}.dependsOn[0]"),
            ("substitute number", lambda c: first(c)[0].update(postBuild={"substitute": {"N": 3}})
             or f"{first(c)[1]}.postBuild.substitute.N"),
            ("path with ..", lambda c: first(c)[0].update(path="../x", source="s")
             or f"{first(c)[1]}.path"),
        ]
    if len(bundles) >= 2:
        def two(c):
            return _bundles(c)[:2]

        def cycle(c):
            (a, pa), (b, pb) = two(c)
            a["dependsOn"] = [b["name"]]
            b["dependsOn"] = [a["name"]]
            return f"{pa}.dependsOn[0]|{pb}.dependsOn[0]"  # reported at either end

        def duplicate(c):
            (a, _), (b, pb) = two(c)
            b["name"] = a["name"]
            return f"{pb}.name"
        out += [("cycle", cycle), ("duplicate bundle", duplicate)]
    return out


def _manifest_apps(cfg: dict) -> list[tuple[dict, str]]:
    return [(a, f"{p}.applications[{i}]") for b, p in _bundles(cfg)
            for i, a in enumerate(b.get("applications") or []) if a.get("manifests")]


def _set(c: dict, path: list[str], value) -> None:
    for key in path[:-1]:
        c = c.setdefault(key, {})
    c[path[-1]] = value


@st.composite
def invalid_clusters(draw):
    cfg, selected = draw(clusters())
    cfg = copy.deepcopy(cfg)
    name, mistake = draw(st.sampled_from(_mistakes(cfg)))
    field = mistake(cfg)
    return cfg, selected, name, field


def check_clean_error(text: str, out: str, field: str | None) -> None:
    doc = yaml.load(out, Loader=LOADER)
    errors = [r for r in doc["results"] if r["severity"] == "error"]
    assert errors
    for r in errors:
        assert "internal error" not in r["message"], r
        assert r.get("field", {}).get("path"), r
        assert r.get("file", {}).get("path") == "cluster.yaml", r
    if field is not None:  # (a|b: either)
        assert set(field.split("|")) & {r["field"]["path"] for r in errors}, errors
    assert entries(out) == entries(text)  # every input item back, byte for byte


def run_quiet(text: str) -> tuple[int, str, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc, out = run(text)
    return rc, out, err.getvalue()


@SETTINGS
@given(case=invalid_clusters())
def test_invalid_configs_give_clean_errors(case):
    cfg, selected, name, field = case
    text = resource_list(cfg, selected)
    rc, out, err = run_quiet(text)
    assert rc == 1, (name, out)
    assert "Traceback" not in err
    check_clean_error(text, out, field)


FIELD_MISTAKES = ("root with ..", "cluster name", "unknown spec field", "emit typo", "days")


@st.composite
def field_and_reference_mistakes(draw):
    """A field mistake outside the bundles and a dependsOn naming no bundle."""
    cfg, selected = draw(clusters().filter(lambda c: _bundles(c[0])))
    cfg = copy.deepcopy(cfg)
    mistakes = dict(_mistakes(cfg))
    name = draw(st.sampled_from(FIELD_MISTAKES))
    field = mistakes[name](cfg)
    first, path = _bundles(cfg)[0]
    first["dependsOn"] = ["no-such-bundle"]
    return cfg, selected, name, field, f"{path}.dependsOn[0]"


@SETTINGS
@given(case=field_and_reference_mistakes())
def test_field_errors_do_not_hide_reference_errors(case):
    """Amendment C: every problem in one run."""
    cfg, selected, name, field, dependency = case
    text = resource_list(cfg, selected)
    rc, out, err = run_quiet(text)
    assert rc == 1 and "Traceback" not in err, (name, out)
    check_clean_error(text, out, field)
    check_clean_error(text, out, dependency)


@st.composite
def clusters_with_an_object_twice(draw):
    """A valid config with one inline manifest copied into its application or
    another of its bundle, with the namespace it gets written out: (config,
    selected, field of the copy, field of the original)."""
    cfg, selected = draw(clusters().filter(lambda case: _manifest_apps(case[0])))
    cfg = copy.deepcopy(cfg)
    apps = _manifest_apps(cfg)
    app, path = draw(st.sampled_from(apps))
    i = draw(st.integers(0, len(app["manifests"]) - 1))
    obj = copy.deepcopy(app["manifests"][i])
    bundle = path.rsplit(".applications", 1)[0]
    other, other_path = draw(st.sampled_from([(a, p) for a, p in apps
                                              if p.rsplit(".applications", 1)[0] == bundle]))
    if is_namespaced(obj["apiVersion"], obj["kind"]):
        ns = obj["metadata"].get("namespace") or app.get("namespace")
        if ns:
            obj["metadata"]["namespace"] = ns
        elif other.get("namespace"):  # the other application would give it its namespace
            other, other_path = app, path
    other["manifests"].append(obj)
    return cfg, selected, f"{other_path}.manifests[{len(other['manifests']) - 1}]", \
        f"{path}.manifests[{i}]"


@settings(SETTINGS, max_examples=max(EXAMPLES // 3, 10))  # one narrow mistake: fewer examples
@given(case=clusters_with_an_object_twice())
def test_an_object_given_twice_is_always_an_error_naming_both_fields(case):
    cfg, selected, copy_path, original = case
    text = resource_list(cfg, selected)
    rc, out, err = run_quiet(text)
    assert rc == 1, out
    check_clean_error(text, out, f"{copy_path}|{original}")
    messages = [r["message"] for r in yaml.load(out, Loader=LOADER)["results"]]
    assert any(copy_path in m or original in m for m in messages), messages


# -- random damage ------------------------------------------------------------------------

def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


@st.composite
def damaged_clusters(draw):
    cfg, selected = draw(clusters())
    cfg = copy.deepcopy(cfg)
    targets = [p for p in _paths(cfg) if len(p) > 1]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(targets))
        parent = cfg
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = draw(_values())
        except (KeyError, IndexError, TypeError):
            pass
    return cfg, selected


@SETTINGS
@given(case=damaged_clusters())
def test_random_damage_never_crashes(case):
    cfg, selected = case
    text = resource_list(cfg, selected)
    rc, out, err = run_quiet(text)
    assert "Traceback" not in err
    assert "internal error" not in out, out
    if rc == 0:  # the damage happened to be valid
        check_invariants(cfg, None, out)
    else:
        check_clean_error(text, out, None)


def test_the_strategies_cover_every_shape():
    """A guard against a strategy that quietly stops generating a feature."""
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(clusters())
    def collect(case):
        text = yaml.safe_dump(case[0])
        for word in ("dependsOn", "helm", "manifests", "resources", "children", "path",
                     "integrated", "recursive", "kind-name", "bootstrap", "oci://", "sources"):
            if word in text:
                seen.add(word)

    collect()
    assert len(seen) == 12, seen


def test_generated_flux_objects_are_schema_validated():
    """Reports (as a skip) when the property tests ran without the Flux schemas."""
    if VALIDATOR_INSTANCE is None:
        pytest.skip(f"Flux schemas not available ({VALIDATOR} missing): the property tests "
                    "checked every invariant except schema validity")
    assert VALIDATOR_INSTANCE.index["flux"]["version"]
