"""Charts as server-rendered SVG: no chart library, no CDN, no script, and nothing a Content
Security Policy without inline styles refuses (colours come from CSS classes in app.css and SVG
presentation attributes). Each chart carries a <title> per mark, so hovering or a screen reader
tells the figure; the dashboard also lists the numbers beside it."""
from __future__ import annotations

from markupsafe import Markup, escape


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def hbars(bars, title: str, unit: str = "", width: int = 560, label_w: int = 150,
          css: list[str] | None = None) -> Markup:
    """Horizontal bars, one per item (label, value, note, href); `css` names each bar's colour
    class (else the palette in turn)."""
    row_h, gap, top = 22, 6, 4
    height = top + len(bars) * (row_h + gap) + 4 if bars else 40
    top_value = max((b.value for b in bars), default=0) or 1
    area = width - label_w - 90
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    if not bars:
        out.append('<text x="0" y="24" class="chart-empty">Nothing to show yet.</text>')
    for i, b in enumerate(bars):
        y = top + i * (row_h + gap)
        w = max(1.0, area * b.value / top_value) if b.value else 0
        cls = css[i] if css else f"bar-{i % 6}"
        tip = f"{b.label}: {_num(b.value)}{(' ' + unit) if unit else ''}{(' · ' + b.note) if b.note else ''}"
        mark = (f'<g class="bar-row"><title>{escape(tip)}</title>'
                f'<text x="{label_w - 8}" y="{y + row_h * 0.7:.1f}" text-anchor="end" class="chart-label">{escape(b.label)}</text>'
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h}" rx="3" class="bar {cls}"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + row_h * 0.7:.1f}" class="chart-value">{escape(_num(b.value))}</text></g>')
        if b.href:
            mark = f'<a href="{escape(b.href)}">{mark}</a>'
        out.append(mark)
    out.append("</svg>")
    return Markup("".join(out))


def columns(labels: list[str], series: list[tuple[str, list[float]]], title: str,
            width: int = 560, height: int = 220, hrefs: list[list[str | None]] | None = None,
            unit: str = "") -> Markup:
    """Vertical columns, grouped per label, one colour per series, with a legend. `hrefs`
    (per series, per label) makes each column a link to what it counts."""
    left, bottom, top, right = 36, 34, 26, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, vals in series for v in vals), default=0) or 1
    n, k = max(len(labels), 1), max(len(series), 1)
    slot = plot_w / n
    bar_w = max(2.0, (slot - 6) / k)
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">{escape(_num(peak * frac))}</text>')
    for s, (name, vals) in enumerate(series):
        lx = left + s * 110
        out.append(f'<rect x="{lx}" y="4" width="12" height="12" class="bar bar-{s}"/>'
                   f'<text x="{lx + 16}" y="14" class="chart-label">{escape(name)}</text>')
        for i, v in enumerate(vals):
            h = plot_h * v / peak
            x = left + i * slot + 3 + s * bar_w
            mark = (f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'class="bar bar-{s}"><title>{escape(labels[i])}: {escape(_num(v))}{(" " + escape(unit)) if unit else ""} '
                    f'{escape(name.lower())}</title></rect>')
            href = hrefs[s][i] if hrefs and v else None
            out.append(f'<a href="{escape(href)}">{mark}</a>' if href else mark)
    step = max(1, n // 7)
    for i, label in enumerate(labels):
        # the last label too, unless it would sit on the one before it
        if i % step == 0 or (i == n - 1 and (n - 1) % step >= step * 0.75):
            out.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
                       f'text-anchor="middle" class="chart-axis">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def trend(labels: list[str], series: list[tuple[str, list[float | None]]], title: str, unit: str = "",
          hrefs: list[list[str | None]] | None = None, width: int = 560, height: int = 220,
          percent: bool = False) -> Markup:
    """Lines over periods, one colour per series, a point per known value (a gap where there is
    none). Each point may link to what it counts (`hrefs` per series, per label)."""
    left, bottom, top, right = 48, 34, 26, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vals in series for v in vals if v is not None]
    peak = 1.0 if percent else (max(values, default=0) or 1)
    n = max(len(labels), 1)
    pad = 12                                   # the first and last points clear the axis labels
    step_x = (plot_w - 2 * pad) / max(n - 1, 1)
    left += pad

    def fmt(v):
        return f"{v * 100:.0f}%" if percent else _num(v)

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    if not values:
        out.append(f'<text x="{left}" y="{top + 24}" class="chart-empty">Nothing to show for these filters.</text>')
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        out.append(f'<line x1="{left - pad}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - pad - 4}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">{escape(fmt(peak * frac))}</text>')
    lx = left
    for s, (name, vals) in enumerate(series):
        if s:
            lx += 16 + 6.5 * len(series[s - 1][0]) + 14   # after the previous legend entry (12px text)
        out.append(f'<rect x="{lx:.0f}" y="4" width="12" height="12" class="bar bar-{s}"/>'
                   f'<text x="{lx + 16:.0f}" y="14" class="chart-label">{escape(name)}</text>')
        pts = [(left + i * step_x, top + plot_h * (1 - v / peak), v, i) for i, v in enumerate(vals) if v is not None]
        runs, run = [], []
        for i, v in enumerate(vals):
            if v is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((left + i * step_x, top + plot_h * (1 - v / peak)))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                out.append(f'<polyline class="line line-{s}" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in r)}"/>')
        for x, y, v, i in pts:
            mark = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" class="point bar-{s}"><title>{escape(labels[i])}: '
                    f'{escape(fmt(v))}{(" " + escape(unit)) if unit and not percent else ""} ({escape(name)})</title></circle>')
            href = hrefs[s][i] if hrefs else None
            out.append(f'<a href="{escape(href)}">{mark}</a>' if href else mark)
    every = max(1, n // 5)
    for i, label in enumerate(labels):
        if i % every == 0 or (i == n - 1 and (n - 1) % every >= every / 2):
            anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"   # the ends stay inside
            out.append(f'<text x="{left + i * step_x:.1f}" y="{height - bottom + 16}" '
                       f'text-anchor="{anchor}" class="chart-axis">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
