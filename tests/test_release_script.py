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
    with pytest.raises(release.ReleaseError, match="publish_versions"):
        release.latest_version(FakeLambda([["$LATEST"]]), "fn")


ALIAS_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:prod-hello:live"


def outputs(functions: dict | None = None, **values: str) -> dict:
    """What `terraform output -json` prints for a stack with prod's one function `hello`."""
    hello = {
        "function_name": "prod-hello",
        "live_alias_arn": ALIAS_ARN,
        "deployment_group": "prod-hello",
    }
    shipped: dict = {
        "functions": {"hello": hello} if functions is None else functions,
        "codedeploy_application": "prod",
        "api_invoke_url": "https://x.execute-api.eu-west-1.amazonaws.com/prod",
    }
    return {name: {"value": value} for name, value in {**shipped, **values}.items()}


def test_target_comes_from_the_stack_outputs():
    assert release.target_from_outputs(outputs()) == release.Target(
        function="prod-hello",
        alias="live",
        region="eu-west-1",
        application="prod",
        group="prod-hello",
    )


def test_with_several_functions_the_key_picks_one_and_is_required():
    other = {
        "function_name": "prod-escape",
        "live_alias_arn": "arn:aws:lambda:eu-west-1:123456789012:function:prod-escape:live",
        "deployment_group": "prod-escape",
    }
    two = outputs({"hello": outputs()["functions"]["value"]["hello"], "escape": other})
    assert release.target_from_outputs(two, "escape").group == "prod-escape"
    with pytest.raises(release.ReleaseError, match="--function is needed: one of escape, hello"):
        release.target_from_outputs(two)
    with pytest.raises(release.ReleaseError, match="no function 'nope'"):
        release.target_from_outputs(two, "nope")


def test_missing_outputs_are_named():
    partial = outputs()
    del partial["functions"], partial["codedeploy_application"]
    with pytest.raises(release.ReleaseError, match="no functions, codedeploy_application output"):
        release.target_from_outputs(partial)
    broken = {"function_name": "f", "live_alias_arn": "arn:aws:lambda:eu-west-1:1:function:f"}
    with pytest.raises(release.ReleaseError, match="not an alias ARN"):
        release.target_from_outputs(outputs({"f": {**broken, "deployment_group": "g"}}))


def test_outputs_of_a_folder_never_applied_are_a_one_line_error(tmp_path, capsys):
    assert release.main(["--stack-dir", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("release: cannot run terraform in")


@pytest.fixture
def applied(tmp_path, monkeypatch):
    """An applied stack in moto: function with versions 1-3, `live` on 1, the deployment
    group; its outputs saved as `terraform output -json` prints them."""
    import io
    import zipfile

    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",  # not the stack's: the region comes from the ARN
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        lambda_ = boto3.client("lambda", region_name="eu-west-1")
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.py", "def handler(e, c):\n    return {}\n")
        lambda_.create_function(
            FunctionName="prod-hello",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code={"ZipFile": package.getvalue()},
        )
        for release_number in range(1, 4):  # each apply changes something and publishes
            lambda_.update_function_configuration(
                FunctionName="prod-hello", Description=f"release {release_number}"
            )
            lambda_.publish_version(FunctionName="prod-hello")
        lambda_.create_alias(FunctionName="prod-hello", Name="live", FunctionVersion="1")
        codedeploy = boto3.client("codedeploy", region_name="eu-west-1")
        codedeploy.create_application(applicationName="prod", computePlatform="Lambda")
        codedeploy.create_deployment_group(
            applicationName="prod",
            deploymentGroupName="prod-hello",
            serviceRoleArn=role["Role"]["Arn"],
            deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
            deploymentStyle={
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
                "deploymentType": "BLUE_GREEN",
            },
        )
        saved = tmp_path / "outputs.json"
        saved.write_text(json.dumps(outputs()))
        yield saved, codedeploy


def started_appspec(codedeploy) -> dict:
    (deployment_id,) = codedeploy.list_deployments(
        applicationName="prod", deploymentGroupName="prod-hello"
    )["deployments"]
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return json.loads(info["revision"]["appSpecContent"]["content"])


def test_release_rolls_forward_to_the_newest_version(applied, capsys):
    saved, codedeploy = applied
    assert release.main(["--outputs", str(saved)]) == 0
    assert "prod-hello:live 1 -> 3" in capsys.readouterr().out
    assert started_appspec(codedeploy) == release.appspec("prod-hello", "live", "1", "3")


def test_release_rolls_back_by_hand_to_a_named_version(applied, monkeypatch):
    import boto3

    saved, codedeploy = applied
    boto3.client("lambda", region_name="eu-west-1").update_alias(
        FunctionName="prod-hello", Name="live", FunctionVersion="3"
    )
    assert release.main(["--outputs", str(saved), "--version", "2"]) == 0
    assert started_appspec(codedeploy) == release.appspec("prod-hello", "live", "3", "2")


def test_dry_run_prints_the_appspec_and_starts_nothing(applied, capsys):
    saved, codedeploy = applied
    assert release.main(["--outputs", str(saved), "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == release.appspec("prod-hello", "live", "1", "3")
    assert codedeploy.list_deployments()["deployments"] == []


def test_nothing_to_do_when_live_serves_the_target(applied, capsys):
    saved, _ = applied
    assert release.main(["--outputs", str(saved), "--version", "1"]) == 0
    assert "already serves version 1" in capsys.readouterr().out


def test_every_shipped_stack_outputs_what_a_release_reads(stack):
    assert set(release.REQUIRED_OUTPUTS) <= set(stack["output"])
    functions = stack["output"]["functions"]["value"]
    aliases = stack["resource"]["aws_lambda_alias"]
    assert len(functions) == len(aliases)
    for key, values in functions.items():
        assert set(release.FUNCTION_OUTPUTS) <= set(values)
        (alias,) = [name for name in aliases if name.startswith(f"function-{key}_")]
        assert values["live_alias_arn"] == f"${{aws_lambda_alias.{alias}.arn}}"
