"""A cache of one seeded benchmark database, so that a rerun copies it instead of writing it again.

Writing a million demands takes minutes; copying them a second. The cache is keyed by everything
that made the database: the benchmark's parameters and the schema's migrations (a new migration
makes a new database). One database is kept per cache folder: they are large.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks.harness import progress


def cache_folder(name: str) -> Path:
    """A benchmark's own cache folder, where the user's caches are kept (XDG_CACHE_HOME)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asamblea" / name


class SeedCache:
    """The cached database for one set of parameters, in `folder` (None: no caching)."""

    def __init__(self, folder: Path | None, *params: Any) -> None:
        from storage.database import migration_scripts

        digest = hashlib.sha256(json.dumps(params).encode())
        for version, script in migration_scripts():
            digest.update(f"{version}\n{script}".encode())
        self.folder = folder
        self.key = digest.hexdigest()[:24]

    def load(self, path: Path) -> dict[str, Any] | None:
        """Copy the cached database to `path` and return what it holds; None if there is none."""
        if self.folder is None:
            return None
        database, meta = self.folder / f"{self.key}.sqlite3", self.folder / f"{self.key}.json"
        if not (database.is_file() and meta.is_file()):
            return None
        shutil.copyfile(database, path)
        progress(f"database from the cache ({database})")
        return json.loads(meta.read_text(encoding="utf-8"))

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Keep the database at `path` and `meta` as the folder's one cached database."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.sqlite3"):
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
        part = self.folder / f"{self.key}.sqlite3.part"
        shutil.copyfile(path, part)
        part.replace(self.folder / f"{self.key}.sqlite3")
        (self.folder / f"{self.key}.json").write_text(json.dumps(meta), encoding="utf-8")
