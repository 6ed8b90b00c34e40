"""Decoding and verifying imported task images, and writing their files: plain Python and Pillow, no Django.

The task importer (services/importing.py) runs `check_images` in worker processes started by the forkserver
method, which import only this module: nothing here may import Django or the app's models. The rules
(base64, PNG or JPEG only, at most 5 MB and 4096×4096 pixels, a file Pillow verifies) are the import's rules;
a refusal is an ImageProblem whose message the importer reports on the row's line.
"""

from __future__ import annotations

import base64
import binascii
import io
import os

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg"}
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"))


class ImageProblem(ValueError):
    """Why an imported image is refused, in words for the client."""


def decode_image(encoded) -> tuple[bytes, str]:
    """The bytes and file extension of a base64 (or data: URL) PNG or JPEG; ImageProblem if it is not one."""
    if not isinstance(encoded, str):
        raise ImageProblem("'data.image' must be a base64 string.")
    if encoded.startswith("data:"):
        encoded = encoded.partition(",")[2]
    if len(encoded) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ImageProblem(f"The image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImageProblem("'data.image' is not valid base64.") from None
    # Try only the plugin the signature names (Pillow otherwise tries its openers one by one); anything else is
    # opened in full so the refusal can name its format ("not GIF").
    formats = next(((name,) for signature, name in _SIGNATURES if raw.startswith(signature)), None)
    try:
        with Image.open(io.BytesIO(raw), formats=formats) as image:
            image_format = image.format
            if image_format not in IMAGE_FORMATS:
                raise ImageProblem(f"Images must be PNG or JPEG, not {image_format}.")
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageProblem("The image has too many pixels (max 4096×4096).")
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ImageProblem("'data.image' is not a readable PNG or JPEG image.") from None
    return raw, IMAGE_FORMATS[image_format]


def write_file(path: str, raw: bytes, mode: int | None) -> None:
    """Create `path` (never overwriting: O_EXCL) with `raw`, as Django's FileSystemStorage would, then chmod to `mode`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    if mode is not None:
        os.chmod(path, mode)


def check_images(images: list[str], stems: list[str] | None, mode: int | None) -> list[tuple[bytes, str] | str]:
    """Decode and verify each base64 image; for each good one return (bytes, extension), for a bad one the reason.

    With `stems` (absolute paths without the extension, one per image), also write each good image to
    `<stem>.<extension>`: the worker writes the files of its batch, so the parent never waits on the disk.
    """
    results: list[tuple[bytes, str] | str] = []
    for index, encoded in enumerate(images):
        try:
            raw, extension = decode_image(encoded)
        except ImageProblem as problem:
            results.append(str(problem))
            continue
        if stems is not None:
            write_file(f"{stems[index]}.{extension}", raw, mode)
        results.append((raw, extension))
    return results
