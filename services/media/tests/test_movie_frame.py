"""The first frame of a movie, which the worker's Pillow turns into the stored PNGs,
comes out of the normalising ffmpeg run with the same pixels (alpha included) as a PNG
of that frame made by ffmpeg alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from slate_media.adapters import processing


def make_movie(path: Path, *, alpha: bool) -> Path:
    ff = processing.ffmpeg_binary()
    graph = "testsrc2=size=320x240:rate=25:duration=1"
    codec = ["-c:v", "png", "-pix_fmt", "rgba"] if alpha else ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    if alpha:
        graph += ",format=rgba,colorchannelmixer=aa=0.5"
    subprocess.run([ff, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", graph, *codec, str(path)],
                   check=True)
    return path


@pytest.mark.parametrize("alpha", [False, True])
def test_first_frame_keeps_its_pixels(tmp_path: Path, alpha: bool) -> None:
    src = make_movie(tmp_path / "in.mov", alpha=alpha)
    ff = processing.ffmpeg_binary()
    info = processing.probe(ff, src)
    work = tmp_path / "work"
    work.mkdir()
    out = processing.movie_outputs(work)
    processing.run_ffmpeg(processing.normalize_command(
        ff, src, out, info, fps=25.0, resolution=(1920, 1080), hd_preset="veryfast", hd_crf=23,
        ld_preset="veryfast", ld_crf=28, ld_height=120, threads=1,
    ))
    reference = tmp_path / "reference.png"
    subprocess.run([ff, "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-vframes", "1", str(reference)],
                   check=True)
    derived = processing.picture_derivatives(out.frame, work)
    with Image.open(derived["original"]) as got, Image.open(reference) as want:  # type: ignore[arg-type]
        assert got.size == want.size == (320, 240)
        assert got.mode == ("RGBA" if alpha else "RGB")
        assert got.convert("RGBA").tobytes() == want.convert("RGBA").tobytes()
        if alpha:
            assert got.getpixel((10, 10))[3] == 128
    assert derived["size"] == (320, 240)
