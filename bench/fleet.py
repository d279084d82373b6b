"""Synthetic fleets for the benchmark: one Cluster config with N bundles.

Deterministic (a seeded RNG): the same N always gives the same bytes.

The mix follows what platform teams run: about 40 % helm charts from https
repositories, 20 % helm charts from OCI registries, 25 % inline manifests
(Namespace + ConfigMap + Deployment), 15 % external bundles (a path in a
declared git source). Charts come from shared pools, so chart-source
de-duplication has real work; bundles form dependsOn chains inside a node and
now and then depend on a bundle of an earlier node. Nodes nest three levels:
region / environment / team.

    python bench/fleet.py 1000 --package DIR    # a kpt package (Kptfile + cluster.yaml)
    python bench/fleet.py 1000 > rl.yaml         # a ResourceList, as kpt feeds the function
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fn.krm import yamlio  # noqa: E402

HELM_HTTPS = 0.40
HELM_OCI = 0.20
MANIFESTS = 0.25  # the rest: external bundles
BUNDLES_PER_TEAM = 25
CHART_POOL = 40   # distinct https charts (over fewer repositories)
OCI_POOL = 30     # distinct oci charts
GIT_SOURCES = 8


def cluster_config(n: int, seed: int = 7, name: str = "fleet") -> dict:
    """The Cluster config document with `n` bundles."""
    rng = random.Random(seed)
    repos = [f"https://charts.example{r}.io/stable" for r in range(CHART_POOL // 4)]
    charts = [(f"chart-{c}", repos[c % len(repos)]) for c in range(CHART_POOL)]
    oci = [f"oci://ghcr.io/acme/charts/oci-chart-{c}" for c in range(OCI_POOL)]
    sources = [{"name": f"platform-git-{s}",
                "git": {"url": f"https://git.example.com/platform/repo-{s}.git",
                        "branch": "main"}} for s in range(GIT_SOURCES)]

    teams = max(1, -(-n // BUNDLES_PER_TEAM))
    regions = max(1, round(teams ** (1 / 3)))
    envs = max(1, round((teams / regions) ** 0.5))
    leaves: list[dict] = []
    nodes = []
    for r in range(regions):
        region = {"name": f"region-{r}", "children": []}
        nodes.append(region)
        for e in range(envs):
            env = {"name": f"env-{e}", "children": []}
            region["children"].append(env)
    envs_flat = [e for reg in nodes for e in reg["children"]]
    for t in range(teams):
        team = {"name": f"team-{t}", "source": f"platform-git-{t % GIT_SOURCES}", "bundles": []}
        envs_flat[t % len(envs_flat)]["children"].append(team)
        leaves.append(team)

    names: list[str] = []
    for i in range(n):
        team = leaves[i // BUNDLES_PER_TEAM]
        bname = f"b{i:05d}-{rng.choice(['api', 'web', 'db', 'cache', 'jobs', 'ops'])}"
        bundle: dict = {"name": bname}
        previous = team["bundles"][-1]["name"] if team["bundles"] else None
        deps = []
        if previous and rng.random() < 0.6:
            deps.append(previous)
        if names and rng.random() < 0.1:
            other = rng.choice(names[max(0, len(names) - 200):])
            if other not in deps:
                deps.append(other)
        if deps:
            bundle["dependsOn"] = deps
        roll = rng.random()
        if roll < HELM_HTTPS:
            chart, repo = rng.choice(charts)
            bundle["applications"] = [_helm(bname, chart, f"1.{rng.randrange(20)}.{rng.randrange(5)}",
                                             repo, rng)]
        elif roll < HELM_HTTPS + HELM_OCI:
            url = rng.choice(oci)
            version = rng.choice(["1.2.3", "2.0.1", ">=1.0.0 <2.0.0"])
            bundle["applications"] = [_helm(bname, None, version, url, rng)]
        elif roll < HELM_HTTPS + HELM_OCI + MANIFESTS:
            bundle["applications"] = [_manifests(bname, rng)]
        else:
            bundle["path"] = f"./deploy/{bname}"
            if rng.random() < 0.3:
                bundle["source"] = f"platform-git-{rng.randrange(GIT_SOURCES)}"
        if rng.random() < 0.2:
            bundle["timeout"] = "10m"
        team["bundles"].append(bundle)
        names.append(bname)

    return {
        "apiVersion": "fn.kure.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": name,
                     "annotations": {"config.kubernetes.io/local-config": "true"}},
        "spec": {
            "bootstrap": {"mode": "flux-operator", "fluxVersion": "2.9.x",
                          "sync": {"kind": "GitRepository",
                                   "url": "https://github.com/acme/fleet.git",
                                   "ref": "refs/heads/main", "secretRef": {"name": "flux-system"}}},
            "sources": sources,
            "nodes": nodes,
        },
    }


def _helm(name: str, chart: str | None, version: str, repo: str, rng: random.Random) -> dict:
    helm: dict = {"version": version, "repository": repo}
    if chart:
        helm["chart"] = chart
    helm["values"] = {"replicaCount": rng.randrange(1, 4),
                      "image": {"tag": f"v{rng.randrange(10)}.{rng.randrange(10)}.0"},
                      "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                      "ingress": {"enabled": rng.random() < 0.5, "host": f"{name}.example.com"}}
    if rng.random() < 0.3:
        helm["crds"] = "CreateReplace"
    return {"name": name, "namespace": name, "helm": helm}


def _manifests(name: str, rng: random.Random) -> dict:
    return {"name": name, "namespace": name, "manifests": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-settings"},
         "data": {"LOG_LEVEL": rng.choice(["info", "debug"]), "ENABLED": "true",
                  "PORT": "8080", "SINCE": "2024-01-01"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
         "spec": {"replicas": rng.randrange(1, 4),
                  "selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": {"app": name}},
                               "spec": {"containers": [{
                                   "name": "app", "image": f"ghcr.io/acme/{name}:1.0.{rng.randrange(9)}",
                                   "ports": [{"containerPort": 8080}],
                                   "envFrom": [{"configMapRef": {"name": f"{name}-settings"}}]}]}}}},
    ]}


KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - exec: {exec_}
    configPath: cluster.yaml
"""


def write_package(directory: Path, n: int, exec_: str = "kure-fn", seed: int = 7) -> Path:
    """A kpt package: Kptfile (exec pipeline) + cluster.yaml."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Kptfile").write_text(KPTFILE.format(name=directory.name, exec_=exec_))
    (directory / "cluster.yaml").write_text(yamlio.dump(cluster_config(n, seed)))
    return directory


def resource_list(n: int, seed: int = 7) -> str:
    """The ResourceList kpt would send for the package (config item only)."""
    config = cluster_config(n, seed)
    anns = config["metadata"]["annotations"]
    anns.update({"config.kubernetes.io/index": "0", "config.kubernetes.io/path": "cluster.yaml",
                 "internal.config.kubernetes.io/index": "0",
                 "internal.config.kubernetes.io/path": "cluster.yaml"})
    return yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                        "items": [config]})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundles", type=int)
    p.add_argument("--package", type=Path, help="write a kpt package here instead of a ResourceList")
    p.add_argument("--exec", dest="exec_", default="kure-fn", help="the Kptfile's exec function")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    if a.package:
        write_package(a.package, a.bundles, a.exec_, a.seed)
    else:
        sys.stdout.write(resource_list(a.bundles, a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
