"""The sample lists shipped in ``bots_scheduler/samples``, restored into the data folder by
``bots-scheduler reset``."""
from __future__ import annotations

import shutil
from pathlib import Path

from bots_scheduler.datafiles.validation import ALLOWED_EXTENSIONS

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"
TARGET_FOLDER = "samples"


def sample_files() -> list[Path]:
    return sorted(path for path in SAMPLES_DIR.iterdir()
                  if path.is_file() and path.suffix.lower() in ALLOWED_EXTENSIONS)


def restore_samples(data_dir) -> list[str]:
    """Copies the missing sample lists to ``DATA_DIR/samples/`` (an edited copy is kept);
    returns the relative names restored.  The next ``run`` lists them (start-up sync)."""
    target = Path(data_dir) / TARGET_FOLDER
    restored = []
    for source in sample_files():
        destination = target / source.name
        if destination.exists():
            continue
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        restored.append(f"{TARGET_FOLDER}/{source.name}")
    return restored
