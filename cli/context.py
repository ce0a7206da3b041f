"""What every command needs: the settings, the store, who is acting."""

from __future__ import annotations

import getpass
import os
from functools import cached_property
from pathlib import Path

from pengaduan.errors import ConfigError
from pengaduan.settings import Settings, load_settings
from pengaduan.store.db import Store


class Context:
    def __init__(self, config_path: Path):
        self.config_path = config_path
        self._store: Store | None = None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    def store(self, upgrade_empty: bool = True) -> Store:
        """The store, its schema checked; an empty database is created on first use."""
        if self._store is None:
            store = Store(self.settings.store_url)
            store.ensure_schema(upgrade_empty=upgrade_empty)
            self._store = store
        return self._store

    @cached_property
    def actor(self) -> str:
        """Who is acting, for the audit log: $PENGADUAN_USER, else the login name."""
        return os.environ.get("PENGADUAN_USER") or getpass.getuser()

    def check_reveal(self, reveal: bool, reason: str | None) -> bool:
        if not reveal:
            return False
        if self.actor not in self.settings.reveal_users:
            raise ConfigError(
                f"user {self.actor!r} may not see personal data unmasked; an admin can add them "
                "to [privacy] reveal_users"
            )
        if not reason or not reason.strip():
            raise ConfigError("--reveal needs --reason \"why the personal data is needed\"")
        return True

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
