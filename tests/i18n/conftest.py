"""Compiled catalogues are build products (make translations): compile them when missing or
older than their .po, so the suite also runs without make."""

import os
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"


def compile_if_stale(po: Path) -> None:
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parents[1].name)
    partial = mo.with_name(f".{mo.name}.{os.getpid()}")
    with partial.open("wb") as target:
        write_mo(target, catalog)  # fuzzy entries left out, as `pybabel compile` does
    partial.replace(mo)  # a concurrent run never reads a half-written catalogue


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        compile_if_stale(po)
