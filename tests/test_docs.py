from pathlib import Path

from govreports.docs import render

DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "DATA-DICTIONARY.md"


def test_data_dictionary_is_generated_from_the_spec() -> None:
    """Regenerate with: python -m govreports.docs > docs/DATA-DICTIONARY.md"""
    assert DICTIONARY.read_text(encoding="utf-8") == render()
