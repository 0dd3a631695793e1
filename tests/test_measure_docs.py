"""docs/measure.md keeps up with the code: every built-in item text and every
public statistic is on the page."""

from __future__ import annotations

from pathlib import Path

from valuechain.domain.instrument import BUILT_IN

DOCS = Path(__file__).resolve().parents[1] / "docs" / "measure.md"


def test_every_built_in_item_is_documented_word_for_word() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for instrument in BUILT_IN.values():
        assert f"`{instrument.key}`" in text
        for item in instrument.items:
            assert f"| `{item.key}` | {item.text} |" in text, item.key


def test_every_statistic_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in (
        "score.mean_interval",
        "score.gap_interval",
        "score.servqual_totals",
        "reliability.cronbach_alpha",
        "change.welch_change",
        "change.adjust_p",
        "driver.key_drivers",
        "driver.quadrants",
        "nps.net_promoter",
        "confidentiality.protect",
        "protect_comments",
    ):
        assert name in text, name
