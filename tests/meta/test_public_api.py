"""The public surface is exactly what __all__ says (as httpx's test_exported_members)."""

import modelatlas


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(modelatlas) if not name.startswith("_")}
    # submodules imported as a side effect of importing the package are not API
    submodules = {
        "api", "cli", "client", "config", "demo", "deps", "events", "governance", "integrity",
        "jsonsafe", "kinds", "lineage", "refs", "registry", "relations", "search", "specifiers",
        "store", "testing",
    }
    assert set(modelatlas.__all__) - {"__version__"} == public - submodules | {"errors"}


def test_every_exported_name_resolves() -> None:
    for name in modelatlas.__all__:
        assert getattr(modelatlas, name) is not None
