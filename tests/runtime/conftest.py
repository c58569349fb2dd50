from __future__ import annotations

from collections.abc import Callable

import pytest
from siaga_runtime import RuntimeSettings


@pytest.fixture
def settings_for(runtime_env: Callable[[str], dict[str, str]]) -> Callable[[str], RuntimeSettings]:
    def make(service: str) -> RuntimeSettings:
        return RuntimeSettings(**{k.lower(): v for k, v in runtime_env(service).items()})  # type: ignore[arg-type]

    return make
