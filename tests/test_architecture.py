"""The layers the code is built in hold: coop < governance < marketplace < mlops, config/ above them all,
and inside each app the modules depend one way (no import cycles, function-level imports included).

import-linter reads the contracts in pyproject.toml; a lower app importing a higher one, or a cycle
between modules of one package, fails this test with the imports that break the rule.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_layers_hold_and_no_app_has_an_import_cycle():
    command = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def _chain(node):
    """The method calls of a queryset chain, outermost first: a.b().c().d() -> [d, c, b]."""
    calls = []
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls.append(node)
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return calls


def test_row_locks_never_lock_the_rows_a_query_joins():
    """`select_for_update()` with `select_related()` in the same query locks the joined rows too (a submit would
    lock its project, serializing every submit to it): such a lock must say `of=("self", ...)`."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] not in {"coop", "governance", "marketplace", "mlops"} or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            calls = _chain(node)
            names = [call.func.attr for call in calls]
            if "select_related" in names and "select_for_update" in names:
                lock = calls[names.index("select_for_update")]
                if not any(keyword.arg == "of" for keyword in lock.keywords):
                    offenders.append(f"{path.relative_to(ROOT)}:{lock.lineno}")
    assert not sorted(set(offenders)), sorted(set(offenders))
