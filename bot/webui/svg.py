"""The weekly trend as a small server-rendered SVG: no script, no image file, readable
by a screen reader through its title and the table beside it."""

from __future__ import annotations

from html import escape

from bot.webui.views import Week

WIDTH, HEIGHT, PAD = 640, 220, 36


def trend_svg(weeks: list[Week], title: str) -> str:
    if not weeks:
        return ""
    top = max(max(w.registered for w in weeks), 1)
    step = (WIDTH - 2 * PAD) / max(len(weeks) - 1, 1)

    def y(value: int) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top

    points = " ".join(f"{PAD + i * step:.1f},{y(w.registered):.1f}" for i, w in enumerate(weeks))
    bar = step * 0.5
    bars = "".join(
        f'<rect x="{PAD + i * step - bar / 2:.1f}" y="{y(w.new):.1f}" width="{bar:.1f}" '
        f'height="{HEIGHT - PAD - y(w.new):.1f}" class="bar"/>'
        for i, w in enumerate(weeks)
    )
    labels = "".join(
        f'<text x="{PAD + i * step:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(w.label)}</text>"
        for i, w in enumerate(weeks)
    )
    values = "".join(
        f'<text x="{PAD + i * step:.1f}" y="{y(w.registered) - 8:.1f}" text-anchor="middle" '
        f'class="val">{w.registered}</text>'
        for i, w in enumerate(weeks)
    )
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="trend-title" '
        f'class="trend" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="trend-title">{escape(title)}</title>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" '
        f'y2="{HEIGHT - PAD}" class="axis"/>'
        f'{bars}<polyline points="{points}" class="line"/>{values}{labels}</svg>'
    )
