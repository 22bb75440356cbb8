"""Hostile uploads, generated (nothing binary of any size lives in the repo).

Each :class:`Hostile` is one file to send: its name, its bytes, the route family it is
meant for (``preview`` or ``avatar``) and a ``kind`` to group answers by. The movies are
cut from a real short clip made here with ffmpeg (``testsrc`` + a sine); the pictures are
built byte by byte (a PNG or JPEG header may declare any size without the pixels).

``python tests/chaos/hostile_files.py DIR`` writes one file of each kind into DIR.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class Hostile:
    kind: str
    filename: str
    content: bytes
    target: str = "preview"  # "preview" (POST /pictures/preview-files/{id}) or "avatar"


def _ffmpeg() -> str:
    import shutil

    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def clip(fmt: str = "mp4") -> bytes:
    """A real 2-second 160x120 clip with sound (H.264/AAC in MP4 or MOV), about 30 KB."""
    with tempfile.TemporaryDirectory(prefix="slate-hostile-") as tmp:
        out = Path(tmp) / f"clip.{fmt}"
        subprocess.run(  # noqa: S603
            [_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2",
             "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
             *(["-movflags", "+faststart"] if fmt == "mp4" else []), str(out)],
            check=True, capture_output=True, timeout=120,
        )
        return out.read_bytes()


def good_png(size: tuple[int, int] = (64, 36), seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 200)).save(out, "PNG")
    return out.getvalue()


def good_jpeg(size: tuple[int, int] = (16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header(width: int, height: int, idat: bytes = b"", *, color: int = 2) -> bytes:
    """A PNG declaring ``width`` x ``height`` (8-bit, RGB by default) with the given IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@functools.cache
def png_bomb(side: int = 16_000) -> bytes:
    """A decompression bomb: a ``side`` x ``side`` greyscale PNG of zeros, whole and valid,
    about 250 KB on the wire and ``side``² bytes (256 MB at 16,000) once decoded, under
    Pillow's own bomb limit (a decoder that trusts it pays the full size)."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + one byte per pixel
    parts = []
    rows_per_feed = max(1, (4 * 1024 * 1024) // len(row))
    block = row * rows_per_feed
    left = side
    while left > 0:
        n = min(rows_per_feed, left)
        parts.append(comp.compress(block if n == rows_per_feed else row * n))
        left -= n
    parts.append(comp.flush())
    return png_header(side, side, b"".join(parts), color=0)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to declare another size."""
    data = bytearray(good_jpeg())
    at = data.find(b"\xff\xc0")
    if at < 0:  # pragma: no cover - Pillow writes baseline JPEGs
        raise RuntimeError("no SOF0 marker")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def y4m_declaring(width: int, height: int) -> bytes:
    """A raw-video stream whose header declares a frame of ``width`` x ``height`` (a few
    bytes of frame follow): a decoder that trusts it allocates gigabytes per frame."""
    return f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n" + b"\x80" * 4096


def corrupt_header(movie: bytes, seed: int = 0) -> bytes:
    """The clip with its first 256 bytes (the container's header) overwritten."""
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(256)) + movie[256:]


def stalled_body_head(boundary: str, filename: str = "stalled.mp4") -> bytes:
    """The start of a multipart body whose file never finishes arriving."""
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode() + clip()[:2048]


def catalogue(seed: int = 0) -> dict[str, Callable[[int], Hostile]]:
    """Every kind of hostile upload, as a function of a sequence number (varies the bytes
    where it matters). The stalled and oversized uploads are sent differently (see
    ``hostile_uploads.py``): they are not listed here."""
    mp4 = clip("mp4")
    mov = clip("mov")

    def trunc(data: bytes, frac: float, ext: str) -> Callable[[int], Hostile]:
        return lambda n: Hostile(f"truncated_{ext}_{int(frac * 100)}", f"cut{n}.{ext}", data[: max(1, int(len(data) * frac))])

    kinds: dict[str, Callable[[int], Hostile]] = {
        "truncated_mp4_10": trunc(mp4, 0.10, "mp4"),
        "truncated_mp4_50": trunc(mp4, 0.50, "mp4"),
        "truncated_mp4_90": trunc(mp4, 0.90, "mp4"),
        "truncated_mov_50": trunc(mov, 0.50, "mov"),
        "corrupt_header_mp4": lambda n: Hostile("corrupt_header_mp4", f"corrupt{n}.mp4", corrupt_header(mp4, seed + n)),
        "png_bomb": lambda n: Hostile("png_bomb", f"bomb{n}.png", png_bomb()),
        "png_60000": lambda n: Hostile("png_60000", f"huge{n}.png", png_header(60_000, 60_000, zlib.compress(b"\x00" * 1024))),
        "jpeg_60000": lambda n: Hostile("jpeg_60000", f"huge{n}.jpg", jpeg_declaring(60_000, 60_000)),
        "movie_frame_60000": lambda n: Hostile("movie_frame_60000", f"huge{n}.mov", y4m_declaring(60_000, 60_000)),
        "png_named_mp4": lambda n: Hostile("png_named_mp4", f"still{n}.mp4", good_png(seed=n)),
        "movie_named_png": lambda n: Hostile("movie_named_png", f"clip{n}.png", mp4),
        "text_named_png": lambda n: Hostile("text_named_png", f"notes{n}.png", b"this is not a picture\n" * 8),
        "empty_png": lambda n: Hostile("empty_png", f"empty{n}.png", b""),
        "empty_mp4": lambda n: Hostile("empty_mp4", f"empty{n}.mp4", b""),
        "random_mp4": lambda n: Hostile("random_mp4", f"noise{n}.mp4", random.Random(seed + n).randbytes(64 * 1024)),
        "random_png": lambda n: Hostile("random_png", f"noise{n}.png", random.Random(seed + n).randbytes(8 * 1024)),
        "name_traversal": lambda n: Hostile("name_traversal", f"../../x{n}.png", good_png(seed=n)),
        "name_long": lambda n: Hostile("name_long", "a" * 1000 + f"{n}.png", good_png(seed=n)),
        "name_unicode": lambda n: Hostile("name_unicode", f"épreuve-帧-🎬-{n}.png", good_png(seed=n)),
        "name_nul": lambda n: Hostile("name_nul", f"x{n}\x00.png", good_png(seed=n)),
        "avatar_png_bomb": lambda n: Hostile("avatar_png_bomb", f"bomb{n}.png", png_bomb(), "avatar"),
        "avatar_png_60000": lambda n: Hostile("avatar_png_60000", f"huge{n}.png",
                                              png_header(60_000, 60_000, zlib.compress(b"\x00" * 1024)), "avatar"),
        "avatar_movie_named_png": lambda n: Hostile("avatar_movie_named_png", f"clip{n}.png", mp4, "avatar"),
        "avatar_empty": lambda n: Hostile("avatar_empty", f"empty{n}.png", b"", "avatar"),
    }
    return kinds


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    out.mkdir(parents=True, exist_ok=True)
    for name, make in catalogue().items():
        h = make(0)
        safe = f"{name}{Path(h.filename.replace(chr(0), '')).suffix or '.bin'}"
        (out / safe).write_bytes(h.content)
        print(f"{safe:32} {len(h.content):>10} bytes  sent as {h.filename[:40]!r} ({h.target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
