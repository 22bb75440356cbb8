"""Kitsu's drawings on a frame: fabric.js objects rendered with Pillow.

Kitsu stores a preview's annotations as a list of ``{"time", "frame", "drawing":
{"objects": [...]}}``, each object serialised by fabric.js in the coordinates of the
canvas it was drawn on (``canvasWidth``/``canvasHeight``, which Kitsu adds; when absent
the canvas is taken to be the frame itself). This module draws what Kitsu shows:

- each object is placed as fabric places it: ``left``/``top`` at its origin
  (``originX``/``originY``), rotated by ``angle`` about its centre, scaled by
  ``scaleX``/``scaleY``, then the whole canvas is scaled to the frame's size;
- ``path`` (free-hand strokes: M, L, Q, C, Z commands, curves flattened) and
  ``polyline``/``polygon`` around their ``pathOffset``; ``line``; ``rect``; ``triangle``;
  ``circle`` and ``ellipse``; ``text``/``i-text``/``textbox`` (``text``, ``fontSize``,
  ``lineHeight``, the fill colour; DejaVu Sans when installed, Pillow's own font else);
  ``group`` (its children placed relative to its centre);
- ``stroke`` and ``strokeWidth`` (scaled like the object), ``fill`` (none when null,
  empty or "transparent"), ``opacity``, and colours as ``#rgb``, ``#rrggbb``,
  ``rgb()``/``rgba()`` or CSS names. Strokes end and join round, as Kitsu's brush.

Not rendered: skew, shadows, dash patterns, gradients and images; unknown object types
are skipped. Strokes are drawn without anti-aliasing, so a stroke's pixels carry its
exact colour. Pure and synchronous, like ``processing``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from PIL import Image, ImageColor, ImageDraw, ImageFont

Matrix = tuple[float, float, float, float, float, float]  # a, b, c, d, e, f: x' = a x + c y + e; y' = b x + d y + f
Point = tuple[float, float]

IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_RGBA = re.compile(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)")
_ARGS = {"M": 2, "L": 2, "H": 1, "V": 1, "Q": 4, "T": 2, "C": 6, "S": 4, "Z": 0, "A": 7}


# -- which annotation is which frame --------------------------------------------------------


def frame_index(annotation: dict[str, Any], fps: float) -> int:
    """The 0-based frame an annotation was drawn on, from its time (as Zou matches them)."""
    try:
        time = float(annotation.get("time") or 0)
    except (TypeError, ValueError):
        time = 0.0
    return max(0, round(time * fps))


def objects_of(annotation: dict[str, Any]) -> list[dict[str, Any]]:
    drawing = annotation.get("drawing") if isinstance(annotation, dict) else None
    objects = drawing.get("objects") if isinstance(drawing, dict) else None
    return [o for o in objects or [] if isinstance(o, dict)]


def drawn(annotations: Any) -> list[dict[str, Any]]:
    """The annotations that hold at least one object."""
    return [a for a in annotations or [] if isinstance(a, dict) and objects_of(a)]


# -- geometry ---------------------------------------------------------------------------------


def _mul(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + c * b2, b * a2 + d * b2, a * c2 + c * d2, b * c2 + d * d2, a * e2 + c * f2 + e, b * e2 + d * f2 + f)


def _apply(m: Matrix, p: Point) -> Point:
    a, b, c, d, e, f = m
    return (a * p[0] + c * p[1] + e, b * p[0] + d * p[1] + f)


def _num(obj: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = obj.get(key, default)
    try:
        out = float(value if value is not None else default)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _scale_of(m: Matrix) -> float:
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0


def _object_matrix(obj: dict[str, Any]) -> Matrix:
    """Object space (its centre at 0, 0) to its parent's space, as fabric places it."""
    sx, sy = _num(obj, "scaleX", 1.0), _num(obj, "scaleY", 1.0)
    if obj.get("flipX"):
        sx = -sx
    if obj.get("flipY"):
        sy = -sy
    stroke = _num(obj, "strokeWidth", 1.0) if obj.get("stroke") else 0.0
    box_w = (_num(obj, "width") + stroke) * abs(sx)
    box_h = (_num(obj, "height") + stroke) * abs(sy)
    ox = {"left": 0.0, "center": 0.5, "right": 1.0}.get(str(obj.get("originX") or "left"), 0.0)
    oy = {"top": 0.0, "center": 0.5, "bottom": 1.0}.get(str(obj.get("originY") or "top"), 0.0)
    angle = math.radians(_num(obj, "angle"))
    cos, sin = math.cos(angle), math.sin(angle)
    # the origin point sits at (left, top); the centre is offset from it, rotated with the object
    dx, dy = (0.5 - ox) * box_w, (0.5 - oy) * box_h
    cx = _num(obj, "left") + cos * dx - sin * dy
    cy = _num(obj, "top") + sin * dx + cos * dy
    return _mul((cos, sin, -sin, cos, cx, cy), (sx, 0.0, 0.0, sy, 0.0, 0.0))


def _quad(p0: Point, p1: Point, p2: Point, steps: int = 12) -> list[Point]:
    out = []
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        out.append((u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0], u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1]))
    return out


def _cubic(p0: Point, p1: Point, p2: Point, p3: Point, steps: int = 16) -> list[Point]:
    out = []
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        out.append((
            u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
            u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
        ))
    return out


def _commands(path: Any) -> Iterable[tuple[str, list[float]]]:
    """Fabric keeps a path as ``[["M", x, y], ["Q", x1, y1, x, y], ...]`` (an SVG string is accepted too)."""
    if isinstance(path, str):
        tokens = re.findall(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", path)
        items: list[list[Any]] = []
        for tok in tokens:
            if tok.isalpha():
                items.append([tok])
            elif items:
                items[-1].append(float(tok))
        path = items
    for cmd in path if isinstance(path, list) else []:
        if not isinstance(cmd, list) or not cmd or not isinstance(cmd[0], str):
            continue
        letter = cmd[0]
        try:
            args = [float(v) for v in cmd[1:]]
        except (TypeError, ValueError):
            continue
        n = _ARGS.get(letter.upper())
        if n is None:
            continue
        if n == 0:
            yield letter, []
            continue
        for i in range(0, len(args) - n + 1, n):  # repeated argument groups, as SVG allows
            yield letter, args[i:i + n]


def path_polylines(path: Any) -> list[tuple[list[Point], bool]]:
    """The path's sub-paths flattened to points (absolute coordinates), each with its closedness."""
    out: list[tuple[list[Point], bool]] = []
    current: list[Point] = []
    pos: Point = (0.0, 0.0)
    start: Point = (0.0, 0.0)
    last_ctrl: Point | None = None
    for letter, a in _commands(path):
        rel = letter.islower()
        up = letter.upper()
        ox, oy = pos if rel else (0.0, 0.0)
        ctrl: Point | None = None
        if up == "M":
            if len(current) > 1:
                out.append((current, False))
            pos = (a[0] + ox, a[1] + oy)
            start = pos
            current = [pos]
        elif up == "L":
            pos = (a[0] + ox, a[1] + oy)
            current.append(pos)
        elif up == "H":
            pos = (a[0] + ox, pos[1])
            current.append(pos)
        elif up == "V":
            pos = (pos[0], a[0] + (pos[1] if rel else 0.0))
            current.append(pos)
        elif up in ("Q", "T"):
            if up == "Q":
                ctrl = (a[0] + ox, a[1] + oy)
                end = (a[2] + ox, a[3] + oy)
            else:
                ctrl = (2 * pos[0] - last_ctrl[0], 2 * pos[1] - last_ctrl[1]) if last_ctrl else pos
                end = (a[0] + ox, a[1] + oy)
            current.extend(_quad(pos, ctrl, end))
            pos = end
        elif up in ("C", "S"):
            if up == "C":
                c1, ctrl, end = (a[0] + ox, a[1] + oy), (a[2] + ox, a[3] + oy), (a[4] + ox, a[5] + oy)
            else:
                c1 = (2 * pos[0] - last_ctrl[0], 2 * pos[1] - last_ctrl[1]) if last_ctrl else pos
                ctrl, end = (a[0] + ox, a[1] + oy), (a[2] + ox, a[3] + oy)
            current.extend(_cubic(pos, c1, ctrl, end))
            pos = end
        elif up == "A":  # arcs: drawn as a straight segment to their end point
            pos = (a[5] + ox, a[6] + oy)
            current.append(pos)
        elif up == "Z":
            if len(current) > 1:
                out.append((current, True))
            pos = start
            current = [pos]
        if not current:
            current = [pos]
        last_ctrl = ctrl
    if len(current) > 1:
        out.append((current, False))
    elif len(current) == 1 and not out:
        out.append((current, False))  # a dot
    return out


def _ellipse_points(rx: float, ry: float, steps: int = 96) -> list[Point]:
    return [(rx * math.cos(2 * math.pi * i / steps), ry * math.sin(2 * math.pi * i / steps)) for i in range(steps)]


def _bbox_center(points: Sequence[Point]) -> Point:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)


# -- colours ----------------------------------------------------------------------------------


def parse_color(value: Any, opacity: float = 1.0) -> tuple[int, int, int, int] | None:
    """An RGBA tuple, or None for no paint (null, empty, "transparent", unreadable)."""
    if not isinstance(value, str) or not value.strip() or value.strip().lower() in ("transparent", "none"):
        return None
    text = value.strip().lower()
    alpha = 1.0
    m = _RGBA.fullmatch(text)
    try:
        if m:
            rgb = tuple(max(0, min(255, round(float(v)))) for v in m.groups()[:3])
            alpha = float(m.group(4)) if m.group(4) is not None else 1.0
        else:
            color = ImageColor.getrgb(text)
            rgb = tuple(color[:3])
            if len(color) == 4:
                alpha = color[3] / 255
    except ValueError:
        return None
    a = round(255 * max(0.0, min(1.0, alpha * opacity)))
    return (int(rgb[0]), int(rgb[1]), int(rgb[2]), a) if a else None


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "LiberationSans-Regular.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


# -- drawing ----------------------------------------------------------------------------------


class _Painter:
    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size

    def layer(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        im = Image.new("RGBA", self.size, (0, 0, 0, 0))
        return im, ImageDraw.Draw(im)

    @staticmethod
    def stroke(draw: ImageDraw.ImageDraw, points: list[Point], color: tuple[int, int, int, int], width: float,
               closed: bool) -> None:
        w = max(1, round(width))
        pts = [(round(x, 2), round(y, 2)) for x, y in points]
        if closed and len(pts) > 2:
            pts = [*pts, pts[0], pts[1]]
        if len(pts) == 1 or all(p == pts[0] for p in pts):
            r = w / 2
            x, y = pts[0]
            draw.ellipse([x - r, y - r, x + r, y + r], fill=color)
            return
        draw.line(pts, fill=color, width=w, joint="curve")
        if not closed and w > 2:  # round caps, as Kitsu's brush
            r = w / 2
            for x, y in (pts[0], pts[-1]):
                draw.ellipse([x - r, y - r, x + r, y + r], fill=color)


def _shape(obj: dict[str, Any], kind: str) -> list[tuple[list[Point], bool]]:
    """The object's outline(s) in its own space (centre at 0, 0)."""
    w, h = _num(obj, "width"), _num(obj, "height")
    if kind == "path":
        lines = path_polylines(obj.get("path"))
        if not lines:
            return []
        offset = obj.get("pathOffset")
        if isinstance(offset, dict) and "x" in offset:
            cx, cy = _num(offset, "x"), _num(offset, "y")
        else:
            cx, cy = _bbox_center([p for line, _ in lines for p in line])
        return [([(x - cx, y - cy) for x, y in line], closed) for line, closed in lines]
    if kind in ("polyline", "polygon"):
        raw = obj.get("points") or []
        pts = [(_num(p, "x"), _num(p, "y")) for p in raw if isinstance(p, dict)]
        if not pts:
            return []
        offset = obj.get("pathOffset")
        cx, cy = (_num(offset, "x"), _num(offset, "y")) if isinstance(offset, dict) else _bbox_center(pts)
        return [([(x - cx, y - cy) for x, y in pts], kind == "polygon")]
    if kind == "rect":
        return [([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)], True)]
    if kind == "triangle":
        return [([(0.0, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)], True)]
    if kind == "circle":
        r = _num(obj, "radius", w / 2)
        return [(_ellipse_points(r, r), True)]
    if kind == "ellipse":
        return [(_ellipse_points(_num(obj, "rx", w / 2), _num(obj, "ry", h / 2)), True)]
    if kind == "line":
        x1, y1, x2, y2 = (_num(obj, k) for k in ("x1", "y1", "x2", "y2"))
        sx = -1 if x1 <= x2 else 1
        sy = -1 if y1 <= y2 else 1
        return [([(sx * w / 2, sy * h / 2), (-sx * w / 2, -sy * h / 2)], False)]
    return []


def _draw_object(base: Image.Image, painter: _Painter, obj: dict[str, Any], parent: Matrix, opacity: float) -> Image.Image:
    kind = str(obj.get("type") or "").lower()
    if obj.get("visible") is False:
        return base
    matrix = _mul(parent, _object_matrix(obj))
    alpha = opacity * max(0.0, min(1.0, _num(obj, "opacity", 1.0)))
    if kind in ("group", "activeselection"):
        for child in obj.get("objects") or []:
            if isinstance(child, dict):
                base = _draw_object(base, painter, child, matrix, alpha)
        return base
    if kind in ("text", "i-text", "itext", "textbox"):
        return _draw_text(base, obj, matrix, alpha)
    outlines = _shape(obj, kind)
    if not outlines:
        return base
    stroke = parse_color(obj.get("stroke"), alpha)
    fill = parse_color(obj.get("fill"), alpha) if kind != "line" else None
    if kind in ("path", "polyline"):
        fill = None  # a free-hand stroke's fill would close it; Kitsu's brush strokes are never filled
    layer, draw = painter.layer()
    placed = [([_apply(matrix, p) for p in pts], closed) for pts, closed in outlines]
    if fill is not None:
        for pts, _closed in placed:
            if len(pts) > 2:
                draw.polygon([(round(x, 2), round(y, 2)) for x, y in pts], fill=fill)
    if stroke is not None:
        width = _num(obj, "strokeWidth", 1.0) * _scale_of(matrix)
        for pts, closed in placed:
            painter.stroke(draw, pts, stroke, width, closed)
    return Image.alpha_composite(base, layer)


def _draw_text(base: Image.Image, obj: dict[str, Any], matrix: Matrix, alpha: float) -> Image.Image:
    text = str(obj.get("text") or "")
    color = parse_color(obj.get("fill") or "#000000", alpha)
    if not text.strip() or color is None:
        return base
    scale = _scale_of(matrix)
    font_size = _num(obj, "fontSize", 40.0)
    px = max(1, round(font_size * scale))
    font = _font(px)
    line_h = font_size * _num(obj, "lineHeight", 1.16) * scale
    lines = text.split("\n")
    w = max(round(_num(obj, "width") * scale), max(round(font.getlength(line)) for line in lines) + 2, 1)
    h = max(round(_num(obj, "height") * scale), round(line_h * len(lines)) + 2, 1)
    tile = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    align = str(obj.get("textAlign") or "left")
    for i, line in enumerate(lines):
        lw = font.getlength(line)
        x = {"center": (w - lw) / 2, "right": w - lw}.get(align, 0.0)
        draw.text((x, i * line_h), line, font=font, fill=color)
    angle = math.degrees(math.atan2(matrix[1], matrix[0]))
    if abs(angle) > 0.01:
        tile = tile.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
    cx, cy = _apply(matrix, (0.0, 0.0))
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    layer.paste(tile, (round(cx - tile.width / 2), round(cy - tile.height / 2)))
    return Image.alpha_composite(base, layer)


def render(image: Image.Image, objects: Sequence[dict[str, Any]]) -> Image.Image:
    """The frame with the objects drawn on it (RGB), scaled from Kitsu's canvas to the frame."""
    base = image.convert("RGBA")
    painter = _Painter(base.size)
    for obj in objects:
        canvas_w = _num(obj, "canvasWidth") or base.width
        canvas_h = _num(obj, "canvasHeight") or base.height
        to_frame: Matrix = (base.width / canvas_w, 0.0, 0.0, base.height / canvas_h, 0.0, 0.0)
        base = _draw_object(base, painter, obj, to_frame, 1.0)
    return base.convert("RGB")
