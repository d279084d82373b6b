"""Every layout choice, through real kpt and a Flux simulation.

For each combination of placement x kustomizationMode x fileNaming x root,
the rich `examples/integrated` package (nested nodes, Helm charts from https
and oci, inline manifests, an external bundle, manifests selected from the
package) goes into a fresh git repository, `kpt fn render --allow-exec`
writes the tree, `tests/fluxsim.py` follows it as Flux would, and a second
render must leave `git status` clean. Every example package goes through
the same once, as shipped.
"""

import itertools
import shutil

import pytest
import yaml

import fluxsim
import kptrepo
from helpers import EXAMPLES, example_dirs, need, outside_objects

pytestmark = pytest.mark.e2e

PLACEMENTS = ("separate", "integrated")
MODES = ("explicit", "recursive")
NAMINGS = ("namespaced", "kind-name")
ROOTS = ("clusters", ".", "fleet/clusters")
RICH = EXAMPLES / "integrated"


@pytest.fixture(autouse=True)
def _tools():
    need("kpt")
    need("kubectl")


def _outside(repo) -> set[tuple[str, str, str]]:
    return outside_objects(doc for f in sorted(repo.rglob("*.yaml")) if ".git" not in f.parts
                           for doc in yaml.safe_load_all(f.read_text()))


def _render_twice_and_simulate(repo, selected_below: str = "", first_changes=None):
    """Render, simulate every cluster, render again: returns {cluster: Simulation}.
    The package's own objects (below `selected_below`) are what `resources`
    selectors place: each must be applied exactly once too. `first_changes`
    receives `git status` after the first render."""
    also = kptrepo.package_objects(repo, selected_below)
    kptrepo.render(repo)
    if first_changes is not None:
        first_changes(kptrepo.status(repo).splitlines())
    sims = {name: fluxsim.check(repo, directory, cluster=name, also=also,
                                outside=_outside(repo))
            for name, directory in kptrepo.cluster_dirs(repo).items()}
    kptrepo.commit(repo, "first render")
    kptrepo.render(repo)
    assert kptrepo.status(repo) == "", "a second render changed the tree"
    return sims


@pytest.mark.parametrize("placement,mode,naming,root",
                         list(itertools.product(PLACEMENTS, MODES, NAMINGS, ROOTS)),
                         ids=lambda v: str(v).replace("/", "-"))
def test_every_layout_choice_is_sound_under_flux(tmp_path, placement, mode, naming, root):
    repo = tmp_path / "repo"
    shutil.copytree(RICH, repo)

    def choose(doc):
        kptrepo.set_in(doc, "spec.flux.placement", placement)
        kptrepo.set_in(doc, "spec.layout.kustomizationMode", mode)
        kptrepo.set_in(doc, "spec.layout.fileNaming", naming)
        kptrepo.set_in(doc, "spec.layout.root", root)
    kptrepo.edit_config(repo / "cluster.yaml", choose)
    kptrepo.make_repo(repo)
    cluster_dir = "lab" if root == "." else f"{root}/lab"

    def only_the_tree(changes):
        outside = [c for c in changes if not c[3:].startswith(cluster_dir + "/")]
        assert outside == [" D manifests/web.yaml"], "only the tree (and the moved manifests) change"

    sims = _render_twice_and_simulate(repo, "manifests", only_the_tree)
    sim = sims["lab"]
    assert len(sim.followed) == 4 and sim.skipped == [
        "Kustomization.kustomize.toolkit.fluxcd.io flux-system/gateway-crds"]
    assert ("apps", "Deployment", "web", "frontend") in sim.applied

    # each choice shows in the tree
    prefix = "flux-system-" if naming == "namespaced" else ""
    ks_dir = f"{cluster_dir}/flux-system" if placement == "separate" else f"{cluster_dir}/apps"
    assert (repo / ks_dir / f"{prefix}kustomization-podinfo.yaml").is_file()
    assert (repo / cluster_dir / "apps/podinfo/podinfo" / f"{prefix}helmrelease-podinfo.yaml").is_file()
    app_kustomization = repo / cluster_dir / "apps/podinfo/podinfo/kustomization.yaml"
    assert app_kustomization.is_file() == (mode == "explicit")


@pytest.mark.parametrize("pkg", example_dirs("flux"), ids=lambda p: p.name)
def test_every_example_is_sound_under_flux(tmp_path, pkg):
    repo = kptrepo.make_repo(tmp_path / "repo", pkg)
    sims = _render_twice_and_simulate(repo)
    assert sims and all(s.followed or not s.generated for s in sims.values())
