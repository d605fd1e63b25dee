"""Fixtures for the harness's own tests: description files of misbehaving shim doubles."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DOUBLE = Path(__file__).resolve().parent / "doubles" / "otp_double.py"
RFC4226_SECRET_HEX = "3132333435363738393031323334353637383930"  # RFC 4226 Appendix D


def write_double(folder: Path, mode: str, timeout: float = 2.0) -> Path:
    path = folder / f"double-{mode}.toml"
    path.write_text(
        f'name = "double-{mode}"\n'
        'roles = ["otp-generator"]\n'
        'capabilities = ["otp.hotp", "otp.hash.sha1"]\n'
        "[transport]\n"
        'kind = "shim"\n'
        f"command = [{sys.executable!r}, {str(DOUBLE)!r}, {mode!r}]\n"
        f"timeout = {timeout}\n".replace("'", '"'),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def double_file(tmp_path: Path):
    return lambda mode, timeout=2.0: write_double(tmp_path, mode, timeout)
