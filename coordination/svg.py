"""Server-side SVG pictures of the flows: a Sankey diagram, a funnel per pathway and a monthly
time series. Plain SVG text: no scripts, no fonts or anything else from the internet; it
scales to the width of the page (``viewBox``), so it works on a 360 px phone.

The pictures draw published numbers only (``coordination.flows``): a suppressed ``"<5"`` is
drawn as a hairline, labelled ``<5``, never with its true size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from coordination.flows.suppression import SUPPRESSED

PALETTE = ("#1d4e89", "#b3261e", "#1b6e3a", "#8a5a00", "#6b3fa0", "#00707a", "#5b6475")
FONT = 'font-family="system-ui, sans-serif"'


def _number(value: int | str) -> float:
    return 0.0 if value == SUPPRESSED else float(value)


def _label(value: int | str) -> str:
    return SUPPRESSED if value == SUPPRESSED else f"{int(value):,}"


def _svg(width: int, height: int, title: str, body: list[str], *, wide: bool = False) -> SafeString:
    """``wide``: drawn at no less than its own width (the page lets it scroll sideways in its
    frame), so that its labels stay at their size on a phone instead of shrinking to 8 px."""
    classes = "chart chart-wide" if wide else "chart"
    text = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'class="{classes}" {FONT}><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )
    # Every piece of text above went through escape(); the rest is our own markup.
    return mark_safe(text)  # noqa: S308


def _text(x: float, y: float, text: str, *, size: int = 13, anchor: str = "start", **attrs):
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


# --- Sankey --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    column: int


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    value: int | str  # published


def sankey(nodes: Sequence[Node], links: Sequence[Link], *, title: str) -> SafeString:
    """Columns of nodes left to right; link widths proportional to the published counts.
    Suppressed links are left out (the table beside the picture lists them as ``<5``)."""
    width, top, bottom, node_width, gap, label_room = 480, 8, 8, 10, 26, 112
    drawable = [link for link in links if _number(link.value)]
    used = {link.source for link in drawable} | {link.target for link in drawable}
    nodes = [n for n in nodes if n.key in used]
    if not nodes:
        return _svg(width, 60, title, [_text(8, 34, "Nothing to draw for this period.")])
    columns = max(n.column for n in nodes) + 1
    incoming: dict[str, float] = {}
    outgoing: dict[str, float] = {}
    for link in drawable:
        outgoing[link.source] = outgoing.get(link.source, 0) + _number(link.value)
        incoming[link.target] = incoming.get(link.target, 0) + _number(link.value)
    size = {n.key: max(incoming.get(n.key, 0), outgoing.get(n.key, 0)) for n in nodes}
    per_column: dict[int, list[Node]] = {}
    for node in nodes:
        per_column.setdefault(node.column, []).append(node)
    inner = 280
    scale = min(
        (inner - gap * (len(col) - 1)) / max(1.0, sum(size[n.key] for n in col))
        for col in per_column.values()
    )
    column_step = (width - node_width - label_room) / max(1, columns - 1)
    position: dict[str, tuple[float, float, float]] = {}  # key -> x, y, height
    for column, members in per_column.items():
        y = float(top)
        for node in members:
            h = max(2.0, size[node.key] * scale)
            position[node.key] = (column * column_step, y, h)
            y += h + gap
    height = max(y + h for _, y, h in position.values()) + bottom + 24
    body = []
    out_offset = dict.fromkeys(position, 0.0)
    in_offset = dict.fromkeys(position, 0.0)
    colour = {n.key: PALETTE[i % len(PALETTE)] for i, n in enumerate(nodes)}
    for link in drawable:
        sx, sy, _ = position[link.source]
        tx, ty, _ = position[link.target]
        thickness = max(1.0, _number(link.value) * scale)
        y0 = sy + out_offset[link.source] + thickness / 2
        y1 = ty + in_offset[link.target] + thickness / 2
        out_offset[link.source] += thickness
        in_offset[link.target] += thickness
        x0, x1 = sx + node_width, tx
        middle = (x0 + x1) / 2
        body.append(
            f'<path d="M{x0:.1f},{y0:.1f} C{middle:.1f},{y0:.1f} {middle:.1f},{y1:.1f} '
            f'{x1:.1f},{y1:.1f}" fill="none" stroke="{colour[link.source]}" '
            f'stroke-opacity=".35" stroke-width="{thickness:.1f}">'
            f"<title>{escape(link.source)} → {escape(link.target)}: "
            f"{escape(_label(link.value))}</title></path>"
        )
    for node in nodes:
        x, y, h = position[node.key]
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_width}" height="{h:.1f}" '
            f'fill="{colour[node.key]}"/>'
        )
    halo = {"stroke": "#fff", "stroke_width": "3", "paint_order": "stroke"}
    for node in nodes:
        x, y, h = position[node.key]
        body.append(_text(x + node_width + 3, y + 14, node.label, size=14, **halo))
        body.append(_text(x + node_width + 3, y + 30, _label(int(size[node.key])), size=14, **halo))
    return _svg(width, int(height), title, body, wide=True)


# --- funnel --------------------------------------------------------------------------------


def funnel(steps: Sequence[tuple[str, int | str]], *, title: str) -> SafeString:
    """One bar per step, centred, width proportional to the published count."""
    width, row, label_width = 340, 30, 110
    largest = max((_number(v) for _, v in steps), default=0) or 1
    bar_space = width - label_width - 50
    body = [_text(0, 16, title, size=14, font_weight="600")]
    for index, (label, value) in enumerate(steps):
        y = 26 + index * row
        bar = max(2.0, _number(value) / largest * bar_space)
        x = label_width + (bar_space - bar) / 2
        body.append(_text(label_width - 6, y + 17, label, anchor="end"))
        fill = "#d9dee7" if value == SUPPRESSED else PALETTE[0]
        body.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" rx="3" '
            f'fill="{fill}"/>'
        )
        body.append(_text(label_width + bar_space + 6, y + 17, _label(value)))
    return _svg(width, 26 + len(steps) * row + 6, title, body)


# --- time series ---------------------------------------------------------------------------


def time_series(
    months: Sequence[str], series: Sequence[tuple[str, Sequence[int | str]]], *, title: str
) -> SafeString:
    """Monthly lines; a suppressed month is a gap in its line, marked with a hollow dot."""
    width, height, left, right, top, bottom = 480, 240, 40, 24, 34, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max((_number(v) for _, values in series for v in values), default=0) or 5
    step = plot_w / max(1, len(months) - 1)
    body = []
    for tick in range(5):
        value = largest * tick / 4
        y = top + plot_h - value / largest * plot_h
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee7"/>'
        )
        body.append(_text(left - 4, y + 4, f"{value:,.0f}", size=13, anchor="end"))
    every = max(1, -(-len(months) // 4))
    for index, month in enumerate(months):
        if index % every == 0 or index == len(months) - 1:
            x = left + index * step
            body.append(_text(x, height - bottom + 18, month, size=13, anchor="middle"))
    for number, (name, values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        segments: list[list[tuple[float, float]]] = [[]]
        for index, value in enumerate(values):
            x = left + index * step
            if value == SUPPRESSED:
                segments.append([])
                body.append(
                    f'<circle cx="{x:.1f}" cy="{top + plot_h:.1f}" r="2.5" fill="#fff" '
                    f'stroke="{colour}"><title>{escape(name)} {escape(months[index])}: '
                    f"&lt;5</title></circle>"
                )
                continue
            y = top + plot_h - _number(value) / largest * plot_h
            segments[-1].append((x, y))
        for points in segments:
            if len(points) == 1:
                x, y = points[0]
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
            elif points:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                body.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                )
        legend_x = 4 + number * 150
        body.append(f'<rect x="{legend_x}" y="8" width="12" height="12" fill="{colour}"/>')
        body.append(_text(legend_x + 16, 19, name, size=14))
    return _svg(width, height, title, body)


# --- the flows report as pictures ----------------------------------------------------------

STATUS_COLUMNS = {
    "sent": ("Referred", 0),
    "accepted": ("Accepted", 1),
    "declined": ("Declined", 1),
    "expired": ("Expired", 1),
    "waitlisted": ("Waiting list", 2),
    "engaged": ("Engaged", 3),
    "withdrawn": ("Withdrawn", 3),
    "completed": ("Completed", 4),
    "disengaged": ("Disengaged", 4),
    "forwarded": ("Forwarded", 4),
}


def continuum_sankey(report: dict) -> SafeString:
    """Referred -> each outcome -> the stage people were forwarded to (pathways are in the
    funnels; the picture scrolls in its own frame on a phone)."""
    nodes = [Node(key, label, column) for key, (label, column) in STATUS_COLUMNS.items()]
    nodes += [Node(f"stage:{row['stage']}", row["label"], 5) for row in report["forwarded_to"]]
    links: list[Link] = []
    links += [
        Link(row["from"], row["to"], row["count"])
        for row in report["transitions"]
        if row["from"] in STATUS_COLUMNS
    ]
    links += [
        Link("forwarded", f"stage:{row['stage']}", row["count"]) for row in report["forwarded_to"]
    ]
    return sankey(nodes, links, title="Flows along the continuum of care")


def pathway_funnels(report: dict) -> list[tuple[str, SafeString]]:
    return [
        (
            row["label"],
            funnel(
                [
                    ("Contacts", row["contacts"]),
                    ("Referrals", row["referrals"]),
                    ("Accepted", row["accepted"]),
                    ("Engaged", row["engaged"]),
                    ("Completed", row["completed"]),
                ],
                title=row["label"],
            ),
        )
        for row in report["pathways"]
    ]


def monthly_series(report: dict) -> SafeString:
    months = [m["month"] for m in report["monthly"]]
    return time_series(
        months,
        [
            ("Contacts", [m["contacts"] for m in report["monthly"]]),
            ("Referrals", [m["referrals"] for m in report["monthly"]]),
            ("Treatment entries", [m["treatment_entries"] for m in report["monthly"]]),
        ],
        title="Contacts, referrals and treatment entries per month",
    )
