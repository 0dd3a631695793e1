"""A data bundle uploaded over HTTP (see ``docs/bundle.md``, "Uploading a bundle"):
a zip of the bundle's CSV files or an ``.xlsx`` workbook, unpacked within limits,
then previewed or imported by :mod:`valuechain.services.bundle` exactly as
``valuechain import`` does it.

Both kinds are zip archives, so both are unpacked the same careful way: the entries'
declared sizes are checked first (a cheap, early refusal), then every entry is
streamed out in chunks while the bytes actually produced are counted, so an archive
that lies about its sizes is refused as soon as what it really unpacks passes the
limits. Memory stays at one chunk; the time is bounded by the limits.

The pages keep an upload between its preview and its import in a staging folder
under the system's temporary folder, named by a random token and bound to the
organisation and the account that uploaded it, for :data:`STAGED_FOR` seconds.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from valuechain.domain.bundle import BundleProblem
from valuechain.services import audit
from valuechain.services.audit import Actor
from valuechain.services.bundle import (
    BundleError,
    BundlePreview,
    ImportSummary,
    TableChange,
    WorkbookLimits,
    import_bundle,
    preview_bundle,
)
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain

CHUNK = 1 << 20
#: Seconds an upload stays staged between its preview and its import.
STAGED_FOR = 15 * 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_STAGING = "valuechain-uploads"


@dataclass(frozen=True)
class ArchiveLimits:
    """How far an uploaded archive may unpack: ``max_unpacked_bytes`` all entries
    together, ``max_ratio`` unpacked bytes per compressed byte of an entry once it has
    unpacked more than ``ratio_floor`` (small parts compress well and are harmless),
    ``max_entries`` entries."""

    max_unpacked_bytes: int = WorkbookLimits.max_unpacked_bytes
    max_ratio: float = WorkbookLimits.max_ratio
    ratio_floor: int = WorkbookLimits.ratio_floor
    max_entries: int = 10_000


def _refusal(name: str, expected: str, found: str) -> BundleError:
    return BundleError([BundleProblem(name, None, None, expected, found)])


def _kind(filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix not in (".zip", ".xlsx"):
        raise _refusal(
            filename or "the upload",
            "a .zip of the bundle's CSV files or an .xlsx workbook",
            f"a file named {filename!r}",
        )
    return suffix


def _entries(archive: zipfile.ZipFile, name: str, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """The archive's entries, refused at once when their declared sizes pass limits."""
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise _refusal(
            name, f"an archive of at most {limits.max_entries:,} entries", f"{len(entries):,}"
        )
    declared = sum(e.file_size for e in entries)
    if declared > limits.max_unpacked_bytes:
        raise _refusal(
            name,
            f"an archive that unpacks to at most {limits.max_unpacked_bytes:,} bytes",
            f"entries declaring {declared:,} bytes",
        )
    for entry in entries:
        if entry.file_size > limits.ratio_floor and (
            entry.file_size / max(entry.compress_size, 1) > limits.max_ratio
        ):
            raise _refusal(
                name,
                f"entries compressed at most {limits.max_ratio:g} to 1",
                f"{entry.filename} declaring {entry.file_size:,} bytes in {entry.compress_size:,}",
            )
    return entries


def stream_entries(
    archive: zipfile.ZipFile,
    name: str,
    limits: ArchiveLimits,
    sink: dict[str, BinaryIO] | None = None,
) -> int:
    """Unpack every entry in chunks of :data:`CHUNK` bytes, counting the bytes
    actually produced (never the declared sizes), into ``sink[entry name]`` when the
    entry is there, else nowhere. Raises :class:`BundleError` as soon as the count
    passes ``limits``; returns the bytes unpacked."""
    total = 0
    for entry in archive.infolist():
        if entry.is_dir():
            continue
        produced = 0
        out = (sink or {}).get(entry.filename)
        try:
            with archive.open(entry) as stream:
                while chunk := stream.read(CHUNK):
                    produced += len(chunk)
                    total += len(chunk)
                    if total > limits.max_unpacked_bytes:
                        raise _refusal(
                            name,
                            f"an archive that unpacks to at most "
                            f"{limits.max_unpacked_bytes:,} bytes",
                            f"more ({entry.filename} and the entries before it)",
                        )
                    if produced > limits.ratio_floor and (
                        produced / max(entry.compress_size, 1) > limits.max_ratio
                    ):
                        raise _refusal(
                            name,
                            f"entries compressed at most {limits.max_ratio:g} to 1",
                            f"{entry.filename} unpacking to more than {produced:,} bytes "
                            f"from {entry.compress_size:,}",
                        )
                    if out is not None:
                        out.write(chunk)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            NotImplementedError,  # a compression method zipfile lacks
            RuntimeError,  # an encrypted entry
        ) as error:
            raise _refusal(name, "a readable zip archive", f"{entry.filename}: {error}") from None
    return total


def _open_archive(path: Path, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise _refusal(name, "a readable zip archive", str(error) or type(error).__name__) from None


def _bundle_name(entry: str) -> str | None:
    """The file name an entry has in the bundle's folder, or ``None`` for the parts of
    a zip that are the zipping program's (folders, ``__MACOSX``, hidden files)."""
    parts = PurePosixPath(entry.replace("\\", "/")).parts
    if not parts or entry.endswith("/") or "__MACOSX" in parts or parts[-1].startswith("."):
        return None
    return parts[-1]


def unpack(upload: Path, filename: str, into: Path, limits: ArchiveLimits | None = None) -> Path:
    """The bundle ``upload`` (named ``filename`` by its sender) as ``valuechain
    import`` reads it, under the empty folder ``into``: a zip's files flattened into a
    folder (an archive of one folder holding the CSV files is the common case), a
    workbook as an ``.xlsx`` file. Raises :class:`BundleError` for an archive that
    passes ``limits`` or cannot be read."""
    limits = limits or ArchiveLimits()
    kind = _kind(filename)
    with _open_archive(upload, filename) as archive:
        entries = _entries(archive, filename, limits)
        if kind == ".xlsx":
            # Streamed through once, kept nowhere: openpyxl then reads a workbook
            # known to unpack within the limits.
            stream_entries(archive, filename, limits)
            target = into / "bundle.xlsx"
            shutil.copyfile(upload, target)
            return target
        folder = into / "bundle"
        folder.mkdir()
        names: dict[str, str] = {}
        taken: set[str] = set()
        for entry in entries:
            bundle_name = _bundle_name(entry.filename)
            if bundle_name is None:
                continue
            if bundle_name in taken:
                raise _refusal(
                    filename,
                    "one file of each name",
                    f"{bundle_name} twice ({entry.filename} and another)",
                )
            names[entry.filename] = bundle_name
            taken.add(bundle_name)
        files = {e: (folder / n).open("wb") for e, n in names.items()}
        try:
            stream_entries(archive, filename, limits, files)  # type: ignore[arg-type]
        finally:
            for file in files.values():
                file.close()
        return folder


def _renamed(error: BundleError, bundle: Path, filename: str) -> BundleError:
    """``error`` with the staging path replaced by the name the sender gave."""
    problems = [
        replace(p, file=p.file.replace(str(bundle), filename)) if str(bundle) in p.file else p
        for p in error.problems
    ]
    return BundleError(problems, error.more_problems)


class _Refused(Exception):
    """An upload refused while unpacking, before the bundle's check."""

    def __init__(self, error: BundleError) -> None:
        super().__init__(str(error))
        self.error = error


@contextmanager
def _unpacked(upload: Path, filename: str, limits: ArchiveLimits | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="valuechain-upload-") as folder:
        try:
            bundle = unpack(upload, filename, Path(folder), limits)
        except BundleError as error:
            raise _Refused(error) from None
        try:
            yield bundle
        except BundleError as error:
            raise _renamed(error, bundle, filename) from None


def preview_upload(
    vc: Valuechain,
    upload: Path,
    filename: str,
    *,
    replace: bool = False,
    limits: ArchiveLimits | None = None,
) -> BundlePreview:
    """What importing the uploaded bundle would do (:func:`preview_bundle`), or the
    :class:`BundleError` ``valuechain import`` gives for the same files."""
    try:
        with _unpacked(upload, filename, limits) as bundle:
            return preview_bundle(vc, bundle, replace=replace)
    except _Refused as refused:
        raise refused.error from None


def import_upload(
    vc: Valuechain,
    upload: Path,
    filename: str,
    actor: Actor,
    *,
    replace: bool = False,
    limits: ArchiveLimits | None = None,
) -> ImportSummary:
    """Import the uploaded bundle all or nothing through :func:`import_bundle` (the
    CLI's service), audited as ``actor`` about ``upload:<filename>``; an archive
    refused before the check (past the limits, unreadable) is audited as failed too."""
    subject = f"upload:{filename}"
    try:
        with _unpacked(upload, filename, limits) as bundle:
            return import_bundle(vc, bundle, replace=replace, actor=actor, subject=subject)
    except _Refused as refused:
        audit.record(
            vc,
            audit.IMPORT,
            actor,
            outcome=audit.FAILED,
            subject=subject,
            detail=f"the upload was refused: {refused.error.problems[0]}; nothing changed",
        )
        raise refused.error from None


@dataclass(frozen=True)
class UploadOutcome:
    """An upload's preview or import as one document: ``problems`` (the bundle's
    located problems, ``more_problems`` beyond the cap; then nothing changed), or
    ``rows`` per table and, for a preview, ``changes`` to the map's tables."""

    dry_run: bool
    replace: bool
    applied: bool
    problems: list[BundleProblem]
    more_problems: int
    rows: dict[str, int]
    changes: dict[str, TableChange]


def check_or_import(
    vc: Valuechain,
    upload: Path,
    filename: str,
    actor: Actor,
    *,
    dry_run: bool = True,
    replace: bool = False,
    limits: ArchiveLimits | None = None,
) -> UploadOutcome:
    """:func:`preview_upload` (``dry_run``) or :func:`import_upload`, a bundle's
    problems answered as an outcome rather than raised: a refused bundle is an answer
    of this use case, the same with and without ``dry_run``."""
    try:
        if dry_run:
            preview = preview_upload(vc, upload, filename, replace=replace, limits=limits)
            rows, changes = preview.rows, preview.changes
        else:
            summary = import_upload(vc, upload, filename, actor, replace=replace, limits=limits)
            rows, changes = summary.rows, {}
    except BundleError as error:
        return UploadOutcome(dry_run, replace, False, error.problems, error.more_problems, {}, {})
    return UploadOutcome(dry_run, replace, not dry_run, [], 0, rows, changes)


# -- staging between a page's preview and its import ----------------------------------


@dataclass(frozen=True)
class Staged:
    """An upload kept for its import: where it is, and what the sender chose."""

    token: str
    path: Path
    filename: str
    replace: bool


def _staging_root() -> Path:
    root = Path(tempfile.gettempdir()) / _STAGING
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _sweep(root: Path, now: float) -> None:
    """Remove staged uploads older than :data:`STAGED_FOR` (never imported)."""
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > STAGED_FOR:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # another process removed it first


def stage(
    vc: Valuechain, account_id: str, source: BinaryIO, filename: str, replace: bool
) -> Staged:
    """Keep the upload ``source`` for a later :func:`take_staged` by the same account
    in the same organisation; returns its token (32 random URL-safe characters)."""
    root = _staging_root()
    _sweep(root, time.time())
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir(mode=0o700)
    path = folder / "upload"
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
    name = PurePosixPath(filename.replace("\\", "/")).name[:200]
    meta = {
        "organisation": vc.organisation,
        "account": account_id,
        "filename": name,
        "replace": replace,
    }
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return Staged(token, path, name, replace)


def take_staged(vc: Valuechain, account_id: str, token: str) -> Staged:
    """The upload staged under ``token`` by this account in this organisation and
    not older than :data:`STAGED_FOR`; else :class:`NotFound` (a stranger's token is
    as unknown as a made-up one)."""
    gone = NotFound("that upload is no longer kept; upload the bundle again")
    if not _TOKEN.fullmatch(token):
        raise gone
    folder = _staging_root() / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        age = time.time() - folder.stat().st_mtime
    except (OSError, ValueError):
        raise gone from None
    if (
        age > STAGED_FOR
        or meta.get("organisation") != vc.organisation
        or meta.get("account") != account_id
    ):
        raise gone
    return Staged(token, folder / "upload", str(meta["filename"]), bool(meta["replace"]))


def discard(staged: Staged) -> None:
    """Remove a staged upload (after its import, or when it is not wanted)."""
    shutil.rmtree(staged.path.parent, ignore_errors=True)
