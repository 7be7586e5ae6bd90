"""The house (docs/ARCHITECTURE.md): arrows only point down, and no room grows too big.

import-linter checks the contracts in pyproject.toml (every import, also inside functions);
the second test proves the check fails when someone adds an upward import.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = (
    "config",
    "scr_escc",
    "enrollment",
    "safety",
    "randomization",
    "deviations",
    "efficacy",
    "reports",
    "monitoring",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _product_files() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_every_import_points_down_the_house():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_house(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("templates", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "scr_escc" / "selectors.py", "a") as selectors:
        selectors.write(
            "\n\ndef _arm_counts():\n    from randomization.selectors import arm_counts\n\n    return arm_counts()\n"
        )
    result = _lint_imports(tmp_path)
    assert result.returncode == 1
    assert "scr_escc is not allowed to import randomization" in result.stdout
    assert "scr_escc.selectors -> randomization.selectors" in result.stdout


def test_no_product_file_over_400_lines():
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in _product_files()
        if (n := len(path.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert too_long == {}


def test_no_function_over_60_lines():
    too_long = {}
    for path in _product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long[f"{path.relative_to(ROOT)}:{node.name}"] = length
    assert too_long == {}


def test_efficacy_importing_reports_breaks_the_house(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("templates", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "efficacy" / "selectors.py", "a") as selectors:
        selectors.write("\n\ndef _summary():\n    from reports.dashboard import dashboard_summary\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1
    assert "efficacy is not allowed to import reports" in result.stdout
