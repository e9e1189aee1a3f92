"""The package's layers and its import graph: `lint-imports` with the contracts of pyproject.toml.

The contracts (``[tool.importlinter]``): every subpackage and top-level module of ``gankit`` sits in
one layer and imports only from the layers below it; no cycles between the modules of any package.
Function-level imports and ``TYPE_CHECKING`` imports count: hiding an import in a function does not
remove the dependency.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def checked_env() -> dict[str, str]:
    # This checkout's sources first, so an installed gankit (another checkout) is never the one analysed.
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def test_lint_imports_keeps_every_contract():
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--no-logo"],
        cwd=ROOT, env=checked_env(), capture_output=True, text=True, timeout=300)
    # import-linter comes with the test extra: pip install -e '.[test]'
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout


def test_no_module_imports_itself_through_others():
    """Module by module, including the package's front door (``gankit/__init__.py``), which the
    sibling contract does not see: no import a -> b has a way back b -> ... -> a."""
    code = ("import grimp, json\n"
            "g = grimp.build_graph('gankit', cache_dir=None)\n"
            "print(json.dumps([[m, i] for m in sorted(g.modules) for i in sorted(g.find_modules_directly_imported_by(m))\n"
            "                  if g.find_shortest_chain(importer=i, imported=m)]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=checked_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"imports that close a cycle (importer, imported): {result.stdout}"

