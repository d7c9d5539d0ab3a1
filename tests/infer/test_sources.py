"""open_source decides what a source is; bad sources give one clear error."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from fingerspell.errors import CorruptImageError, SourceError
from fingerspell.infer.sources import open_source

from .clips import Segment, write_clip


@pytest.fixture()
def photos(datasets_root, tmp_path):
    """A small folder tree of real Massey photos: a/ (3) and b/ (2), plus a corrupt file."""
    root = tmp_path / "photos"
    for letter, count in (("a", 3), ("b", 2)):
        (root / letter).mkdir(parents=True)
        for path in sorted((datasets_root / "massey" / "asl_dataset" / letter).iterdir())[:count]:
            shutil.copy(path, root / letter / path.name)
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


def test_image_folder_glob_array(photos):
    one = sorted((photos / "a").iterdir())[0]
    image = open_source(str(one))
    assert image.kind == "image" and len(image) == 1 and not image.is_stream
    frame = next(iter(image))
    assert frame.image.shape == (400, 400, 3) and frame.source == str(one) and frame.timestamp is None

    folder = open_source(photos)
    assert folder.kind == "folder" and len(folder) == 6
    frames = list(folder)
    assert [f.index for f in frames] == list(range(6))
    bad = [f for f in frames if f.error]
    assert len(bad) == 1 and "broken.jpg" in bad[0].error and bad[0].image is None

    matched = open_source(str(photos / "a" / "*.jpeg"))
    assert matched.kind == "glob" and len(matched) == 3

    array = open_source(np.zeros((48, 64), np.uint8))
    assert next(iter(array)).image.shape == (48, 64, 3)


def test_limit_spreads_over_class_folders(photos):
    limited = open_source(photos, limit=2)
    assert {p.parent.name for p in limited.paths} == {"a", "b"}


def test_video_frames_have_indices_and_timestamps(tmp_path, photos):
    clip = tmp_path / "clip.avi"
    write_clip(clip, [Segment("A", np.zeros((100, 100, 3), np.uint8), 12)])
    video = open_source(str(clip))
    assert video.kind == "video" and video.is_stream and len(video) == 12 and video.fps == pytest.approx(30)
    frames = list(video)
    assert len(frames) == 12
    assert frames[3].timestamp == pytest.approx(3 / 30) and frames[3].image.shape == (480, 640, 3)


@pytest.mark.parametrize("spec, message", [
    ("no/such/photo.jpg", "no such file or folder"),
    ("no/such/*.jpg", "glob matches no images"),
    ("98", "camera 98: no camera found"),
    (98, "camera 98: no camera found"),
])
def test_missing_sources(spec, message):
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_unreadable_video_and_image(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(SourceError, match="clip.mp4: cannot open video"):
        open_source(str(tmp_path / "clip.mp4"))
    (tmp_path / "photo.jpg").write_bytes(b"garbage")
    with pytest.raises(CorruptImageError, match="photo.jpg: cannot decode image"):
        list(open_source(str(tmp_path / "photo.jpg")))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceError, match="not an image or video file"):
        open_source(str(tmp_path / "notes.txt"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="folder has no images"):
        open_source(str(tmp_path / "empty"))
