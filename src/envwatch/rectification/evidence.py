"""Evidence files (佐证材料), kept for real in a content-addressed store.

``check_file`` (pure) says whether an upload may be kept: not empty, within
the size limit, of an allowed type, its name's extension agreeing with what
its bytes are (a script renamed ``.pdf`` is refused). ``put`` stores a file by
the SHA-256 of its content (once, however often it is uploaded) in the
caller's transaction; ``get`` reads it back and verifies the hash, so a file
altered in the database is refused rather than served."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath

from sqlalchemy import Connection, insert, select

from envwatch.errors import PeerError
from envwatch.rectification.policy import EvidencePolicy
from envwatch.store.schema import EvidenceFile

MAX_NAME = 200


class EvidenceError(PeerError):
    """An upload refused, or a stored file that no longer matches its hash."""


def _zip_with(member: str) -> Callable[[bytes], bool]:
    """An Office Open XML file: a ZIP holding ``member``'s folder."""

    def recognise(content: bytes) -> bool:
        if not content.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return any(name.startswith(member) for name in archive.namelist())
        except zipfile.BadZipFile:
            return False

    return recognise


def _text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    for encoding in ("utf-8-sig", "gbk"):
        try:
            content.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


@dataclass(frozen=True, slots=True)
class FileType:
    media_type: str
    extensions: tuple[str, ...]
    recognise: Callable[[bytes], bool]


FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("application/pdf", (".pdf",), lambda c: c.startswith(b"%PDF-")),
    "png": FileType("image/png", (".png",), lambda c: c.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpeg": FileType("image/jpeg", (".jpg", ".jpeg"), lambda c: c.startswith(b"\xff\xd8\xff")),
    "xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     (".xlsx",), _zip_with("xl/")),
    "docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     (".docx",), _zip_with("word/")),
    "csv": FileType("text/csv; charset=utf-8", (".csv",), _text),
    "txt": FileType("text/plain; charset=utf-8", (".txt",), _text),
}  # fmt: skip
"""The file types envwatch recognises by their bytes; the policy says which are allowed."""


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    content: bytes


def check_file(upload: Upload, limits: EvidencePolicy) -> str:
    """The media type of an acceptable upload, or EvidenceError saying why not."""
    name = usable_name(upload.name)
    if not upload.content:
        raise EvidenceError("empty_file", f"{name} is empty", f"{name}是空文件")
    if len(upload.content) > limits.max_bytes:
        raise EvidenceError(
            "file_too_large",
            f"{name} has {len(upload.content)} bytes, more than {limits.max_bytes}",
            f"{name}超过大小上限（{limits.max_bytes}字节）",
        )
    suffix = PurePath(name).suffix.lower()
    allowed = [FILE_TYPES[kind] for kind in limits.types if kind in FILE_TYPES]
    for kind in allowed:
        if suffix in kind.extensions:
            if not kind.recognise(upload.content):
                raise EvidenceError(
                    "file_type_mismatch",
                    f"{name} is not the {suffix} file its name says",
                    f"{name}的内容与其扩展名{suffix}不符",
                )
            return kind.media_type
    known = ", ".join(ext for kind in allowed for ext in kind.extensions)
    raise EvidenceError("file_type_not_allowed", f"{name}: only {known} files",
                        f"{name}：只接受 {known} 文件")  # fmt: skip


def clean_name(name: str) -> str:
    """The name an upload is listed under: its last path part."""
    return PurePath(name.replace("\\", "/")).name


def usable_name(name: str) -> str:
    """The name an upload is listed under, or EvidenceError if there is none."""
    clean = clean_name(name)
    if clean in {"", ".", ".."} or len(clean) > MAX_NAME or any(ord(c) < 32 for c in clean):
        raise EvidenceError("bad_file_name", f"not a usable file name: {name[:50]!r}",
                            "文件名不可用")  # fmt: skip
    return clean


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def put(
    connection: Connection, content: bytes, media_type: str, now: datetime | None = None
) -> str:
    """Keep ``content`` (once) in the caller's transaction; its SHA-256."""
    digest = sha256_of(content)
    known = connection.execute(
        select(EvidenceFile.sha256).where(EvidenceFile.sha256 == digest)
    ).first()
    if known is None:
        connection.execute(
            insert(EvidenceFile).values(sha256=digest, size=len(content), media_type=media_type,
                                        content=content, stored_at=now or datetime.now(UTC))
        )  # fmt: skip
    return digest


def stored_type(connection: Connection, digest: str) -> str | None:
    """The media type of the stored file with this SHA-256 (None: none)."""
    return connection.execute(
        select(EvidenceFile.media_type).where(EvidenceFile.sha256 == digest)
    ).scalar()


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    media_type: str
    content: bytes


def get(connection: Connection, digest: str) -> StoredFile | None:
    """The stored file with this SHA-256 (None: none), its hash verified."""
    row = connection.execute(select(EvidenceFile).where(EvidenceFile.sha256 == digest)).first()
    if row is None:
        return None
    content = bytes(row.content)
    if sha256_of(content) != row.sha256 or len(content) != row.size:
        raise EvidenceError("evidence_corrupt",
                            f"the stored file {digest} no longer matches its SHA-256",
                            f"存储的文件{digest}与其SHA-256不符，已拒绝读取")  # fmt: skip
    return StoredFile(row.sha256, row.media_type, content)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def stored_names(text: str) -> list[tuple[str, str]] | None:
    """A page form's hidden ``evidence`` field (its script uploaded the files
    first): lines of ``<sha256> <name>`` as (name, sha256); None when malformed."""
    stored = []
    for line in filter(None, (part.strip() for part in text.splitlines())):
        digest, _, name = line.partition(" ")
        if not _SHA256.fullmatch(digest) or not name.strip():
            return None
        stored.append((name.strip(), digest))
    return stored
