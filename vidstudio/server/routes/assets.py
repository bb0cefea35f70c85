"""Files: uploads (``POST /v1/assets``, ``GET /v1/assets/{asset_id}``) and the files of a succeeded job (its MP4,
one frame as PNG, its preview as JPEG).

An upload is an image, a video or a sound (the form field ``kind``, else sniffed). It is streamed to a temporary
file in the assets folder, then an image is decoded completely (Pillow) and stored as a server-named PNG, and a
video or sound is opened with PyAV, which must find a stream of its kind and decode its first frame, and is kept
as sent under a server-made name. A frame is extracted from the MP4 once and kept in the job folder.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from vidstudio.jobs.store import AssetRow, JobRow, JobStore, new_asset_id
from vidstudio.protocol.constants import (
    ASSET,
    ASSETS,
    GENERATION_FRAME,
    GENERATION_OUTPUT,
    GENERATION_PREVIEW,
    MAX_FRAME_NUMBER,
)
from vidstudio.protocol.models import ASSET_ID_PATTERN, JOB_ID_PATTERN, Asset
from vidstudio.server.deps import Manager, Store, job_row, require_token
from vidstudio.server.errors import ERRORS, ApiError

#: Image formats accepted as uploads (Pillow format names).
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
#: Largest uploaded image or video frame, in pixels.
MAX_UPLOAD_PIXELS = 8192 * 8192
#: The kinds of upload (the form field ``kind``, which a client takes from the node parameter's file role).
ASSET_KINDS = ("image", "video", "audio")
#: Suffixes a stored video or sound keeps when the sent file name has one (else one from the container format).
MEDIA_SUFFIXES = {
    "video": (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".gif", ".avi"),
    "audio": (".wav", ".mp3", ".flac", ".aac", ".m4a", ".ogg", ".opus"),
}

router = APIRouter(dependencies=[Depends(require_token)], responses=ERRORS)


# ---------------------------------------------------------------------------------------------- helpers
def decode_upload(data: bytes | Path, what: str) -> tuple[Any, str]:
    """Decodes an uploaded image (its bytes, or the file it was streamed to) completely (Pillow), upright by
    its EXIF orientation.

    Returns:
        ``(PIL image in RGB or RGBA, format name)``.

    Raises:
        ApiError: 415 for a file that is not an image of an accepted format, 413 for one too large, 422 for a
            damaged one; the message names ``what`` (the form field).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not (data.stat().st_size if isinstance(data, Path) else data):
        raise ApiError(422, "invalid_request", "the file is empty", what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(data if isinstance(data, Path) else io.BytesIO(data))
            fmt = im.format or "?"
            if fmt not in UPLOAD_FORMATS:
                raise ApiError(
                    415,
                    "unsupported_media_type",
                    f"{fmt} images are not accepted; send {', '.join(UPLOAD_FORMATS)}",
                    what,
                )
            w, h = im.size
            if w * h > MAX_UPLOAD_PIXELS or w < 1 or h < 1:
                raise ApiError(
                    413, "too_large", f"the image is {w}x{h}; at most {MAX_UPLOAD_PIXELS:,} pixels are accepted", what
                )
            im.load()
            im = ImageOps.exif_transpose(im)
    except ApiError:
        raise
    except UnidentifiedImageError:
        raise ApiError(
            415, "unsupported_media_type", f"not an image (accepted: {', '.join(UPLOAD_FORMATS)})", what
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ApiError(413, "too_large", f"the image is too large to decode ({e})", what) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ApiError(422, "invalid_request", f"cannot decode the image ({e})", what) from None
    alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    return im.convert("RGBA" if alpha else "RGB"), fmt


def store_upload(store: JobStore, data: bytes | Path, what: str) -> AssetRow:
    """Decodes an uploaded image and stores it as a server-named PNG (``assets/<id>.png``).

    Raises:
        ApiError: see :func:`decode_upload`.
    """
    im, _ = decode_upload(data, what)
    aid = new_asset_id()
    path = store.asset_path(aid)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        im.save(tmp, "PNG")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no .tmp file
        raise
    row = AssetRow(aid, time.time(), im.size[0], im.size[1], im.mode, path.stat().st_size)
    try:
        store.add_asset(row)
    except BaseException:
        path.unlink(missing_ok=True)  # a database that cannot record it (full disk) keeps no file either
        raise
    return row


def _is_image(path: Path) -> bool:
    """Whether Pillow recognises the file as an image of an accepted format (without decoding it)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.format in UPLOAD_FORMATS
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return False


def _media_suffix(kind: str, filename: str, format_name: str) -> str:
    """The suffix a stored video or sound keeps: the sent name's when it is one of :data:`MEDIA_SUFFIXES`, else
    the first of the container format's names that is one, else ``.mkv`` / ``.mka`` (Matroska)."""
    own = Path(filename).suffix.lower()
    if own in MEDIA_SUFFIXES[kind]:
        return own
    for name in format_name.split(","):
        if f".{name}" in MEDIA_SUFFIXES[kind]:
            return f".{name}"
    return ".mkv" if kind == "video" else ".mka"


def probe_media(path: Path, kind: str | None, what: str, filename: str) -> tuple[str, int, int, str, str]:
    """Opens an uploaded video or sound with PyAV and decodes the first frame of its first stream of the kind.

    Args:
        path: the streamed upload. kind: ``video``, ``audio``, or None to take the kind from the streams (a
            video stream that is not a sound file's cover picture: video; else audio). what: the form field.
        filename: the name the client sent (messages and the stored suffix).

    Returns:
        ``(kind, width, height, codec name, suffix)``; width and height (pixels) are 0 for a sound.

    Raises:
        ApiError: 415 for a file that is not a video or sound (or holds no stream of the kind), 413 for a video
            frame over :data:`MAX_UPLOAD_PIXELS`, 422 for one whose first frame does not decode; the message
            names the file.
    """
    import av

    accepted = "images (PNG, JPEG, WebP...), videos (MP4, MOV, MKV, WebM, GIF...), sounds (WAV, MP3, FLAC, AAC...)"
    try:
        container = av.open(str(path))
    except Exception as e:  # av.error.InvalidDataError and friends
        why = str(e).strip() or type(e).__name__
        raise ApiError(
            415,
            "unsupported_media_type",
            f"{filename}: not an image, video or sound ({why}); accepted: {accepted}",
            what,
        ) from None
    with container:
        videos = [v for v in container.streams.video if not (v.disposition & av.stream.Disposition.attached_pic)]
        audios = list(container.streams.audio)
        if kind is None:
            kind = "video" if videos else "audio" if audios else None
            if kind is None:
                raise ApiError(
                    415,
                    "unsupported_media_type",
                    f"{filename}: holds no video or audio stream; accepted: {accepted}",
                    what,
                )
        streams = videos if kind == "video" else audios
        if not streams:
            raise ApiError(415, "unsupported_media_type", f"{filename}: holds no {kind} stream", what)
        stream = streams[0]
        width = height = 0
        if kind == "video":
            width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
            if width * height > MAX_UPLOAD_PIXELS:
                raise ApiError(
                    413,
                    "too_large",
                    f"{filename}: the video is {width}x{height}; at most {MAX_UPLOAD_PIXELS:,} "
                    "pixels a frame are accepted",
                    what,
                )
        try:
            frame = next(iter(container.decode(stream)), None)
        except Exception as e:  # av.error.* for a damaged stream
            why = str(e).strip() or type(e).__name__
            raise ApiError(422, "invalid_request", f"{filename}: the {kind} does not decode ({why})", what) from None
        if frame is None:
            raise ApiError(422, "invalid_request", f"{filename}: the {kind} stream holds no frames", what)
        if kind == "video":
            width, height = frame.width, frame.height
        codec = stream.codec_context.name or "?"
        return kind, width, height, codec, _media_suffix(kind, filename, container.format.name or "")


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.\- ]")


def store_upload_file(store: JobStore, source: Any, what: str, kind: str | None, filename: str) -> AssetRow:
    """Streams an upload to the assets folder and stores it as its kind wants (blocking: run it in a thread).

    Args:
        source: a binary file object (the multipart part), read in 1 MiB chunks, never whole.
        kind: ``image``, ``video``, ``audio``, or None to sniff (an image Pillow recognises, else PyAV's streams).
        filename: the name the client sent (messages and a video's or sound's stored suffix).

    Returns:
        the recorded asset: an image as ``assets/<id>.png``, a video or sound as ``assets/<id><suffix>``.

    Raises:
        ApiError: see :func:`decode_upload` and :func:`probe_media`; OSError: a full disk (no file is left).
    """
    name = _UNSAFE_NAME.sub("_", Path(filename or "file").name)[:120] or "file"
    aid = new_asset_id()
    tmp = store.assets_dir / f".{aid}.upload.tmp"
    final: Path | None = None
    try:
        with open(tmp, "wb") as f:
            shutil.copyfileobj(source, f, 1 << 20)
        if tmp.stat().st_size == 0:
            raise ApiError(422, "invalid_request", f"{name}: the file is empty", what)
        if kind == "image" or (kind is None and _is_image(tmp)):
            try:
                return store_upload(store, tmp, what)
            except ApiError as e:
                raise ApiError(e.status, e.kind, f"{name}: {e.message}", e.field) from None
        kind, width, height, codec, suffix = probe_media(tmp, kind, what, name)
        final = store.asset_path(aid, suffix)
        os.replace(tmp, final)
        row = AssetRow(aid, time.time(), width, height, codec, final.stat().st_size, kind, suffix)
        store.add_asset(row)  # a database that cannot record it (full disk) keeps no file: see below
        return row
    except BaseException:
        if final is not None:
            final.unlink(missing_ok=True)
        raise
    finally:
        tmp.unlink(missing_ok=True)


def asset_model(row: AssetRow) -> Asset:
    """The API record of a stored upload."""
    return Asset(
        id=row.id,
        kind=row.kind,
        width=row.width,
        height=row.height,
        mode=row.mode,
        bytes=row.bytes,
        created_at=row.created_at,
    )


def extract_frame(video: Path, n: int, dest: Path) -> None:
    """Writes frame ``n`` (0-based) of ``video`` to ``dest`` as PNG (atomically).

    Raises:
        ApiError: 404 when the video has fewer frames.
    """
    from vidstudio.media.image import save_png
    from vidstudio.media.video import iter_video_frames

    for i, frame in enumerate(iter_video_frames(video)):
        if i == n:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp.png")
            save_png(tmp, frame)
            os.replace(tmp, dest)
            return
    raise ApiError(404, "not_found", f"frame {n} is beyond the end of the video", "n")


async def read_form(request: Request):
    """The request's multipart form (at most 2 files and 40 fields, 1 MiB per field).

    Raises:
        ApiError: 400 for a malformed multipart body; Starlette's HTTPException: 413 from the body limit.
    """
    try:
        return await request.form(max_files=2, max_fields=40, max_part_size=1 << 20)
    except StarletteHTTPException:
        raise
    except Exception as e:  # a malformed multipart body
        raise ApiError(400, "invalid_request", f"the multipart body cannot be read: {e}", "body") from None


def finished_output(store: JobStore, job_id: str) -> tuple[JobRow, Path]:
    """The stored job and its MP4.

    Raises:
        ApiError: 404 for an unknown job or a video gone from the disk, 409 while the job has not succeeded.
    """
    row = job_row(store, job_id)
    if row.status != "succeeded":
        raise ApiError(409, "conflict", f"job {job_id} is {row.status}; its video exists once it has succeeded", "id")
    video = store.job_dir(job_id) / "output.mp4"
    if not video.is_file():
        raise ApiError(404, "not_found", f"the video of job {job_id} is gone from the server", "id")
    return row, video


# ---------------------------------------------------------------------------------------------- uploads
@router.post(
    ASSETS,
    response_model=Asset,
    status_code=201,
    tags=["assets"],
    summary="Upload an image, a video or a sound (multipart field 'file'; optional field 'kind')",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {
                                "type": "string",
                                "enum": list(ASSET_KINDS),
                                "description": "what the file is (default: sniffed from its content)",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def upload_asset(request: Request, store: Store) -> Asset:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "send the file as multipart/form-data, field 'file'", "file")
    form = await read_form(request)
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise ApiError(422, "invalid_request", "no file part 'file' in the form", "file")
    kind = form.get("kind") or None
    if kind is not None and kind not in ASSET_KINDS:
        raise ApiError(422, "invalid_request", f"{kind!r}: expected one of {', '.join(ASSET_KINDS)}", "kind")
    row = await asyncio.to_thread(store_upload_file, store, part.file, "file", kind, part.filename or "file")
    return asset_model(row)


@router.get(ASSET, response_model=Asset, tags=["assets"], summary="An uploaded file's facts")
async def get_asset(store: Store, asset_id: str = PathParam(pattern=ASSET_ID_PATTERN)) -> Asset:
    row = store.get_asset(asset_id)
    if row is None:
        raise ApiError(404, "not_found", f"no asset {asset_id}", "asset_id")
    return asset_model(row)


# ---------------------------------------------------------------------------------------------- job files
@router.get(
    GENERATION_OUTPUT,
    tags=["generations"],
    response_class=FileResponse,
    summary="The generated MP4 (project embedded in its metadata)",
)
async def get_output(store: Store, job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> FileResponse:
    _, video = finished_output(store, job_id)
    return FileResponse(video, media_type="video/mp4", filename=f"{job_id}.mp4")


@router.get(
    GENERATION_FRAME,
    tags=["generations"],
    response_class=FileResponse,
    summary="One frame of the generated video as PNG",
)
async def get_frame(
    store: Store,
    job_id: str = PathParam(pattern=JOB_ID_PATTERN),
    n: int = PathParam(ge=0, le=MAX_FRAME_NUMBER, description="frame number, from 0"),
) -> FileResponse:
    row, video = finished_output(store, job_id)
    count = int((row.output or {}).get("frame_count", 0))
    if n >= count:
        raise ApiError(
            404, "not_found", f"frame {n} does not exist: the video has {count} frames (0..{count - 1})", "n"
        )
    dest = store.job_dir(job_id) / "frames" / f"{n}.png"
    if not dest.is_file():
        await asyncio.to_thread(extract_frame, video, n, dest)
    return FileResponse(dest, media_type="image/png")


@router.get(
    GENERATION_PREVIEW,
    tags=["generations"],
    response_class=FileResponse,
    summary="A preview: the latest denoising step while running, the middle frame once done",
)
async def get_preview(store: Store, manager: Manager, job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> FileResponse:
    job_row(store, job_id)
    f = manager.preview_file(job_id)
    if f is None:
        raise ApiError(404, "not_found", f"job {job_id} has no preview yet", "id")
    return FileResponse(f, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
