import json

import pytest

from scripts import release


class FakeLambda:
    def __init__(self, pages):
        self.pages = pages

    def get_paginator(self, operation):
        assert operation == "list_versions_by_function"
        return self

    def paginate(self, FunctionName):
        assert FunctionName == "fn"
        return [{"Versions": [{"Version": v} for v in page]} for page in self.pages]


def test_appspec_moves_the_alias_between_versions():
    spec = release.appspec("fn", "live", "3", "4")
    [resource] = spec["Resources"]
    assert resource["fn"] == {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": "fn", "Alias": "live", "CurrentVersion": "3", "TargetVersion": "4"},
    }
    assert json.loads(json.dumps(spec)) == spec


def test_latest_version_is_numeric_across_pages_and_skips_latest():
    assert release.latest_version(FakeLambda([["$LATEST", "1", "2"], ["10", "9"]]), "fn") == "10"


def test_no_published_version_is_an_error():
    with pytest.raises(SystemExit, match="publish_versions"):
        release.latest_version(FakeLambda([["$LATEST"]]), "fn")
