from scripts import bench
from serverless_app.config import validate_configs


def test_generated_environments_are_valid_and_distinct(tmp_path):
    folder = bench.generated_configs(tmp_path / "envs", 3)
    configs, problems = validate_configs(folder)
    assert problems == []
    assert sorted(config.env for _, config in configs) == ["e0", "e1", "e2"]
    assert len({config.vpc.cidr for _, config in configs}) == 3
    assert all(list(config.functions) == ["api"] for _, config in configs)
