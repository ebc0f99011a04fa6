"""Rendering of analysis results for people: text summaries and self-contained HTML files."""

from vigil.report.html import render_html
from vigil.report.text import render_text

__all__ = ["render_html", "render_text"]
