"""A task's image as a client sends it (base64 in data.image): checked with Pillow before anything is stored.

One rule for every place that takes task images: bulk imports (services/importing.py) and qualification
test items (expert/qualifications.py).
"""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

from coop.errors import ApplicationError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg"}


def task_image_decode(encoded) -> tuple[bytes, str]:
    """(raw bytes, file extension) of a base64 PNG or JPEG (a data: URL prefix is allowed); refused with the reason."""
    if not isinstance(encoded, str):
        raise ApplicationError("'data.image' must be a base64 string.")
    if encoded.startswith("data:"):
        encoded = encoded.partition(",")[2]
    if len(encoded) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ApplicationError(f"The image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError("'data.image' is not valid base64.") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image_format = image.format
            if image_format not in IMAGE_FORMATS:
                raise ApplicationError(f"Images must be PNG or JPEG, not {image_format}.")
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ApplicationError("The image has too many pixels (max 4096×4096).")
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ApplicationError("'data.image' is not a readable PNG or JPEG image.") from None
    return raw, IMAGE_FORMATS[image_format]
