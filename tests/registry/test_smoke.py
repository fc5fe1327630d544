from modelatlas.registry import AssetCreate, Registry, VersionRegistration


def test_register_and_get(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="dataset:finance/transactions@3"))
    reg = registry.register_version(
        "fraud", "churn", VersionRegistration(datasets=["dataset:finance/transactions@3"])
    )
    assert reg.model_version.ref == "model_version:fraud/churn@1"
    assert registry.get_asset("model_version:fraud/churn@1").state == "registered"
