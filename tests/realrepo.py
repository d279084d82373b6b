"""Real Flux repositories: what Flux applies from a repository as it is on disk.

`tests/fluxsim.py` checks trees kure-fn writes (every directory has a
kustomization.yaml, objects carry kure-fn's ownership annotation). Real
repositories use much more of Flux, so `simulate(repo, sync_path)` follows
one cluster as the controllers would, with `kubectl kustomize` (real
kustomize, `--load-restrictor LoadRestrictionsNone` as kustomize-controller)
in place of kustomize-controller:

1. source-controller: the bootstrap GitRepository (default
   `GitRepository flux-system/flux-system`) is the repository minus what
   `.sourceignore` files and source-controller's default exclusions drop.
   An `ArtifactGenerator` (source.extensions.fluxcd.io) whose sources are
   all the repository's own makes `ExternalArtifact`s: its `copy`
   operations are carried out, so they are the repository's own too.
2. the bootstrap sync Kustomization (named like the source; `flux bootstrap`
   or the flux-operator makes it and its source) builds the sync path;
3. every Flux Kustomization applied so far whose sourceRef is an own source
   is built in turn, as kustomize-controller does: `spec.path` inside that
   source; no kustomization file there -> one is generated listing the
   manifests below (a sub-directory with a kustomization file is listed as a
   directory and not entered); `targetNamespace`, `namePrefix`,
   `nameSuffix`, `patches`, `components`, `images` (and the legacy
   `patchesStrategicMerge` / `patchesJson6902`) are written into that
   kustomization file; then `postBuild` substitution per object (a port of
   fluxcd/pkg/envsubst for `${var}`, `${var:=default}`, `${var:-default}`,
   `${var=default}`, casing, length and substring; `$$` escapes `$`;
   objects labelled or annotated `kustomize.toolkit.fluxcd.io/substitute:
   disabled` are left alone; unset variables become "" as without
   `--feature-gates=StrictPostBuildSubstitutions`) with the literal
   `substitute` values. Values `substituteFrom` would bring are unknown
   here: with `substituteFrom`, a variable missing from `substitute` is left
   as written (`${VAR...}`) and recorded in `unresolved`. Then
   `commonMetadata`. Kustomizations of any other source are recorded in
   `external` and not built. Not simulated: SOPS decryption, `kubeConfig`
   (remote clusters), Helm (what a HelmRelease installs), the controllers'
   ownership labels.

`lines` counts the lines of the repository's YAML files that these builds
read (kustomization files, resources, components, patch and generator
files), `files` lists them. Every problem Flux would hit (a path that does
not exist, a failing build, an object applied by two Kustomizations, a
reference to nothing) is in `problems`; `references()` lists every
Kustomization `sourceRef` / `dependsOn`, HelmRelease `chart.spec.sourceRef`
/ `chartRef` / `dependsOn`, Alert `providerRef` and ArtifactGenerator
source with what it resolves to. Needs `kubectl` on PATH.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

import yaml

from fluxsim import HELM_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP, Key, group_of, key_of, normalise, show

NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"
ARTIFACT_GROUP = "source.extensions.fluxcd.io"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"
BOOTSTRAP = "<bootstrap>"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML as kustomize and Flux read it: `=` is a string (YAML 1.1's `value` tag is not)."""


_Loader.yaml_implicit_resolvers = {
    c: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:value"]
    for c, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """An object as kustomize-controller substitutes it: sorted keys, no line
    folding, multi-line strings as literal blocks (as sigs.k8s.io/yaml)."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def _load_all(text: str) -> list:
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]


# source-controller's default exclusions (fluxcd/pkg/sourceignore)
DEFAULT_IGNORE = (".git/", ".gitignore", ".gitmodules", ".gitattributes",
                  "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
                  ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml",
                  ".drone.yml", "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
                  "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml")


@dataclass
class Reference:
    holder: Key      # the Flux object holding the reference
    where: str       # e.g. "spec.dependsOn"
    target: Key
    resolved: str    # "applied" | "created" (bootstrap, ArtifactGenerator) | "" (nothing)


@dataclass
class Simulation:
    repo: Path
    sync_path: str
    objects: dict[Key, dict] = field(default_factory=dict)     # as applied
    applied_by: dict[Key, str] = field(default_factory=dict)   # -> the Kustomization (show form)
    created: dict[Key, str] = field(default_factory=dict)      # -> who made it (bootstrap, generator)
    followed: list[str] = field(default_factory=list)          # Kustomizations built (breadth first)
    external: dict[str, str] = field(default_factory=dict)     # Kustomization -> its source, not built
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # Kustomization -> ${VAR}s left
    files: set[str] = field(default_factory=set)               # repository files read
    lines: int = 0                                              # lines of those that are YAML
    problems: list[str] = field(default_factory=list)

    def keys(self, kind: str, group: str | None = None) -> list[Key]:
        return sorted(k for k in self.objects if k[1] == kind and (group is None or k[0] == group))

    def counts(self) -> dict[str, int]:
        return {
            "objects": len(self.objects),
            "kustomizations": len(self.keys("Kustomization", KUSTOMIZE_GROUP)),
            "helmreleases": len(self.keys("HelmRelease", HELM_GROUP)),
            "sources": sum(1 for k in self.objects if k[0] == SOURCE_GROUP),
            "notifications": sum(1 for k in self.objects if k[0] == NOTIFICATION_GROUP),
            "built": len(self.followed),
            "external": len(self.external),
            "files": len(self.files),
            "lines": self.lines,
        }

    def references(self) -> list[Reference]:
        out = []
        for key, obj in sorted(self.objects.items(), key=lambda kv: str(kv[0])):
            for what, target in _references(key, obj):
                resolved = ("applied" if target in self.objects
                            else "created" if target in self.created else "")
                out.append(Reference(key, what, target, resolved))
        return out

    def dangling(self) -> list[str]:
        return [f"{show(r.holder)}: {r.where} -> {show(r.target)}"
                for r in self.references() if not r.resolved]


# -- the walk -------------------------------------------------------------------

@dataclass
class _Source:
    root: Path                      # materialised content
    origin: dict[str, str]          # file below root -> repository file
    copies: list[Path] = field(default_factory=list)  # one per worker: builds edit files

    def copy_for(self, workers: int) -> None:
        self.copies = [self.root] + [self.root.with_name(f"{self.root.name}.{i}")
                                     for i in range(1, workers)]
        for c in self.copies[1:]:
            shutil.copytree(self.root, c)


WORKERS = min(4, os.cpu_count() or 1)


def simulate(repo: str | Path, sync_path: str, *, kind: str = "GitRepository",
             namespace: str = "flux-system", name: str = "flux-system") -> Simulation:
    """Follow the cluster whose bootstrap sync (a `kind` source and a
    Kustomization, both `namespace/name`) builds `sync_path` of `repo`.

    Kustomizations are built breadth first, a generation at a time (in
    parallel, each worker in its own copy of the sources), and recorded in
    that order: the result does not depend on timing."""
    repo = Path(repo)
    sim = Simulation(repo, normalise(sync_path))
    with tempfile.TemporaryDirectory(prefix="realrepo-") as tmp, \
            ThreadPoolExecutor(WORKERS) as pool:
        sources = {(kind, namespace, name): _checkout(repo, Path(tmp) / "source" / "git")}
        sources[(kind, namespace, name)].copy_for(WORKERS)
        root = {"apiVersion": f"{KUSTOMIZE_GROUP}/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"path": f"./{sim.sync_path}", "prune": True,
                         "sourceRef": {"kind": kind, "name": name, "namespace": namespace}}}
        sim.created[(SOURCE_GROUP, kind, namespace, name)] = BOOTSTRAP
        sim.created[key_of(root)] = BOOTSTRAP
        generators_done: set[Key] = set()
        slots: Queue[int] = Queue()
        for i in range(WORKERS):
            slots.put(i)

        def build(ks: dict) -> tuple:
            slot = slots.get()
            try:
                return _build(sources[_source_of(ks)], slot, ks)
            finally:
                slots.put(slot)

        generation, waiting, seen = [root], [], {key_of(root)}
        while generation:
            ready = [ks for ks in generation if _source_of(ks) in sources]
            waiting += [ks for ks in generation if _source_of(ks) not in sources]
            generation = []
            for ks, result in zip(ready, pool.map(build, ready)):
                for obj in _record(sim, ks, *result):
                    if key_of(obj) not in seen and _is_kustomization(obj):
                        seen.add(key_of(obj))
                        generation.append(obj)
            _generate(sim, sources, generators_done, Path(tmp))
            if not generation:  # an ArtifactGenerator may have made a missing source
                generation = [ks for ks in waiting if _source_of(ks) in sources]
                waiting = [ks for ks in waiting if _source_of(ks) not in sources]
        for ks in waiting:
            kind_, ns, nm = _source_of(ks)
            sim.external[show(key_of(ks))] = f"{kind_} {ns}/{nm}"
    sim.lines = sum(len((repo / f).read_text().splitlines()) for f in sim.files if _is_yaml(f))
    for ref in sim.references():
        if not ref.resolved:
            sim.problems.append(f"{show(ref.holder)}: {ref.where} {show(ref.target)} is neither "
                                "applied nor created by bootstrap or a generator")
    return sim


def _source_of(ks: dict) -> tuple[str, str, str]:
    ref = (ks.get("spec") or {}).get("sourceRef") or {}
    ns = (ks.get("metadata") or {}).get("namespace") or ""
    return ref.get("kind"), ref.get("namespace") or ns, ref.get("name")


def _is_kustomization(obj: dict) -> bool:
    return group_of(obj) == KUSTOMIZE_GROUP and obj.get("kind") == "Kustomization"


def _is_yaml(path: str) -> bool:
    return path.endswith((".yaml", ".yml")) or posixpath.basename(path) == "Kustomization"


# -- source-controller ------------------------------------------------------------

def _checkout(repo: Path, dest: Path) -> _Source:
    """The GitRepository artifact: the repository minus ignored files."""
    patterns = [_Pattern(p, ()) for p in DEFAULT_IGNORE]
    origin = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        rel = Path(dirpath).relative_to(repo).parts
        if ".sourceignore" in filenames:
            text = (Path(dirpath) / ".sourceignore").read_text()
            patterns += [_Pattern(line, rel) for line in text.splitlines()
                         if line.strip() and not line.startswith("#")]
        dirnames[:] = sorted(d for d in dirnames if not _ignored(patterns, (*rel, d), True))
        for f in sorted(filenames):
            if not _ignored(patterns, (*rel, f), False):
                target = dest.joinpath(*rel, f)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(dirpath) / f, target)
                origin[posixpath.join(*rel, f)] = posixpath.join(*rel, f)
    dest.mkdir(parents=True, exist_ok=True)
    return _Source(dest, origin)


class _Pattern:
    """One gitignore line as go-git reads it (fluxcd/pkg/sourceignore)."""

    def __init__(self, line: str, domain: tuple[str, ...]):
        self.domain = domain
        self.include = line.startswith("!")
        p = line[1:] if self.include else line
        p = p.rstrip(" ")
        self.dir_only = p.endswith("/")
        p = p.rstrip("/") if self.dir_only else p
        self.glob = "/" in p
        self.parts = p.split("/")

    def match(self, path: tuple[str, ...], is_dir: bool) -> bool:
        if path[:len(self.domain)] != self.domain or len(path) <= len(self.domain):
            return False
        path = path[len(self.domain):]
        if not self.glob:
            for i, part in enumerate(path):
                if fnmatch.fnmatchcase(part, self.parts[0]):
                    return not (self.dir_only and not is_dir and i == len(path) - 1)
            return False
        parts = self.parts[1:] if self.parts[0] == "" else self.parts
        rest = _glob_prefix(parts, list(path))
        if rest is None:
            return False
        return not (self.dir_only and not is_dir and not rest)  # a file named like the dir


def _glob_prefix(parts: list[str], path: list[str]) -> list[str] | None:
    """Match pattern components against a prefix of the path (`**`: any number
    of components); the components left over, or None."""
    if not parts:
        return path
    if parts[0] == "**":
        for i in range(len(path) + 1):
            rest = _glob_prefix(parts[1:], path[i:])
            if rest is not None:
                return rest
        return None
    if not path or not fnmatch.fnmatchcase(path[0], parts[0]):
        return None
    if len(path) == 1 and len(parts) > 1:
        return None  # a file does not match a deeper glob
    return _glob_prefix(parts[1:], path[1:])


def _ignored(patterns: list[_Pattern], path: tuple[str, ...], is_dir: bool) -> bool:
    for p in reversed(patterns):
        if p.match(path, is_dir):
            return not p.include
    return False


def _generate(sim: Simulation, sources: dict, done: set[Key], tmp: Path) -> None:
    """Carry out the copy operations of every ArtifactGenerator over own sources."""
    for key, obj in list(sim.objects.items()):
        if key in done or key[:2] != (ARTIFACT_GROUP, "ArtifactGenerator"):
            continue
        spec = obj.get("spec") or {}
        aliases = {}
        for s in spec.get("sources") or []:
            aliases[s.get("alias")] = sources.get((s.get("kind"), s.get("namespace") or key[2],
                                                   s.get("name")))
        if None in aliases.values():
            continue  # not the repository's own: its artifacts are external
        done.add(key)
        if spec.get("pathPattern"):
            sim.problems.append(f"{show(key)}: pathPattern is not simulated")
            continue
        for art in spec.get("artifacts") or []:
            dest = tmp / "artifacts" / key[2] / str(art.get("name")) / "artifact"
            origin: dict[str, str] = {}
            for op in art.get("copy") or []:
                problem = _copy(aliases, op, dest, origin)
                if problem:
                    sim.problems.append(f"{show(key)}: artifact {art.get('name')}: {problem}")
            dest.mkdir(parents=True, exist_ok=True)
            sources[("ExternalArtifact", key[2], art.get("name"))] = _Source(dest, origin)
            sources[("ExternalArtifact", key[2], art.get("name"))].copy_for(WORKERS)
            sim.created[(SOURCE_GROUP, "ExternalArtifact", key[2], art.get("name"))] = show(key)


def _copy(aliases: dict[str, _Source], op: dict, dest: Path, origin: dict[str, str]) -> str:
    """One `cp`-like copy operation of an ArtifactGenerator; the problem, if any."""
    if (op.get("strategy") or "Overwrite") != "Overwrite" or op.get("exclude"):
        return f"copy {op} uses a strategy or exclude that is not simulated"
    src, to = str(op.get("from", "")), str(op.get("to", ""))
    alias, _, pattern = src.lstrip("@").partition("/")
    if alias not in aliases or not to.startswith("@artifact/"):
        return f"copy from {src!r} to {to!r}: unknown alias or destination"
    source, to = aliases[alias], to[len("@artifact/"):]
    files = sorted(source.origin)
    if pattern.endswith("/**"):  # contents, recursively, into the destination directory
        prefix = pattern[:-3].strip("/")
        pairs = [(f, posixpath.join(to, posixpath.relpath(f, prefix or "."))) for f in files
                 if not prefix or f.startswith(prefix + "/")]
    elif pattern.endswith("/"):  # the directory itself, as a sub-directory
        prefix = pattern.strip("/")
        base = posixpath.basename(prefix)
        pairs = [(f, posixpath.join(to, base, posixpath.relpath(f, prefix))) for f in files
                 if f.startswith(prefix + "/")]
    else:  # files matching a glob of one directory, or one file
        pairs = [(f, posixpath.join(to, posixpath.basename(f)) if to.endswith("/") or to == ""
                  else to) for f in files
                 if posixpath.dirname(f) == posixpath.dirname(pattern)
                 and fnmatch.fnmatchcase(posixpath.basename(f), posixpath.basename(pattern))]
    if not pairs:
        return f"copy from {src!r} matches no file"
    for f, target in pairs:
        target = posixpath.normpath(target)
        (dest / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.root / f, dest / target)
        origin[target] = source.origin[f]
    return ""


# -- kustomize-controller ---------------------------------------------------------

def _build(source: _Source, slot: int, ks: dict) -> tuple[str | None, str, set[str]]:
    """Build one Flux Kustomization in the worker's copy of its source: the
    problem (or None), the objects as YAML, the repository files read."""
    spec = ks.get("spec") or {}
    path = normalise(str(spec.get("path", "")))
    root = source.copies[slot]
    directory = root / path
    if ".." in path.split("/") or not directory.is_dir():
        return f"path {spec.get('path')!r} does not exist in its source", "", set()
    kfile, original = _write_kustomization(directory, spec)
    try:
        read: set[Path] = set()
        _inputs(directory, read, set())
        proc = subprocess.run(["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone",
                               str(directory)], capture_output=True, text=True)
    finally:
        if original is None:
            kfile.unlink()
        else:
            kfile.write_bytes(original)
    if original is None:
        read.discard(kfile)  # generated, not the repository's
    files = {source.origin[rel] for rel in (f.relative_to(root).as_posix() for f in read)
             if rel in source.origin}
    if proc.returncode != 0:
        error = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return f"kustomize build {path or '.'} failed: {error}", "", files
    return None, proc.stdout, files


def _record(sim: Simulation, ks: dict, problem: str | None, output: str,
            files: set[str]) -> list[dict]:
    """Record what one Flux Kustomization applies (substituted, with its
    commonMetadata); the objects."""
    applier = show(key_of(ks))
    spec = ks.get("spec") or {}
    sim.files |= files
    sim.followed.append(applier)
    if problem:
        sim.problems.append(f"{applier}: {problem}")
        return []
    built = []
    for obj in _load_all(output):
        meta = obj.get("metadata") or {}
        if not (obj.get("apiVersion") and obj.get("kind") and meta.get("name")):
            sim.problems.append(f"{applier}: an object without apiVersion, kind or name")
            continue
        obj = _substitute(sim, applier, spec, obj)
        common = spec.get("commonMetadata") or {}
        for what in ("labels", "annotations"):
            if common.get(what):
                meta = obj.setdefault("metadata", {})
                meta[what] = {**(meta.get(what) or {}), **common[what]}
        key = key_of(obj)
        if key in sim.applied_by:
            sim.problems.append(f"{show(key)} is applied by {sim.applied_by[key]} and {applier}")
        sim.applied_by[key] = applier
        sim.objects[key] = obj
        built.append(obj)
    return built


def _write_kustomization(directory: Path, spec: dict) -> tuple[Path, bytes | None]:
    """Write the kustomization file Flux would build (fluxcd/pkg/kustomize
    Generator); the file and its original content (None: generated)."""
    kfile = next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)
    original = kfile.read_bytes() if kfile else None
    if kfile is None:
        kfile = directory / KUSTOMIZATION_FILES[0]
        resources = _scan(directory)
        kus = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
        kus.update({"resources": resources} if resources else {"namespace": "_placeholder"})
    else:
        kus = yaml.load(original, Loader=_Loader) or {}
        if not kus.get("resources"):
            kus["buildMetadata"] = ["originAnnotations"]
    for field_, key in (("targetNamespace", "namespace"), ("namePrefix", "namePrefix"),
                        ("nameSuffix", "nameSuffix")):
        if spec.get(field_) is not None:
            kus[key] = spec[field_]
    for field_ in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        kus[field_] = (kus.get(field_) or []) + list(spec.get(field_) or [])
        if not kus[field_]:
            del kus[field_]
    for component in spec.get("components") or []:
        if spec.get("ignoreMissingComponents") and not (directory / component).exists():
            continue
        kus.setdefault("components", []).append(component)
    images = kus.get("images") or []
    for image in spec.get("images") or []:
        same = next((i for i in images if i.get("name") == image.get("name")), None)
        if same is None:
            images.append(dict(image))
            continue
        if image.get("newName"):
            same["newName"] = image["newName"]
        if image.get("newTag") or image.get("digest"):
            same.pop("newTag", None), same.pop("digest", None)
            same.update({k: image[k] for k in ("newTag", "digest") if image.get(k)})
    if images:
        kus["images"] = images
    if spec.get("buildMetadata"):
        kus["buildMetadata"] = spec["buildMetadata"]
    kfile.write_text(yaml.safe_dump(kus, sort_keys=False))
    return kfile, original


def _scan(directory: Path) -> list[str]:
    """The resources of a generated kustomization: every manifest below, and
    every sub-directory holding a kustomization file (not entered)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(directory):
        here = Path(dirpath)
        for d in sorted(dirnames):
            if any((here / d / n).is_file() for n in KUSTOMIZATION_FILES):
                out.append((here / d).relative_to(directory).as_posix())
        dirnames[:] = sorted(d for d in dirnames
                             if not any((here / d / n).is_file() for n in KUSTOMIZATION_FILES))
        out += [(here / f).relative_to(directory).as_posix() for f in filenames
                if f.endswith((".yaml", ".yml"))]
    return sorted(f"./{p}" for p in out)


def _inputs(directory: Path, read: set[Path], dirs: set[Path]) -> None:
    """The files kustomize reads to build `directory`."""
    if directory in dirs:
        return
    dirs.add(directory)
    kfile = next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)
    if kfile is None:
        return
    read.add(kfile)
    kus = yaml.load(kfile.read_text(), Loader=_Loader) or {}

    def ref(entry) -> None:
        if not isinstance(entry, str) or "\n" in entry or "://" in entry:
            return  # inline content or a remote base
        target = Path(os.path.normpath(directory / entry.split("=", 1)[-1]))
        if target.is_dir():
            _inputs(target, read, dirs)
        elif target.is_file():
            read.add(target)

    for key in ("resources", "bases", "components", "crds", "configurations", "transformers",
                "generators", "validators", "patchesStrategicMerge"):
        for entry in kus.get(key) or []:
            ref(entry)
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in kus.get(key) or []:
            if isinstance(entry, dict):
                ref(entry.get("path"))
    for key in ("configMapGenerator", "secretGenerator"):
        for gen in kus.get(key) or []:
            for entry in (gen.get("files") or []) + (gen.get("envs") or []) + [gen.get("env")]:
                ref(entry)
    ref((kus.get("openapi") or {}).get("path"))


# -- postBuild substitution (fluxcd/pkg/envsubst) ------------------------------------

def _substitute(sim: Simulation, applier: str, spec: dict, obj: dict) -> dict:
    post = spec.get("postBuild")
    if post is None:
        return obj
    meta = obj.get("metadata") or {}
    if "disabled" in ((meta.get("labels") or {}).get(SUBSTITUTE),
                      (meta.get("annotations") or {}).get(SUBSTITUTE)):
        return obj
    literal = {str(k): str(v).replace("\n", "") for k, v in (post.get("substitute") or {}).items()}
    from_refs = bool(post.get("substituteFrom"))
    if not (literal or from_refs or post.get("substituteStrategy") == "Always"):
        return obj
    missing: list[str] = []
    text = yaml.dump(obj, Dumper=_Dumper, sort_keys=True, width=1 << 30, allow_unicode=True)
    try:
        out = _Envsubst(text, literal, missing if from_refs else None).run()
    except ValueError as err:
        sim.problems.append(f"{applier}: {show(key_of(obj))}: envsubst: {err}")
        return obj
    if missing:
        names = sim.unresolved.setdefault(applier, [])
        names += sorted(set(missing) - set(names))
    return yaml.load(out, Loader=_Loader)


class _Envsubst:
    """`${...}` expansion as fluxcd/pkg/envsubst (parse/parse.go, funcs.go)."""

    DEFAULTS = (":=", ":-", ":?", ":+", "=")

    def __init__(self, text: str, values: dict[str, str], missing: list[str] | None):
        self.s, self.i, self.values, self.missing = text, 0, values, missing

    def run(self) -> str:
        out = []
        while self.i < len(self.s):
            if self.s.startswith("${", self.i):
                out.append(self.func())
            elif self.s.startswith("$$", self.i):
                out.append("$")
                self.i += 2
            else:
                out.append(self.s[self.i])
                self.i += 1
        return "".join(out)

    def func(self) -> str:
        start = self.i
        self.i += 2
        if self.peek() == "#":  # ${#var}
            self.i += 1
            name = self.ident()
            self.expect("}")
            return self.value(name, start, lambda v: str(len(v)))
        name = self.ident()
        c = self.peek()
        if not c:
            raise ValueError("missing closing brace")
        if c == "}":
            self.i += 1
            return self.value(name, start, lambda v: v)
        if c == ":" and self.s[self.i + 1:self.i + 2] in ("=", "-", "?", "+") or c == "=":
            op = self.s[self.i:self.i + 2] if c == ":" else "="
            self.i += len(op)
            args = []
            while self.peek() != "}":
                if self.i >= len(self.s):
                    raise ValueError("missing closing brace")
                args.append(self.func() if self.s.startswith("${", self.i) else self.text("}"))
            self.i += 1
            return self.value(name, start, lambda v: v or "".join(args))
        if c == ":":  # ${var:pos} / ${var:pos:len}
            self.i += 1
            pos = self.text(":}")
            length = None
            if self.peek() == ":":
                self.i += 1
                length = self.text("}")
            self.expect("}")
            return self.value(name, start, lambda v: _substr(v, pos, length))
        if c in ",^":
            op = self.s[self.i:self.i + 2] if self.s[self.i + 1:self.i + 2] == c else c
            self.i += len(op)
            self.expect("}")
            fn = {"^": lambda v: v[:1].upper() + v[1:], "^^": str.upper,
                  ",": lambda v: v[:1].lower() + v[1:], ",,": str.lower}[op]
            return self.value(name, start, fn)
        if c in "/#%":
            raise ValueError(f"${{{name}{c}...}} (pattern functions) is not simulated")
        raise ValueError(f"bad substitution at {self.s[start:start + 40]!r}")

    def value(self, name: str, start: int, fn) -> str:
        if name in self.values:
            return fn(self.values[name])
        if self.missing is not None:  # substituteFrom may hold it: leave it as written
            self.missing.append(name)
            return self.s[start:self.i]
        return fn("")

    def ident(self) -> str:
        j = self.i
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] == "_"):
            self.i += 1
        if j == self.i:
            raise ValueError(f"unable to parse variable name at {self.s[j - 2:j + 40]!r}")
        return self.s[j:self.i]

    def text(self, stop: str) -> str:
        j = self.i
        while (self.i < len(self.s) and self.s[self.i] not in stop
               and not self.s.startswith("${", self.i)):
            self.i += 1
        return self.s[j:self.i]

    def peek(self) -> str:
        return self.s[self.i:self.i + 1]

    def expect(self, c: str) -> None:
        if self.peek() != c:
            raise ValueError(f"bad substitution near {self.s[self.i - 10:self.i + 30]!r}")
        self.i += 1


def _substr(v: str, pos: str, length: str | None) -> str:
    try:
        p = int(pos)
    except ValueError:
        return v
    p = max(len(v) + p, 0) if p < 0 else p
    if length is None:
        return v[p:]
    try:
        n = int(length)
    except ValueError:
        return v
    return v[p:p + n]


# -- references ------------------------------------------------------------------------

def _references(key: Key, obj: dict) -> list[tuple[str, Key]]:
    group, kind, ns, _ = key
    spec = obj.get("spec") or {}
    refs: list[tuple[str, str, dict]] = []  # field, group of the target, reference
    if (group, kind) == (KUSTOMIZE_GROUP, "Kustomization"):
        refs.append(("spec.sourceRef", SOURCE_GROUP, spec.get("sourceRef") or {}))
        refs += [("spec.dependsOn", KUSTOMIZE_GROUP, {"kind": "Kustomization", **d})
                 for d in spec.get("dependsOn") or []]
    elif (group, kind) == (HELM_GROUP, "HelmRelease"):
        chart = (spec.get("chart") or {}).get("spec")
        if chart:
            refs.append(("spec.chart.spec.sourceRef", SOURCE_GROUP, chart.get("sourceRef") or {}))
        if spec.get("chartRef"):
            refs.append(("spec.chartRef", SOURCE_GROUP, spec["chartRef"]))
        refs += [("spec.dependsOn", HELM_GROUP, {"kind": "HelmRelease", **d})
                 for d in spec.get("dependsOn") or []]
    elif (group, kind) == (NOTIFICATION_GROUP, "Alert"):
        refs.append(("spec.providerRef", NOTIFICATION_GROUP,
                     {"kind": "Provider", **(spec.get("providerRef") or {})}))
    elif (group, kind) == (ARTIFACT_GROUP, "ArtifactGenerator"):
        refs += [("spec.sources", SOURCE_GROUP, s) for s in spec.get("sources") or []]
    return [(what, (g, ref.get("kind"), ref.get("namespace") or ns, ref.get("name")))
            for what, g, ref in refs]
