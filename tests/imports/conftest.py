import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> Path:
    return SAMPLES / name


def run_import(*args: object) -> list[str]:
    out = StringIO()
    call_command("import_comments", *[str(a) for a in args], stdout=out)
    return out.getvalue().splitlines()


def database_state() -> dict[str, tuple[int, str]]:
    """Every table: its row count and a hash of all its rows in primary-key order."""
    state = {}
    for model in apps.get_models():
        rows = list(model._base_manager.order_by("pk").values_list())
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        state[model._meta.db_table] = (len(rows), digest)
    return state


@pytest.fixture
def write_file(tmp_path: Path):
    """Write text or bytes to ``tmp_path/name``; return the path."""

    def write(content: str | bytes, name: str = "export.xml") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write
