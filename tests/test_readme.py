"""The README a new user reads first: two commands, and how to call bme-mri by name."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_two_commands_block_holds_exactly_two_commands():
    section = _section("Two commands")
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands


def test_readme_says_how_to_put_bme_mri_on_the_path():
    section = _section("Two commands")
    assert "source .venv/bin/activate" in section
    assert ".venv/bin/bme-mri" in section
    assert "bme-mri --version" in README.read_text(encoding="utf-8")


def test_every_relative_link_of_the_readme_and_docs_exists():
    """A link to docs/validation.md (or any file of the repository) that is not there is a dead
    end for a new user."""
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
