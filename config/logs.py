"""Logging handlers the settings name."""

import logging
from pathlib import Path


class FileHandlerMakingDirs(logging.FileHandler):
    """A file handler that creates its folder when the first record arrives (not at start-up)."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()
