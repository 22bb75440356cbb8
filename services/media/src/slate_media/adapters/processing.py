"""What a worker does to an upload: probe and normalise movies with ffmpeg (command
lines built with ffmpeg-python), and make the picture derivatives with Pillow.

Pure and synchronous: these functions take paths and return facts; the job runner
moves bytes to and from storage and records the result.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg
from PIL import Image, ImageOps, UnidentifiedImageError

PICTURE_EXTENSIONS = frozenset({"png", "jpg", "jpeg"})
MOVIE_EXTENSIONS = frozenset({"mp4", "mov", "avi", "webm", "mkv", "m4v", "wmv", "mpg", "mpeg", "mxf", "flv", "ogv"})
FILE_EXTENSIONS = frozenset({
    "pdf", "glb", "gltf", "gif", "obj", "fbx", "abc", "usd", "usda", "usdc", "usdz", "blend", "ma", "mb",
    "hip", "psd", "exr", "tif", "tiff", "svg", "zip", "rar", "7z", "ai", "swf", "sbsar", "spp", "kra", "tga",
    "webp", "bmp", "wav", "mp3", "ogg", "flac", "txt", "json", "xml", "csv", "doc", "docx", "xls", "xlsx",
    "ppt", "pptx", "odt", "ods", "c4d", "max", "nk", "aep", "prproj", "clip", "heic",
})

PREVIEW_WIDTH = 1200
THUMBNAIL_SIZE = (150, 100)
SQUARE_SIZE = (100, 100)
AVATAR_SIZE = (400, 400)
TILE_HEIGHT = 100
TILE_COLUMNS = 8
MAX_TILES = 240

#: Largest picture decoded, in pixels (width x height, checked from the header before any
#: pixel is decoded): Pillow's own decompression-bomb threshold (about 89.5 megapixels; a
#: 12K x 7K still is fine). Decoded as RGBA it is ~360 MB; the derivatives are resized from it.
MAX_PICTURE_PIXELS = 89_478_485
#: Largest movie frame transcoded (8K DCI, 8192 x 4320, fits) and longest movie, from the probe.
MAX_MOVIE_PIXELS = 40_000_000
MAX_MOVIE_SECONDS = 4 * 3600.0
#: Address space an ffmpeg run may use for its data (RLIMIT_DATA), and its longest run.
FFMPEG_MEMORY_BYTES = 4 * 1024**3
FFMPEG_TIMEOUT_SECONDS = 4 * 3600.0
#: Pillow's own guard stays as a backstop behind the explicit checks; its warning (between
#: once and twice its limit) is noise next to them.
Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class MediaError(Exception):
    """The file cannot be processed (its content is at fault, not the system)."""


def kind_of(extension: str) -> str | None:
    ext = extension.lower()
    if ext in PICTURE_EXTENSIONS:
        return "picture"
    if ext in MOVIE_EXTENSIONS:
        return "movie"
    if ext in FILE_EXTENSIONS:
        return "file"
    return None


def ffmpeg_binary(configured: str = "") -> str:
    if configured:
        return configured
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


# -- pictures ---------------------------------------------------------------------------


_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def picture_too_large(max_pixels: int) -> MediaError:
    return MediaError(f"The picture is too large: the limit is {max_pixels} pixels.")


def _check_size(im: Image.Image, max_pixels: int) -> None:
    if im.size[0] * im.size[1] > max_pixels:
        raise picture_too_large(max_pixels)


def _open_header(path: Path, max_pixels: int) -> Image.Image:
    """The picture with its header read and no pixel decoded; its size is checked by the
    callers against ``max_pixels``. Pillow's own bomb check (an error at twice its limit)
    stays behind as a backstop, raised along with a larger configured limit."""
    if max_pixels > (Image.MAX_IMAGE_PIXELS or 0):
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        raise picture_too_large(max_pixels) from None
    except _UNREADABLE as exc:
        raise MediaError("Uploaded file is not a readable picture.") from exc


def check_picture(path: Path, *, max_pixels: int = MAX_PICTURE_PIXELS) -> tuple[int, int]:
    """Width and height of a readable picture within ``max_pixels``, else MediaError."""
    with _open_header(path, max_pixels) as im:
        _check_size(im, max_pixels)
        size = im.size
        try:
            im.verify()
        except _UNREADABLE as exc:
            raise MediaError("Uploaded file is not a readable picture.") from exc
    return size


def load_picture(path: Path, *, max_pixels: int = MAX_PICTURE_PIXELS) -> Image.Image:
    """The picture decoded as RGB(A), upright, refused before decoding when over ``max_pixels``."""
    with _open_header(path, max_pixels) as opened:
        _check_size(opened, max_pixels)
        try:
            opened.load()
            return _rgb(ImageOps.exif_transpose(opened))
        except _UNREADABLE as exc:
            raise MediaError("Uploaded file is not a readable picture.") from exc


def _rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGB", "RGBA"):
        return im
    if im.mode in ("LA", "P", "PA") or "transparency" in im.info:
        return im.convert("RGBA")
    return im.convert("RGB")


def picture_derivatives(
    src: Path, out_dir: Path, *, original: bool = True, on_saved: Callable[[str, Path], None] | None = None,
    max_pixels: int = MAX_PICTURE_PIXELS,
) -> dict[str, Path | tuple[int, int]]:
    """Original as PNG, mid-size preview, thumbnail and square thumbnail; returns paths and
    size. ``on_saved(name, path)`` is called as each file is written (to store it meanwhile)."""
    saved = on_saved or (lambda name, path: None)
    im = load_picture(src, max_pixels=max_pixels)
    out: dict[str, Path | tuple[int, int]] = {"size": im.size}

    def save(name: str, picture: Image.Image, **options: Any) -> None:
        path = out_dir / f"{name}.png"
        picture.save(path, "PNG", **options)
        out[name] = path
        saved(name, path)

    if original:
        save("original", im, compress_level=1)
    # resized straight from the decoded picture (no full-size copy: the largest allowed
    # picture is hundreds of MB decoded)
    preview = im
    if im.width > PREVIEW_WIDTH:
        preview = im.resize((PREVIEW_WIDTH, max(1, round(PREVIEW_WIDTH * im.height / im.width))),
                            Image.Resampling.LANCZOS, reducing_gap=2.0)
    save("preview", preview, compress_level=3)
    save("thumbnail", ImageOps.fit(im, THUMBNAIL_SIZE, Image.Resampling.LANCZOS))
    save("square", ImageOps.fit(im, SQUARE_SIZE, Image.Resampling.LANCZOS))
    return out


def avatar(src: Path, dest: Path, *, max_pixels: int = MAX_PICTURE_PIXELS) -> None:
    """A person/project/organisation thumbnail: the picture cropped to a square."""
    im = load_picture(src, max_pixels=max_pixels)
    ImageOps.fit(im, AVATAR_SIZE, Image.Resampling.LANCZOS).save(dest, "PNG")


# -- movies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    width: int
    height: int
    duration: float
    fps: float
    has_audio: bool


_DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (.*)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r"(\d+(?:\.\d+)?) (?:fps|tbr)")


def _limited(argv: list[str], memory_bytes: int | None) -> list[str]:
    """``argv`` run with its data segment (heap and anonymous mappings, RLIMIT_DATA) within
    ``memory_bytes``: a bigger allocation fails in ffmpeg, which exits with an error instead
    of taking the machine's memory. Set by ``sh -c 'ulimit -d'`` before the exec (no Python
    runs between fork and exec: the worker has threads)."""
    if not memory_bytes:
        return argv
    return ["/bin/sh", "-c", f'ulimit -d {max(1, memory_bytes // 1024)} && exec "$0" "$@"', *argv]


def _run(argv: list[str], *, timeout: float | None, memory_bytes: int | None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603
            _limited(argv, memory_bytes), capture_output=True, text=True, errors="replace", check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:  # the child is killed by subprocess.run
        raise MediaError(f"Movie processing took longer than {timeout:g} seconds; stopped.") from exc


def _without_paths(line: str, args: list[str]) -> str:
    """ffmpeg's line of error without the scratch paths it names (a reason clients read)."""
    for arg in sorted((a for a in args if "/" in a), key=len, reverse=True):
        line = line.replace(f"{arg}: ", "").replace(arg, Path(arg).name)
    return line


def probe(ffmpeg_bin: str, path: Path, *, timeout: float = 120.0, memory_bytes: int | None = FFMPEG_MEMORY_BYTES) -> Probe:
    """Read a movie's size, duration and rate from ``ffmpeg -i`` (the wheel ships no ffprobe)."""
    res = _run([ffmpeg_bin, "-hide_banner", "-nostdin", "-i", str(path)], timeout=timeout, memory_bytes=memory_bytes)
    err = res.stderr
    video = _VIDEO.search(err)
    size = _SIZE.search(video.group(1)) if video else None
    if not video or not size:
        lines = [ln.strip() for ln in err.splitlines() if ln.strip() and "At least one output" not in ln]
        raise MediaError("Uploaded file is not a readable movie: "
                         + (_without_paths(lines[-1], [str(path)]) if lines else "no video stream"))
    duration = 0.0
    d = _DURATION.search(err)
    if d:
        duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
    fps_match = _FPS.search(video.group(1))
    fps = float(fps_match.group(1)) if fps_match else 25.0
    return Probe(int(size.group(1)), int(size.group(2)), duration, fps, "Audio:" in err)


def check_movie(info: Probe, *, max_pixels: int = MAX_MOVIE_PIXELS, max_seconds: float = MAX_MOVIE_SECONDS) -> None:
    """Refuse, from the probe and before any transcoding, a frame or a length beyond the limits."""
    if info.width * info.height > max_pixels:
        raise MediaError(f"The movie's frames are too large: {info.width} x {info.height} pixels, "
                         f"the limit is {max_pixels} pixels.")
    if info.duration > max_seconds:
        raise MediaError(f"The movie is too long: {info.duration:g} seconds, the limit is {max_seconds:g} seconds.")


def parse_fps(value: object, default: float = 25.0) -> float:
    try:
        fps = float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError):
        return default
    return fps if 1 <= fps <= 240 else default


def parse_resolution(value: object, default: tuple[int, int] = (1920, 1080)) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{2,5})\s*x\s*(\d{2,5})\s*", str(value or ""))
    return (int(m.group(1)), int(m.group(2))) if m else default


@dataclass(frozen=True)
class MovieOutputs:
    hd: Path
    ld: Path
    frame: Path
    tiles: Path


def movie_outputs(out_dir: Path) -> MovieOutputs:
    # The first frame is only read back by Pillow (which makes the stored PNGs from it): as
    # an uncompressed TGA (alpha kept, same pixels) it costs neither ffmpeg a PNG encode nor
    # Pillow a PNG decode.
    return MovieOutputs(out_dir / "movie.mp4", out_dir / "low.mp4", out_dir / "frame.tga", out_dir / "tiles.png")


def normalize_command(
    ffmpeg_bin: str,
    src: Path,
    out: MovieOutputs,
    info: Probe,
    *,
    fps: float,
    resolution: tuple[int, int],
    hd_preset: str,
    hd_crf: int,
    ld_preset: str,
    ld_crf: int,
    ld_height: int,
    hd_bitrate_mbps: int | None = None,
    ld_bitrate_mbps: int | None = None,
    threads: int = 0,
) -> list[str]:
    """One ffmpeg run, one decode: H.264/AAC MP4 at the project's rate within its
    resolution, a low-definition MP4, the first frame, and the tile sheet. ``threads``
    (0: ffmpeg's choice) bounds the decoder, the filter graph and both encoders."""
    max_w, max_h = resolution
    inp = ffmpeg.input(str(src), **({"threads": threads} if threads else {}))
    video = inp.video.split()
    hd = video[0].filter("scale", f"min(iw,{max_w})", f"min(ih,{max_h})",
                         force_original_aspect_ratio="decrease", force_divisible_by=2)
    ld = video[1].filter("scale", -2, f"min(ih,{ld_height})")
    nb_tiles = max(1, min(MAX_TILES, int(info.duration * fps) or 1))
    tile_rate = nb_tiles / info.duration if info.duration > 0 else fps
    rows = max(1, -(-nb_tiles // TILE_COLUMNS))
    tiles = (
        video[3].filter("fps", f"{tile_rate:.6f}").filter("scale", -2, TILE_HEIGHT)
        .filter("tile", f"{TILE_COLUMNS}x{rows}")
    )
    common = {"vcodec": "libx264", "pix_fmt": "yuv420p", "r": f"{fps:g}", "movflags": "+faststart",
              "profile:v": "high", "threads": threads}
    audio = {"acodec": "aac", "b:a": "128k", "ac": 2, "ar": 48000} if info.has_audio else {}
    hd_rate = {"b:v": f"{hd_bitrate_mbps}M"} if hd_bitrate_mbps else {"crf": hd_crf}
    ld_rate = {"b:v": f"{ld_bitrate_mbps}M"} if ld_bitrate_mbps else {"crf": ld_crf}
    streams_hd = [hd, inp.audio] if info.has_audio else [hd]
    streams_ld = [ld, inp.audio] if info.has_audio else [ld]
    outputs = [
        ffmpeg.output(*streams_hd, str(out.hd), preset=hd_preset, **common, **hd_rate, **audio),
        ffmpeg.output(*streams_ld, str(out.ld), preset=ld_preset, **common, **ld_rate, **audio),
        ffmpeg.output(video[2], str(out.frame), vframes=1, format="image2", update=1,
                      **({"rle": 0} if out.frame.suffix == ".tga" else {})),
        ffmpeg.output(tiles, str(out.tiles), vframes=1, format="image2", update=1),
    ]
    extra = ("-filter_complex_threads", str(threads)) if threads else ()
    return _globals_first(ffmpeg.merge_outputs(*outputs).compile(cmd=ffmpeg_bin), extra)


GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")


def _globals_first(argv: list[str], extra: tuple[str, ...] = ()) -> list[str]:
    """ffmpeg-python appends global options last; ffmpeg wants them before the inputs."""
    return [argv[0], *GLOBAL_ARGS, *extra, *argv[1:]]


def run_ffmpeg(argv: list[str], *, timeout: float | None = None, memory_bytes: int | None = FFMPEG_MEMORY_BYTES) -> None:
    """Run ffmpeg within ``timeout`` seconds and ``memory_bytes`` of data; MediaError with
    ffmpeg's last line of error when it fails, or when it is stopped for taking too long."""
    res = _run(argv, timeout=timeout, memory_bytes=memory_bytes)
    if res.returncode != 0:
        lines = [ln.strip() for ln in res.stderr.splitlines() if ln.strip()]
        raise MediaError("Movie normalisation failed: "
                         + (_without_paths(lines[-1], argv[1:]) if lines else f"ffmpeg exit {res.returncode}"))


def extract_frame_command(ffmpeg_bin: str, src: str, dest: Path, seconds: float) -> list[str]:
    stream = ffmpeg.input(src, ss=f"{max(seconds, 0):.3f}").output(str(dest), vframes=1, format="image2", update=1)
    return _globals_first(stream.compile(cmd=ffmpeg_bin))
