"""Compatibility name for the HTML reader, which now lives in :mod:`govreports.readers.html`.

Nothing belongs here but the re-exports: callers written against ``govreports.htmltext`` keep working.
"""

from __future__ import annotations

from govreports.readers.html import embedded_html, html_to_text, html_to_text_walk, looks_like_html, to_plain_text

__all__ = ["embedded_html", "html_to_text", "html_to_text_walk", "looks_like_html", "to_plain_text"]
