"""Every example of docs/cli.md runs as written, in order, in an empty folder, and exits 0
(issue 23: a command a user copies from the docs must work). The README's quick-start commands
are the same commands on the user's own folders (/data/hips); their docs/cli.md twins run here.
The learned finder's examples run where the 'learn' extra (torch, MONAI) is installed."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"


def _commands() -> list[str]:
    text = CLI_DOC.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        lines.extend(block.replace("\\\n", " ").splitlines())
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_every_cli_doc_example_runs_in_order(tmp_path):
    learn = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("monai") is not None
    commands = [c for c in _commands() if learn or not re.search(r"\btrain\b|--method learned", c)]
    assert len(commands) >= 20
    script = "set -euo pipefail\n" + "\n".join(f"echo '>>> {c[:60].replace(chr(39), '')}'\n{c}" for c in commands)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT))
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert (tmp_path / "results" / "summary.csv").is_file() and (tmp_path / "pair" / "report.html").is_file()
    assert "Traceback" not in done.stderr
