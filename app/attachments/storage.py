"""Where attachment bytes live: `<UPLOAD_FOLDER>/<contract_id>/<storage_key>`, outside
app/static and never under a name the uploader chose (SECURITY.md §5, ASVS 5.3.1, 5.3.2)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class LocalStorage:
    """Files on the local disk, one folder per contract."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, contract_id: int, key: str) -> Path:
        # Keys are uuid4 hex made by us; refuse anything else rather than trust it in a path.
        if not key.isalnum():
            raise ValueError(f"invalid storage key: {key!r}")
        return self.root / str(int(contract_id)) / key

    def save(self, contract_id: int, key: str, data: bytes) -> None:
        """Write the file atomically: a reader never sees half of it."""
        target = self.path(contract_id, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def load(self, contract_id: int, key: str) -> bytes:
        return self.path(contract_id, key).read_bytes()

    def delete(self, contract_id: int, key: str) -> None:
        self.path(contract_id, key).unlink(missing_ok=True)

    def touch(self, contract_id: int, key: str) -> None:
        """Mark the file as just used (`keys` lists it first)."""
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.path(contract_id, key))

    def keys(self, contract_id: int, prefix: str) -> list[str]:
        """The keys of the contract's files that start with `prefix`, the latest written or
        touched first."""
        folder = self.root / str(int(contract_id))
        if not folder.is_dir():
            return []
        found = []
        for file in folder.iterdir():
            if file.name.startswith(prefix):
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    found.append((file.stat().st_mtime_ns, file.name))
        return [name for _, name in sorted(found, reverse=True)]


def storage() -> LocalStorage:
    """The current app's storage (`UPLOAD_FOLDER`)."""
    return LocalStorage(Path(current_app.config["UPLOAD_FOLDER"]))
