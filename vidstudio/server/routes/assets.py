"""Files: uploaded images (``POST /v1/assets``, ``GET /v1/assets/{asset_id}``) and the files of a succeeded job
(its MP4, one frame as PNG, its preview as JPEG).

Uploads are decoded completely (Pillow) before they are accepted and stored as server-named PNGs; a frame is
extracted from the MP4 once and kept in the job folder.
"""

from __future__ import annotations

import asyncio
import io
import os
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
#: Largest uploaded image, in pixels.
MAX_UPLOAD_PIXELS = 8192 * 8192

router = APIRouter(dependencies=[Depends(require_token)], responses=ERRORS)


# ---------------------------------------------------------------------------------------------- helpers
def decode_upload(data: bytes, what: str) -> tuple[Any, str]:
    """Decodes an uploaded image completely (Pillow), upright by its EXIF orientation.

    Returns:
        ``(PIL image in RGB or RGBA, format name)``.

    Raises:
        ApiError: 415 for a file that is not an image of an accepted format, 413 for one too large, 422 for a
            damaged one; the message names ``what`` (the form field).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ApiError(422, "invalid_request", "the file is empty", what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
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


def store_upload(store: JobStore, data: bytes, what: str) -> AssetRow:
    """Decodes an upload and stores it as a server-named PNG (``assets/<id>.png``).

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


def asset_model(row: AssetRow) -> Asset:
    """The API record of a stored upload."""
    return Asset(
        id=row.id, width=row.width, height=row.height, mode=row.mode, bytes=row.bytes, created_at=row.created_at
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
    summary="Upload an image (multipart field 'file')",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_asset(request: Request, store: Store) -> Asset:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "send the image as multipart/form-data, field 'file'", "file")
    form = await read_form(request)
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise ApiError(422, "invalid_request", "no file part 'file' in the form", "file")
    data = await part.read()
    row = await asyncio.to_thread(store_upload, store, data, "file")
    return asset_model(row)


@router.get(ASSET, response_model=Asset, tags=["assets"], summary="An uploaded image's facts")
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
