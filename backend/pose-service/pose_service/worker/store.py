"""The media store: GridFS bucket `media` (media.files / media.chunks) holding originals and derived files."""

from __future__ import annotations

from pathlib import Path

from bson import ObjectId
from gridfs import GridFSBucket
from gridfs.errors import NoFile
from pymongo.database import Database

DERIVED_KINDS = ("rendition", "poster", "sprite")


class MediaStore:
    """Files are found by metadata {videoId, kind}; a worker only ever reads originals and writes derived kinds."""

    def __init__(self, db: Database):
        self.bucket = GridFSBucket(db, bucket_name="media")
        self.files = db["media.files"]

    def download(self, file_id: ObjectId, dest: Path) -> int:
        """Copy a stored file to a local path (written beside it first, so a half copy never has the name)."""
        part = dest.with_name(dest.name + ".part")
        with open(part, "wb") as out:
            self.bucket.download_to_stream(file_id, out)
        part.replace(dest)
        return dest.stat().st_size

    def upload(self, path: Path, video_id: ObjectId, kind: str, content_type: str) -> ObjectId:
        with open(path, "rb") as src:
            return self.bucket.upload_from_stream(
                path.name, src, metadata={"videoId": video_id, "kind": kind, "contentType": content_type}
            )

    def remove(
        self, video_id: ObjectId, kinds: tuple[str, ...] = DERIVED_KINDS, keep: tuple[ObjectId, ...] = ()
    ) -> int:
        """Delete a video's files of these kinds except `keep` (older copies from a redone ingest, or cleanup)."""
        query = {"metadata.videoId": video_id, "metadata.kind": {"$in": list(kinds)}, "_id": {"$nin": list(keep)}}
        gone = 0
        for f in self.files.find(query, {"_id": 1}):
            try:
                self.bucket.delete(f["_id"])
                gone += 1
            except NoFile:  # removed meanwhile by the API or another worker
                pass
        return gone
