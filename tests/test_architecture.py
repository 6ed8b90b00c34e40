"""The layers the code is built in hold: coop < governance < marketplace < mlops, config/ above them all,
and inside each app the modules depend one way (no import cycles, function-level imports included).

import-linter reads the contracts in pyproject.toml; a lower app importing a higher one, or a cycle
between modules of one package, fails this test with the imports that break the rule.
"""

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
