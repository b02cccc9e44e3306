"""Evidence photos: prove an upload is a real image, keep the evidence, strip the rest.

Pure Pillow and files, no Flask and no database: ``inspect_and_clean`` takes the
uploaded bytes and the declared content type and returns a re-encoded image
without metadata plus the EXIF capture time and GPS position it carried;
``store`` writes it under PHOTO_DIR named by its content hash.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from core.clock import to_local_naive
from core.errors import N_, DomainError, Invalid, refuse

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
# Pillow warns above this many pixels and refuses above twice as many; we refuse
# above it (the warning is turned into an error below, and the size is checked too).
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS

# declared content type -> the format Pillow must find in the bytes
ACCEPTED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
JPEG_QUALITY = 90
WEBP_QUALITY = 90
PNG_COMPRESS_LEVEL = 3  # storage is cheap, a technician waiting for an upload is not


class PayloadTooLarge(DomainError):
    status = 413
    slug = "payload-too-large"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"


@dataclass(frozen=True)
class CleanPhoto:
    """A verified, re-encoded image and the evidence read from its EXIF."""

    data: bytes
    sha256: str
    upload_sha256: str
    mime: str
    format: str
    width: int
    height: int
    taken_at: datetime | None
    gps_lat: float | None
    gps_lon: float | None

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def _declared_type(declared: str | None) -> str:
    mime = (declared or "").split(";", 1)[0].strip().lower()
    return "image/jpeg" if mime == "image/jpg" else mime


def inspect_and_clean(raw: bytes, declared_type: str | None) -> CleanPhoto:
    """Check an upload and re-encode it without metadata.

    Refuses (413) more than MAX_PHOTO_BYTES or MAX_PHOTO_PIXELS, (415) a
    declared type other than JPEG, PNG or WebP, and (422) bytes that are not a
    complete image of the declared format.
    """
    if len(raw) > MAX_PHOTO_BYTES:
        raise refuse(
            PayloadTooLarge,
            N_("The photo is larger than %(limit_mb)d MB."),
            params={"limit_mb": MAX_PHOTO_BYTES // (1024 * 1024)},
            size_bytes=len(raw),
        )
    mime = _declared_type(declared_type)
    if mime not in ACCEPTED_TYPES:
        raise refuse(
            UnsupportedMediaType,
            N_("Only JPEG, PNG and WebP photos are accepted."),
            declared_type=mime or None,
            accepted=sorted(ACCEPTED_TYPES),
        )
    expected = ACCEPTED_TYPES[mime]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=list(EXTENSIONS)) as probe:
                _check_pixels(probe.size)
                if probe.format != expected:
                    raise _not_an_image(mime, probe.format)
                probe.verify()
            # verify() leaves the image unusable: open again and decode all of it.
            image = Image.open(io.BytesIO(raw), formats=[expected])
            if expected == "JPEG":
                # Every coefficient is still entropy-decoded (so truncated or corrupt
                # scans fail here); only the inverse DCT runs at 1/8 scale.
                image.draft(image.mode, (image.width // 8 or 1, image.height // 8 or 1))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None) from None
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        TypeError,
        IndexError,
        struct.error,
    ):
        # Pillow reports truncated or corrupt data with any of these.
        raise _not_an_image(mime, None) from None
    with image:
        taken_at, gps_lat, gps_lon = _evidence(image)
        if expected == "JPEG" and _is_upright(image):
            clean, (width, height) = _strip_jpeg(raw), _full_size(raw)
        else:
            if expected == "JPEG":  # turned by the camera: decode in full and turn it
                image = Image.open(io.BytesIO(raw), formats=["JPEG"])
                image.load()
            clean, (width, height) = _reencode(image, expected)
    return CleanPhoto(
        data=clean,
        sha256=hashlib.sha256(clean).hexdigest(),
        upload_sha256=hashlib.sha256(raw).hexdigest(),
        mime=mime,
        format=expected,
        width=width,
        height=height,
        taken_at=taken_at,
        gps_lat=gps_lat,
        gps_lon=gps_lon,
    )


def _check_pixels(size: tuple[int, int]) -> None:
    if size[0] * size[1] > MAX_PHOTO_PIXELS:
        raise _too_many_pixels(size)


def _too_many_pixels(size: tuple[int, int] | None) -> DomainError:
    extra = {"width": size[0], "height": size[1]} if size else {}
    return refuse(
        PayloadTooLarge,
        N_("The image has more than %(limit_mp)d megapixels."),
        slug="too-many-pixels",
        params={"limit_mp": MAX_PHOTO_PIXELS // 1_000_000},
        **extra,
    )


def _not_an_image(mime: str, found: str | None) -> DomainError:
    return refuse(
        Invalid,
        N_("The file is not a valid %(kind)s image."),
        slug="not-an-image",
        params={"kind": ACCEPTED_TYPES[mime]},
        declared_type=mime,
        detected_format=found,
    )


# ---------------------------------------------------------------- evidence


def _evidence(image: Image.Image) -> tuple[datetime | None, float | None, float | None]:
    """EXIF capture time (city time) and GPS position, or None where absent or unreadable."""
    try:
        exif = image.getexif()
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # noqa: BLE001 - broken EXIF is no evidence, not a refusal
        return None, None, None
    taken_at = _capture_time(
        exif_ifd.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime),
        exif_ifd.get(ExifTags.Base.OffsetTimeOriginal),
    )
    lat = _gps_degrees(gps_ifd.get(ExifTags.GPS.GPSLatitude), gps_ifd.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _gps_degrees(gps_ifd.get(ExifTags.GPS.GPSLongitude), gps_ifd.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if lat is None or lon is None:
        lat = lon = None
    return taken_at, lat, lon


def _capture_time(value: object, offset: object) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        taken = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
        text = offset.strip("\x00 ")
        try:
            sign = -1 if text[0] == "-" else 1
            delta = timedelta(hours=int(text[1:3]), minutes=int(text[4:6])) * sign
            taken = to_local_naive(taken.replace(tzinfo=timezone(delta)))
        except (ValueError, IndexError):
            pass
    return taken


def _gps_degrees(value: object, ref: object, limit: float) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() in ("S", "W"):
        result = -result
    if not math.isfinite(result) or abs(result) > limit:
        return None
    return round(result, 7)


# ---------------------------------------------------------------- re-encoding


def _reencode(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int]]:
    """Pixels only: orientation applied, then saved with no EXIF, ICC, XMP or text."""
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    # Turning costs a copy of every pixel: only when the camera says the picture is turned.
    upright = ImageOps.exif_transpose(image) if orientation not in (1, None) else image
    upright.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        if upright.mode not in ("L", "RGB", "CMYK"):
            upright = upright.convert("RGB")
        upright.save(out, "JPEG", quality=JPEG_QUALITY)
    elif fmt == "PNG":
        upright.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        if upright.mode not in ("RGB", "RGBA"):
            upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
        upright.save(out, "WEBP", quality=WEBP_QUALITY, method=3)
    return out.getvalue(), upright.size


# An upright JPEG is stored with its compressed pixels as uploaded, minus the marker
# segments that carry metadata (APP1 EXIF/XMP, APP2 ICC, APP13 IPTC, COM, ...); APP0
# (JFIF) and APP14 (Adobe colour transform) stay, they are needed to decode it right.
_KEEP_APP = {0xE0, 0xEE}
_SOS, _EOI = 0xDA, 0xD9


def _strip_jpeg(raw: bytes) -> bytes:
    """The same compressed pixels without metadata: nothing lost to re-encoding.

    Walks the marker segments up to the start of scan and drops every APPn but
    APP0/APP14 and every comment; the scan itself is copied unchanged.
    """
    kept: list[bytes] = []
    pos = 2  # after SOI
    while True:
        if pos + 4 > len(raw) or raw[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = raw[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in (_SOS, _EOI):
            break
        length = struct.unpack(">H", raw[pos + 2 : pos + 4])[0]
        if marker in _KEEP_APP or not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            kept.append(raw[pos : pos + 2 + length])
        pos += 2 + length
    return raw[:2] + b"".join(kept) + raw[pos:]


def _is_upright(image: Image.Image) -> bool:
    return image.getexif().get(ExifTags.Base.Orientation, 1) in (1, None)


def _full_size(raw: bytes) -> tuple[int, int]:
    """Width and height as stored (draft mode shrank the decoded copy)."""
    with Image.open(io.BytesIO(raw), formats=["JPEG"]) as header:
        return header.size


# ---------------------------------------------------------------- storage


def relative_path(photo: CleanPhoto) -> str:
    """Where a photo lives under PHOTO_DIR: two hex digits of fan-out, then the hash."""
    return f"{photo.sha256[:2]}/{photo.sha256}.{photo.extension}"


def store(photo_dir: str | os.PathLike, photo: CleanPhoto) -> str:
    """Write the photo under `photo_dir` (atomically, once per content) and return its
    path relative to `photo_dir`."""
    relative = relative_path(photo)
    target = Path(photo_dir) / relative
    if target.exists():
        return relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(photo.data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return relative


def absolute_path(photo_dir: str | os.PathLike, relative: str) -> Path:
    """The file of a stored photo; refuses anything that would leave `photo_dir`."""
    root = Path(photo_dir).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"photo path {relative!r} leaves the photo directory")
    return path
