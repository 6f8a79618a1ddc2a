"""Charts as inline SVG for a self-contained HTML page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def inline_svg(fig_or_path: Any) -> str:
    """Inline SVG markup from a matplotlib figure or an SVG file (responsive, no metadata)."""
    if isinstance(fig_or_path, (str, Path)):
        text = Path(fig_or_path).read_text(encoding="utf-8")
    else:
        import io

        buf = io.StringIO()
        fig_or_path.savefig(buf, format="svg")
        text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'(<svg[^>]*?)\swidth="[^"]*"\sheight="[^"]*"',
                  r'\1 style="width:100%;height:auto" role="img"', text, count=1)
    return text
