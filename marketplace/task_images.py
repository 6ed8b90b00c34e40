"""A task's image as a client sends it (base64 in data.image): checked with Pillow before anything is stored.

One rule for every place that takes task images: bulk imports run image_checks.decode_image in worker processes
(services/importing.py) and qualification test items (expert/qualifications.py) run it here, with its refusal
as the API's error.
"""

from __future__ import annotations

from coop.errors import ApplicationError

from .image_checks import ImageProblem, decode_image


def task_image_decode(encoded) -> tuple[bytes, str]:
    """(raw bytes, file extension) of a base64 PNG or JPEG (a data: URL prefix is allowed); refused with the reason."""
    try:
        return decode_image(encoded)
    except ImageProblem as problem:
        raise ApplicationError(str(problem)) from None
