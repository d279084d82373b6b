"""The round trip of `kure-fn import` on a real repository: import the
cluster, render the config into an empty directory (`kure-fn render`), and
compare what Flux applies from the original and from the render
(tests/realrepo.py `simulate`, real kustomize).

Objects are compared as Flux applies them, after dropping what moves by
definition: kure-fn's ownership annotation, and a rendered bundle's
Kustomization `spec.path` and `spec.sourceRef` (the objects now live in the
tree kure-fn writes). References are compared with their namespace filled in
(`dependsOn`, `sourceRef`, `chartRef` without a namespace name their own),
and `dependsOn` as a set. Every object of the original must be equal or
reported by the importer (`differs` / `left out`, by object).
"""

from __future__ import annotations

import copy
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import realrepo
from helpers import BIN

OWNER = "fn.kure.dev/cluster"


@dataclass
class RoundTrip:
    name: str
    config: str                      # the config written
    stderr: str                      # the importer's report
    original: realrepo.Simulation
    rendered: realrepo.Simulation
    equal: list = field(default_factory=list)
    unequal: list = field(default_factory=list)   # keys in both, different
    missing: list = field(default_factory=list)   # keys only in the original
    added: list = field(default_factory=list)     # keys only in the render

    def reported(self) -> set[str]:
        """Objects the importer listed as differing or left out ("Kind ns/name")."""
        out = set()
        for line in self.stderr.splitlines():
            for prefix in ("kure-fn import: differs: ", "kure-fn import: left out: "):
                if line.startswith(prefix):
                    out.add(line[len(prefix):].split(": ", 1)[0])
        return out

    def summary(self) -> str:
        total = len(self.original.objects)
        return (f"{self.name}: objects equal {len(self.equal)}/{total}, reported "
                f"{len(self.unequal) + len(self.missing)}, added {len(self.added)}; "
                f"config {len(self.config.splitlines())} lines vs original YAML "
                f"{self.original.lines} lines")


def short(key) -> str:
    group, kind, ns, name = key
    return f"{kind} {ns + '/' if ns else ''}{name}"


def normalised(obj: dict, rendered_bundle: bool) -> dict:
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    ns = meta.get("namespace") or ""
    annotations = meta.get("annotations") or {}
    annotations.pop(OWNER, None)
    if not annotations:
        meta.pop("annotations", None)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if obj.get("kind") == "Kustomization" and rendered_bundle:
        spec.pop("path", None)
        spec.pop("sourceRef", None)
    for ref in ([spec.get("sourceRef"), spec.get("chartRef"),
                 ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef")]):
        if isinstance(ref, dict) and not ref.get("namespace"):
            ref["namespace"] = ns
    if isinstance(spec.get("dependsOn"), list):
        spec["dependsOn"] = sorted(({"namespace": ns, **d} for d in spec["dependsOn"]),
                                   key=lambda d: (d["namespace"], d.get("name")))
    return obj


def roundtrip(repo: Path, sync_path: str, name: str) -> RoundTrip:
    original = realrepo.simulate(repo, sync_path)
    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        config = Path(tmp) / "cluster.yaml"
        proc = subprocess.run([str(BIN / "kure-fn"), "import", sync_path, "--repo", str(repo), "--name", name,
                               "-o", str(config)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        out = Path(tmp) / "out"
        render = subprocess.run([str(BIN / "kure-fn"), "render", str(config), "-o", str(out)],
                                capture_output=True, text=True)
        assert render.returncode == 0, render.stderr
        rendered = realrepo.simulate(out, f"clusters/{name}")
        result = RoundTrip(name, config.read_text(), proc.stderr, original, rendered)
    built = {k for k in original.objects if k[1] == "Kustomization"
             and k[0] == realrepo.KUSTOMIZE_GROUP and k not in original.external}
    for key, obj in sorted(original.objects.items(), key=lambda kv: str(kv[0])):
        if key not in rendered.objects:
            result.missing.append(key)
        elif normalised(obj, key in built) == normalised(rendered.objects[key], key in built):
            result.equal.append(key)
        else:
            result.unequal.append(key)
    result.added = sorted((k for k in rendered.objects if k not in original.objects), key=str)
    return result
