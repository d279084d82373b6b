"""The shell commands of README.md and docs/running.md, run as written.

Every ```sh block of these two documents carries a marker on the line before
its fence, `<!-- doc-test: WHERE -->`, naming where a reader runs it (a block
without one fails here); a marked ```yaml block is a GitHub workflow whose
`run:` steps are the commands. Each document is one reader's shell session on
a fresh machine: its blocks run in order, each as `bash -e -o pipefail`, from
an environment where `kure-fn` is not on PATH and HOME is empty (the
machine's pip settings and download cache kept), keeping what earlier blocks
exported (PATH after `. .venv/bin/activate`). WHERE is:

  clone                a fresh copy of this checkout (`make demo`, a podman build)
  home                 the reader's home directory
  kpt-package          a git repository with the README's cluster.yaml and Kptfile
  kustomize-generator  a kustomization listing the README's cluster.yaml under
                       `generators:` (the legacy exec plugin route)
  ci                   a fleet repository like examples/fleet whose rendered tree is
                       committed; the same commands must fail where it is not
  kustomize-binary     standalone kustomize: skipped without a `kustomize` on PATH
  podman, podman-clone, podman-image
                       need root, podman, runc and mmdebstrap (skipped without them),
                       and get the machine's podman settings (tests/podman.py: private
                       storage); podman-image is the kustomize container route, with
                       the tests' image under the docs' name and the docker shim

What this machine cannot do is substituted, and only that: `pip install
"git+https://github.com/kure-dev/kure-fn@..."` installs the clone (GitHub is
out of reach), and `make test` runs one quick test file (PYTEST_ARGS), not
the whole suite, which would run this test again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from helpers import BIN, EXAMPLES, REPO

pytestmark = pytest.mark.e2e

DOCS = ("README.md", "docs/running.md")
MARKER = re.compile(r"^<!-- doc-test: ([a-z-]+) -->\n```(sh|yaml)\n(.*?)^```", re.M | re.S)
FENCE = re.compile(r"^```sh\n", re.M)
GITHUB_INSTALL = re.compile(r'"?git\+https://github\.com/kure-dev/kure-fn@v[0-9.]+"?')
QUICK_SUITE = "-q -p no:cacheprovider tests/test_architecture.py"
PODMAN_PLACES = ("podman", "podman-clone", "podman-image")
PLACES = ("clone", "home", "kpt-package", "kustomize-generator", "ci", "kustomize-binary",
          *PODMAN_PLACES)
KURE_FN_IMAGE = "ghcr.io/kure-dev/kure-fn:v0.1"


@dataclass
class Block:
    doc: str
    line: int
    place: str
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"

    def script(self, clone: Path) -> str:
        if self.lang == "yaml":  # a workflow: its run steps, as GitHub runs them (bash -e)
            steps = yaml.safe_load(self.text)["jobs"]
            text = "\n".join(s["run"] for job in steps.values() for s in job["steps"] if "run" in s)
        else:
            text = self.text
        return GITHUB_INSTALL.sub(f'"{clone}"', text)


def blocks(doc: str) -> list[Block]:
    text = (REPO / doc).read_text()
    return [Block(doc, text.count("\n", 0, m.start(2)) + 1, m.group(1), m.group(2), m.group(3))
            for m in MARKER.finditer(text)]


ALL = [b for doc in DOCS for b in blocks(doc)]


def test_every_shell_block_is_marked_with_a_known_place():
    for doc in DOCS:
        text = (REPO / doc).read_text()
        fences = [text.count("\n", 0, m.start()) + 1 for m in FENCE.finditer(text)]
        marked = [b.line for b in blocks(doc) if b.lang == "sh"]
        assert fences == marked, f"{doc}: a ```sh block without <!-- doc-test: WHERE --> " \
                                 f"before it (lines {sorted(set(fences) - set(marked))})"
    assert {b.place for b in ALL} <= set(PLACES), {b.place for b in ALL} - set(PLACES)
    # what the brief of every route says is here: install, kpt, legacy plugin, CI
    for doc in DOCS:
        assert {"kustomize-generator", "ci"} <= {b.place for b in blocks(doc)}, doc


# -- the places --------------------------------------------------------------------
def readme_yaml(first_line_has: str) -> str:
    """A ```yaml block of the README: the first one containing the text."""
    found = re.findall(r"^```yaml\n(.*?)^```", (REPO / "README.md").read_text(), re.M | re.S)
    return next(b for b in found if first_line_has in b)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   cwd=repo, check=True, capture_output=True)


def new_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "configs")
    return path


def fleet_repo(path: Path, rendered: bool) -> Path:
    """A repository laid out like examples/fleet; with `rendered`, its tree committed."""
    shutil.copytree(EXAMPLES / "fleet", path)
    if rendered:
        configs = sorted(str(p) for p in (path / "config").glob("*.yaml"))
        subprocess.run([str(BIN / "kure-fn"), "render", *configs, "-o", str(path)], check=True,
                       capture_output=True)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "fleet")
    return path


def copy_checkout(dest: Path) -> Path:
    """This checkout's files as a fresh clone has them (uncommitted edits included)."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def fresh_env(home: Path) -> dict:
    """A new login's environment: no kure-fn on PATH, no venv, an empty HOME."""
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "kure-fn").exists()]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTEST", "KUSTOMIZE_PLUGIN_HOME", "XDG_CONFIG_HOME",
                                "KURE_FN_", "CONTAINERS_"))}
    # the machine's package index settings and download cache stay (they live in HOME)
    pip_conf = Path.home() / ".config" / "pip" / "pip.conf"
    if pip_conf.exists() and "PIP_CONFIG_FILE" not in env:
        env["PIP_CONFIG_FILE"] = str(pip_conf)
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env.update(HOME=str(home), PATH=os.pathsep.join(path), PYTEST_ARGS=QUICK_SUITE)
    return env


def podman_missing() -> str | None:
    from podman import unavailable
    return unavailable()


# -- a reader's session ------------------------------------------------------------
@dataclass
class Outcome:
    returncode: int = 0
    output: str = ""
    skipped: str | None = None
    failures: list[str] = field(default_factory=list)


def run(script: str, cwd: Path, env: dict, state: Path | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess:
    """The script in bash -e -o pipefail; its exported environment saved to `state`."""
    tail = f'\nenv -0 >"{state}"\n' if state else "\n"
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script + tail], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)


class Session:
    """One document followed from top to bottom by one reader."""

    def __init__(self, doc: str, work: Path, clone: Path, image=None):
        self.doc, self.work, self.clone = doc, work, clone
        self.home = work / "home"
        self.home.mkdir()
        self.env = fresh_env(self.home)
        self.image = image  # the tests' image (conftest.py), for the podman places
        self.outcomes: dict[str, Outcome] = {}
        for block in blocks(doc):
            self.outcomes[block.id] = self.follow(block)

    def place(self, block: Block) -> Path:
        readme_config = readme_yaml("kind: Cluster")
        if block.place in ("clone", "podman-clone"):
            return self.clone
        if block.place in ("home", "podman"):
            return self.home
        if block.place == "kpt-package":
            return new_repo(self.work / f"pkg-{block.line}",
                            {"cluster.yaml": readme_config, "Kptfile": readme_yaml("kind: Kptfile")})
        if block.place in ("kustomize-generator", "kustomize-binary"):
            return new_repo(self.work / f"kustomize-{block.line}",
                            {"kustomization.yaml": readme_yaml("generators:"),
                             "cluster.yaml": readme_config})
        if block.place == "podman-image":
            config = yaml.safe_load(readme_config)
            config["metadata"]["annotations"]["config.kubernetes.io/function"] = \
                f"container:\n  image: {KURE_FN_IMAGE}\n"
            return new_repo(self.work / f"image-{block.line}",
                            {"kustomization.yaml": readme_yaml("generators:"),
                             "cluster.yaml": yaml.safe_dump(config)})
        assert block.place == "ci", block.place
        return fleet_repo(self.work / f"fleet-{block.line}", rendered=True)

    def skip_reason(self, block: Block) -> str | None:
        if block.place == "kustomize-binary" and not shutil.which("kustomize", path=self.env["PATH"]):
            return "no standalone kustomize on PATH (kubectl's has no --enable-exec)"
        if block.place in PODMAN_PLACES:
            return podman_missing()
        return None

    def env_for(self, block: Block) -> dict:
        """The session's environment; at a podman place also the machine's podman
        settings (tests/podman.py: private storage), unless the docs set their own,
        and for the container route the docker shim the docs describe further on."""
        if block.place not in PODMAN_PLACES:
            return self.env
        machine = {k: v for k, v in self.image.podman.env.items()
                   if k.startswith("CONTAINERS_") or k == "TMPDIR"}
        env = {**machine, **self.env}
        if block.place == "podman-image":
            env["PATH"] = f"{self.image.podman.shim_dir}{os.pathsep}{env['PATH']}"
        return env

    def follow(self, block: Block) -> Outcome:
        reason = self.skip_reason(block)
        if reason:
            return Outcome(skipped=reason)
        where = self.place(block)
        state = self.work / "state"
        proc = run(block.script(self.clone), where, self.env_for(block), state, timeout=1200)
        outcome = Outcome(proc.returncode, proc.stdout + proc.stderr)
        if proc.returncode == 0:
            saved = dict(v.split("=", 1) for v in state.read_text().split("\0") if "=" in v)
            for transient in ("PWD", "OLDPWD", "SHLVL", "_"):
                saved.pop(transient, None)
            self.env = saved
            outcome.failures = self.check(block, where, proc)
        return outcome

    def check(self, block: Block, where: Path, proc) -> list[str]:
        """What the docs say the commands do, beyond exiting 0."""
        failures = []
        if block.place == "kpt-package":
            for path in ("clusters/production/kustomization.yaml",
                         "clusters/production/flux-system/kustomization.yaml"):
                if not (where / path).is_file():
                    failures.append(f"{path} was not written")
        if block.place in ("kustomize-generator", "podman-image") \
                and "kind: Kustomization" not in proc.stdout:
            failures.append("the build has no Flux Kustomization")
        if block.place == "ci":
            stale = fleet_repo(self.work / f"stale-{block.line}", rendered=False)
            again = run(block.script(self.clone), stale, self.env)
            if again.returncode == 0:
                failures.append("the CI check passes where the rendered tree was never committed")
        return failures


@pytest.fixture(scope="module")
def sessions(tmp_path_factory, request):
    """Each document's session, run once, on one fresh copy of the checkout."""
    work = tmp_path_factory.mktemp("docs")
    clone = copy_checkout(work / "kure-fn")
    done: dict[str, Session] = {}

    def session(doc: str) -> Session:
        if doc not in done:
            image = None
            if any(b.place in PODMAN_PLACES for b in blocks(doc)) and not podman_missing():
                image = request.getfixturevalue("image")  # built once per test session
                image.podman("tag", image.tag, KURE_FN_IMAGE)  # the name the docs' config uses
            (work / doc.replace("/", "-")).mkdir()
            done[doc] = Session(doc, work / doc.replace("/", "-"), clone, image)
        return done[doc]
    return session


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_documented_commands_run_as_written(block, sessions):
    outcome = sessions(block.doc).outcomes[block.id]
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert outcome.returncode == 0, f"{block.id} ({block.place}) failed:\n{block.text}\n" \
                                    f"{outcome.output[-3000:]}"
    assert not outcome.failures, outcome.failures


def test_the_plugin_snippet_fails_loudly_without_kure_fn_on_path(tmp_path):
    block = next(b for b in blocks("README.md") if b.place == "kustomize-generator")
    home = tmp_path / "home"
    home.mkdir()
    proc = run(block.text, tmp_path, fresh_env(home))
    assert proc.returncode != 0
    assert "kure-fn: command not found" in proc.stderr
    assert not any(home.rglob("Cluster")), "a plugin link to nothing"
