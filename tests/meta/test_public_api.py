"""The public surface is exactly what __all__ says (as httpx's test_exported_members)."""

from types import ModuleType

import modelatlas


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(modelatlas) if not name.startswith("_")}
    # submodules imported as a side effect of importing the package are not API (a new
    # domain package must not need an entry here); names that are not modules all are
    side_effects = {name for name in public - set(modelatlas.__all__)
                    if isinstance(getattr(modelatlas, name), ModuleType)}
    assert set(modelatlas.__all__) - {"__version__"} == public - side_effects
    assert {"capture", "errors"} <= set(modelatlas.__all__)


def test_every_exported_name_resolves() -> None:
    for name in modelatlas.__all__:
        assert getattr(modelatlas, name) is not None
