"""What the function imports on its way to an answer: start-up is paid on
every `kpt fn render` (bench/RESULTS.md). Timings live in bench/; these tests
only guard that the heavy modules stay out of the function's path."""

import os
import subprocess
import sys

import yaml

from helpers import EXAMPLES, REPO, package_items, resource_list

HEAVY = ("dataclasses", "inspect", "typing", "pathlib", "hashlib", "difflib", "argparse", "json",
         "pydantic", "jsonschema")


def test_the_function_path_imports_no_heavy_module():
    code = ("import sys\nfrom fn.cli import main\nsys.argv = ['kure-fn']\nrc = main()\n"
            f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))\n")
    text = resource_list(package_items(EXAMPLES / "platform"))
    # -S: no site hooks (an editable install's finder imports pathlib itself)
    path = os.pathsep.join([str(REPO), os.path.dirname(os.path.dirname(yaml.__file__))])
    proc = subprocess.run([sys.executable, "-S", "-c", code], input=text, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": path})
    assert "generated the Flux tree" in proc.stdout, proc.stderr
    assert proc.stderr.rstrip().endswith("HEAVY="), proc.stderr
