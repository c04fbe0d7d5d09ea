"""The exit codes the ``crossdock`` help gives are the ones README promises, word for word."""

from __future__ import annotations

from infra.assets import ROOT
from infra.ops.options import EXIT_CODES


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def test_the_help_and_readme_say_the_same_exit_codes() -> None:
    paragraphs = (ROOT / "README.md").read_text().split("\n\n")
    (readme,) = [p for p in paragraphs if p.startswith("Exit codes:")]

    assert _plain(readme).startswith(_plain(EXIT_CODES))
    assert "the viewers (dlq list, dlq show, audit, and trace of an order that exists) exit 0" in _plain(EXIT_CODES)
