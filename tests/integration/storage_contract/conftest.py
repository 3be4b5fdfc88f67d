"""The fixtures that open each store of STORES (stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.storage.base import Storage
from tests.integration.storage_contract.stores import STORES, Backend


@pytest.fixture(params=sorted(STORES))
def backend(request: pytest.FixtureRequest) -> Backend:
    return STORES[request.param]


@pytest.fixture
def store(backend: Backend, tmp_path: Path) -> Iterator[Storage]:
    made = backend.open(tmp_path)
    yield made
    made.close()


@pytest.fixture
def reader(store: Storage, backend: Backend, tmp_path: Path) -> Iterator[Storage]:
    """The same store, opened read-only (as the CLI and the Datasette sign-in open it)."""
    made = backend.open_readonly(tmp_path)
    yield made
    made.close()
