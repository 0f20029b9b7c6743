"""Checking and cleaning an uploaded photo: :func:`clean` accepts JPEG, PNG and HEIC by their content (never their
name), within a size and a pixel limit, and returns it re-encoded as JPEG, turned upright from its EXIF orientation,
with no metadata at all (location, camera, time, ICC profile, comments), plus its thumbnail; anything else raises
:class:`PhotoRefused` with a message for the person who sent it."""

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

#: What Pillow may open here, by the format its content shows (HEIF is what phones save as .heic).
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "HEIF": "HEIC"}
THUMBNAIL_SIZE = (320, 320)
JPEG_QUALITY = 90


class PhotoRefused(ValueError):
    """The file is not a photo that may be stored; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class CleanPhoto:
    """A photo as it is stored: JPEG bytes without metadata, upright, with its thumbnail and fingerprint."""

    data: bytes
    thumbnail: bytes
    width: int
    height: int
    sha256: str


def _encode(image):
    out = io.BytesIO()
    # A fresh image carries no info of the original, and save() is given no exif, icc_profile or comment.
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _fresh_rgb(image):
    """The pixels alone, in RGB (transparency on white), in a new image that carries none of the original's info."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    fresh = Image.new("RGB", image.size)
    fresh.paste(image)
    return fresh


def clean(data, *, max_bytes, max_pixels, name="the file"):
    """Check ``data`` (an uploaded file's bytes, or its first ``max_bytes`` + 1) and return it as a
    :class:`CleanPhoto`, or raise :class:`PhotoRefused`. ``name`` appears in messages only."""
    if not data:
        raise PhotoRefused(f"{name} is empty (0 bytes); nothing was stored.")
    if len(data) > max_bytes:  # the caller may have read only max_bytes + 1 of it
        raise PhotoRefused(f"{name} is too large: a photo may be at most {max_bytes / 1024 / 1024:.0f} MB.")
    with warnings.catch_warnings():
        # Pillow warns at half its bomb limit and raises beyond it; here the clinic's own limit decides, as an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                kind = ACCEPTED_FORMATS.get(image.format or "")
                if kind is None:
                    raise PhotoRefused(
                        f"{name} is not a JPEG, PNG or HEIC photo ({image.format or 'unknown'} content); "
                        "nothing was stored."
                    )
                width, height = image.size
                if width * height > max_pixels:
                    raise PhotoRefused(
                        f"{name} is {width} × {height} pixels; a photo may have at most "
                        f"{max_pixels / 1_000_000:.0f} million pixels. Nothing was stored."
                    )
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                photo = _fresh_rgb(upright)
        except PhotoRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRefused(f"{name} declares more pixels than a photo may have; nothing was stored.") from None
        except UnidentifiedImageError:
            raise PhotoRefused(
                f"{name} is not a photo: its content is not JPEG, PNG or HEIC, whatever its name. Nothing was stored."
            ) from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
            raise PhotoRefused(f"{name} is damaged or incomplete and cannot be read; nothing was stored.") from None
    thumb = photo.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    encoded = _encode(photo)
    return CleanPhoto(
        data=encoded,
        thumbnail=_encode(thumb),
        width=photo.width,
        height=photo.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
