"""Charts as server-rendered SVG: no chart library, no CDN, no script, and nothing a Content
Security Policy without inline styles refuses (colours come from CSS classes in app.css and SVG
presentation attributes). Each chart carries a <title> per mark, so hovering or a screen reader
tells the figure; the dashboard also lists the numbers beside it.

A chart has no viewBox: it is as wide as its box (width 100%, marks placed in percent of it) and
as tall as its rows in pixels, so its text keeps the size app.css gives it at any page width
instead of shrinking with the drawing."""
from __future__ import annotations

from markupsafe import Markup, escape

from .filters import amounts

ROW_TEXT, BAR_H, MONEY_TEXT, ROW_GAP = 18, 12, 18, 12   # pixels: a bar row's parts, top to bottom


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _counted(v: float, unit: str) -> str:
    return f"{_num(v)} {unit[:-1] if unit.endswith('s') and v == 1 else unit}".strip()


def _open(title: str, height: float) -> str:
    return (f'<svg class="chart" width="100%" height="{height:.0f}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>')


def hbars(bars, title: str, unit: str = "", css: list[str] | None = None) -> Markup:
    """Horizontal bars, one row per item (label, value, note, href, money): the label and its
    figure counted in `unit` above the bar, its value in money under it. `css` names each bar's
    colour class (else the palette in turn)."""
    with_money = any(b.money for b in bars)
    row_h = ROW_TEXT + BAR_H + (MONEY_TEXT if with_money else 0) + ROW_GAP
    height = len(bars) * row_h if bars else 32
    top_value = max((b.value for b in bars), default=0) or 1
    out = [_open(title, height)]
    if not bars:
        out.append('<text x="0" y="22" class="chart-empty">Nothing to show yet.</text>')
    for i, b in enumerate(bars):
        y = i * row_h
        pct = max(0.5, 100 * b.value / top_value) if b.value else 0
        figure = _counted(b.value, unit)
        value = amounts(b.money)
        tip = " · ".join(x for x in (f"{b.label}: {figure}", b.note, value) if x)
        shown = f"{figure} · {b.note}" if b.note else figure
        # the whole row answers a click on a linked bar, the gaps between its marks too
        mark = (f'<g class="bar-row"><title>{escape(tip)}</title>'
                f'<rect x="0" y="{y}" width="100%" height="{row_h - ROW_GAP}" class="hit"/>'
                f'<text x="0" y="{y + ROW_TEXT - 5}" class="chart-label">{escape(b.label)}</text>'
                f'<text x="100%" y="{y + ROW_TEXT - 5}" text-anchor="end" class="chart-value">{escape(shown)}</text>'
                f'<rect x="0" y="{y + ROW_TEXT}" width="100%" height="{BAR_H}" rx="3" class="track"/>'
                f'<rect x="0" y="{y + ROW_TEXT}" width="{pct:.1f}%" height="{BAR_H}" rx="3" '
                f'class="bar {css[i] if css else f"bar-{i % 6}"}"/>')
        if with_money:
            mark += (f'<text x="0" y="{y + ROW_TEXT + BAR_H + MONEY_TEXT - 4}" class="chart-money">'
                     f'{escape(value)}</text>')
        mark += "</g>"
        if b.href:
            mark = f'<a href="{escape(b.href)}">{mark}</a>'
        out.append(mark)
    out.append("</svg>")
    return Markup("".join(out))


def columns(labels: list[str], series: list[tuple[str, list[float]]], title: str, unit: str = "",
            axis: str = "", tips: list[list[str]] | None = None, height: int = 250,
            hrefs: list[list[str | None]] | None = None) -> Markup:
    """Vertical columns, grouped per label, one colour per series, with a legend; the scale counts
    in `unit`, `axis` names what the labels under the columns are. `tips`: per series, per label,
    more to tell on hover (a value in money). `hrefs` (per series, per label) makes each column a
    link to what it counts."""
    top, bottom = 48, 44                    # legend and the scale's top figure; the labels and the axis
    plot_h = height - top - bottom
    peak = max((v for _, vals in series for v in vals), default=0) or 1
    peak += peak % 2 if peak > 1 else 0    # whole figures at the half-way line too
    n, k = max(len(labels), 1), max(len(series), 1)
    slot = 100 / n
    bar_w = slot * 0.8 / k
    out = [_open(title, height)]
    for s, (name, _) in enumerate(series):
        lx = s * 120
        out.append(f'<rect x="{lx}" y="4" width="12" height="12" class="bar bar-{s}"/>'
                   f'<text x="{lx + 18}" y="15" class="chart-label">{escape(name)}</text>')
    for s, (name, vals) in enumerate(series):
        for i, v in enumerate(vals):
            h = plot_h * v / peak
            x = i * slot + slot * 0.1 + s * bar_w
            more = tips[s][i] if tips and tips[s][i] else ""
            tip = f"{labels[i]}: {_counted(v, unit)} {name.lower()}" + (f" · {more}" if more else "")
            mark = (f'<rect x="{x:.2f}%" y="{top + plot_h - h:.1f}" width="{bar_w:.2f}%" height="{h:.1f}" '
                    f'class="bar bar-{s}"><title>{escape(tip)}</title></rect>')
            href = hrefs[s][i] if hrefs and v else None
            out.append(f'<a href="{escape(href)}">{mark}</a>' if href else mark)
    # the scale, drawn over the columns (a halo keeps its figures readable there)
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        figure = _counted(peak * frac, unit) if frac == 1 else _num(peak * frac)
        out.append(f'<line x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="0" y="{y - 3:.1f}" class="chart-axis">{escape(figure)}</text>')
    step = max(1, -(-n // 7))
    for i, label in enumerate(labels):
        if i % step == 0:   # the first starts at the edge rather than past it
            anchor, x = ("start", 0) if i == 0 else ("middle", (i + 0.5) * slot)
            out.append(f'<text x="{x:.2f}%" y="{height - bottom + 17}" text-anchor="{anchor}" '
                       f'class="chart-axis">{escape(label)}</text>')
    if axis:
        out.append(f'<text x="50%" y="{height - 5}" text-anchor="middle" class="chart-axis">{escape(axis)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def trend(labels: list[str], series: list[tuple[str, list[float | None]]], title: str, unit: str = "",
          hrefs: list[list[str | None]] | None = None, width: int = 400, height: int = 200,
          percent: bool = False) -> Markup:
    """Lines over periods, one colour per series, a point per known value (a gap where there is
    none). Each point may link to what it counts (`hrefs` per series, per label)."""
    left, bottom, right = 48, 34, 12
    # The legend, an entry after another, on a new line where the next would not fit (12px text).
    legend, lx, ly = [], left, 4
    for name, _ in series:
        need = 16 + 6.5 * len(name)
        if lx > left and lx + need > width - right:
            lx, ly = left, ly + 18
        legend.append((lx, ly))
        lx += need + 14
    top = ly + 26
    height += ly
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vals in series for v in vals if v is not None]
    peak = 1.0 if percent else (max(values, default=0) or 1)
    n = max(len(labels), 1)
    pad = 12                                   # the first and last points clear the axis labels
    step_x = (plot_w - 2 * pad) / max(n - 1, 1)
    left += pad

    def fmt(v):
        return f"{v * 100:.0f}%" if percent else _num(v)

    # Lines need user units: the one chart drawn to a viewBox, scaled with its box (class "scaled").
    out = [f'<svg class="chart scaled" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    if not values:
        out.append(f'<text x="{left}" y="{top + 24}" class="chart-empty">Nothing to show for these filters.</text>')
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        out.append(f'<line x1="{left - pad}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - pad - 4}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">{escape(fmt(peak * frac))}</text>')
    for s, (name, vals) in enumerate(series):
        lx, ly = legend[s]
        out.append(f'<rect x="{lx:.0f}" y="{ly}" width="12" height="12" class="bar bar-{s}"/>'
                   f'<text x="{lx + 16:.0f}" y="{ly + 10}" class="chart-label">{escape(name)}</text>')
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
