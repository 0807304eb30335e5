"""Each emulator fix in tests/moto_gaps.py, shown against the moto server the tests use, and
AWS behaviour moto already has that the apply cycle relies on."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws_facts import Endpoint
from tests.moto_server import moto_server, tls_files

BUCKET = "gap-bucket"
TLS_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


@pytest.fixture(scope="module")
def https(tmp_path_factory) -> Iterator[Endpoint]:
    tls = tls_files(tmp_path_factory.mktemp("tls"))
    with moto_server(tls=tls) as url:
        yield Endpoint(url, "us-east-1", str(tls.certificate))


@pytest.fixture(scope="module")
def http() -> Iterator[Endpoint]:
    with moto_server() as url:
        yield Endpoint(url, "us-east-1")


def tls_only_bucket(endpoint: Endpoint, name: str) -> Any:
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    policy = json.dumps(TLS_ONLY_POLICY).replace(BUCKET, name)
    s3.put_bucket_policy(Bucket=name, Policy=policy)
    return s3


def test_tls_only_policy_lets_https_requests_through(https):
    s3 = tls_only_bucket(https, "tls-only-https")
    assert s3.get_object(Bucket="tls-only-https", Key="k")["Body"].read() == b"v"


def test_tls_only_policy_still_denies_plain_http(http):
    s3 = tls_only_bucket(http, "tls-only-http")
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="tls-only-http", Key="k")
    assert denied.value.response["Error"]["Code"] in ("403", "AccessDenied")


def test_a_statement_whose_condition_holds_still_applies(https):
    s3 = https.client("s3")
    s3.create_bucket(Bucket="deny-secure")
    s3.put_object(Bucket="deny-secure", Key="k", Body=b"v")
    policy = json.dumps(TLS_ONLY_POLICY).replace(BUCKET, "deny-secure").replace('"false"', '"true"')
    s3.put_bucket_policy(Bucket="deny-secure", Policy=policy)
    with pytest.raises(ClientError):
        s3.get_object(Bucket="deny-secure", Key="k")


def create_function(endpoint: Endpoint, name: str, **settings: object) -> None:
    role = endpoint.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return {}\n")
    endpoint.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
        **settings,
    )


def test_function_keeps_its_dead_letter_config(https):
    lambda_ = https.client("lambda")
    first, second = (f"arn:aws:sqs:us-east-1:123456789012:{name}" for name in ("dlq1", "dlq2"))
    create_function(https, "gap-function", DeadLetterConfig={"TargetArn": first})
    configuration = lambda_.get_function(FunctionName="gap-function")["Configuration"]
    assert configuration["DeadLetterConfig"] == {"TargetArn": first}
    lambda_.update_function_configuration(
        FunctionName="gap-function", DeadLetterConfig={"TargetArn": second}
    )
    configuration = lambda_.get_function_configuration(FunctionName="gap-function")
    assert configuration["DeadLetterConfig"] == {"TargetArn": second}


def test_function_environment_key_is_set_and_cleared_by_an_update(https):
    lambda_ = https.client("lambda")
    first, second = (
        f"arn:aws:kms:us-east-1:123456789012:key/{key}"
        for key in ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222")
    )
    create_function(https, "gap-keyed", KMSKeyArn=first)
    assert lambda_.get_function(FunctionName="gap-keyed")["Configuration"]["KMSKeyArn"] == first
    lambda_.update_function_configuration(FunctionName="gap-keyed", KMSKeyArn=second)
    assert lambda_.get_function_configuration(FunctionName="gap-keyed")["KMSKeyArn"] == second
    # An empty string: back to Lambda's default key, which GetFunction does not name.
    lambda_.update_function_configuration(FunctionName="gap-keyed", KMSKeyArn="")
    assert "KMSKeyArn" not in lambda_.get_function_configuration(FunctionName="gap-keyed")


def test_notification_answer_names_eventbridge_only_when_set(https):
    s3 = https.client("s3")
    s3.create_bucket(Bucket="events-on")
    s3.create_bucket(Bucket="events-off")
    s3.put_bucket_notification_configuration(
        Bucket="events-on", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    on = s3.get_bucket_notification_configuration(Bucket="events-on")
    off = s3.get_bucket_notification_configuration(Bucket="events-off")
    assert on["EventBridgeConfiguration"] == {}
    assert "EventBridgeConfiguration" not in off


def test_deleting_a_vpc_removes_its_default_network_acl(https):
    ec2 = https.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    (default_acl,) = ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"]
    assert default_acl["IsDefault"]
    ec2.delete_vpc(VpcId=vpc_id)
    assert ec2.describe_network_acls(Filters=in_vpc)["NetworkAcls"] == []


def test_a_rule_naming_another_group_answers_its_description(https):
    ec2 = https.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    endpoints, client = (
        ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
        for name in ("endpoints", "client")
    )
    pair = {"GroupId": client, "Description": "HTTPS from a client security group"}
    permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [pair]}
    ec2.authorize_security_group_ingress(GroupId=endpoints, IpPermissions=[permission])
    of_group = [{"Name": "group-id", "Values": [endpoints]}]
    rules = ec2.describe_security_group_rules(Filters=of_group)["SecurityGroupRules"]
    (rule,) = [rule for rule in rules if not rule["IsEgress"]]
    assert rule["ReferencedGroupInfo"]["GroupId"] == client
    assert rule["Description"] == "HTTPS from a client security group"


def test_function_reports_the_vpc_of_its_subnets(https):
    ec2 = https.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc_id)["GroupId"]
    placement = {"SubnetIds": [subnet_id], "SecurityGroupIds": [group_id]}
    create_function(https, "vpc-function", VpcConfig=placement)
    configuration = https.client("lambda").get_function(FunctionName="vpc-function")
    assert configuration["Configuration"]["VpcConfig"]["VpcId"] == vpc_id


def lambda_deployment_group(
    endpoint: Endpoint, application: str, tags: list[dict[str, str]] | None = None
) -> Any:
    codedeploy = endpoint.client("codedeploy")
    codedeploy.create_application(
        applicationName=application, computePlatform="Lambda", tags=tags or []
    )
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName="fn",
        tags=tags or [],
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce",
        alarmConfiguration={"enabled": True, "alarms": [{"name": "fn-errors"}]},
        deploymentStyle={
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
            "deploymentType": "BLUE_GREEN",
        },
    )
    return codedeploy


def test_deployment_group_answers_its_rollback_alarms(https):
    codedeploy = lambda_deployment_group(https, "gap-alarms")
    group = codedeploy.get_deployment_group(applicationName="gap-alarms", deploymentGroupName="fn")
    assert group["deploymentGroupInfo"]["alarmConfiguration"] == {
        "enabled": True,
        "alarms": [{"name": "fn-errors"}],
    }
    # AWS leaves out what the group does not have; an empty block is a change to Terraform.
    assert "loadBalancerInfo" not in group["deploymentGroupInfo"]


def test_codedeploy_groups_and_applications_can_be_deleted(https):
    codedeploy = lambda_deployment_group(https, "gap-delete")
    answer = codedeploy.delete_deployment_group(
        applicationName="gap-delete", deploymentGroupName="fn"
    )
    assert answer["hooksNotCleanedUp"] == []
    assert codedeploy.list_deployment_groups(applicationName="gap-delete")["deploymentGroups"] == []
    codedeploy.delete_application(applicationName="gap-delete")
    assert "gap-delete" not in codedeploy.list_applications()["applications"]
    with pytest.raises(ClientError) as missing:
        codedeploy.delete_application(applicationName="gap-delete")
    assert missing.value.response["Error"]["Code"] == "ApplicationDoesNotExistException"


CODEDEPLOY_ARN = "arn:aws:codedeploy:us-east-1:123456789012"
TEAM_TAGS = [{"Key": "Team", "Value": "platform"}]


def test_renaming_an_application_keeps_its_groups_and_their_tags(https):
    codedeploy = lambda_deployment_group(https, "gap-old-app", TEAM_TAGS)
    codedeploy.update_application(applicationName="gap-old-app", newApplicationName="gap-new-app")
    applications = codedeploy.list_applications()["applications"]
    assert "gap-new-app" in applications and "gap-old-app" not in applications
    group = codedeploy.get_deployment_group(applicationName="gap-new-app", deploymentGroupName="fn")
    assert group["deploymentGroupInfo"]["applicationName"] == "gap-new-app"
    # Tags belong to the resource; its ARN is made of its current name.
    for arn in (
        f"{CODEDEPLOY_ARN}:application:gap-new-app",
        f"{CODEDEPLOY_ARN}:deploymentgroup:gap-new-app/fn",
    ):
        assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == TEAM_TAGS, arn
    with pytest.raises(ClientError) as missing:
        codedeploy.get_application(applicationName="gap-old-app")
    assert missing.value.response["Error"]["Code"] == "ApplicationDoesNotExistException"


def test_an_application_cannot_take_another_applications_name(https):
    codedeploy = lambda_deployment_group(https, "gap-taken-1")
    lambda_deployment_group(https, "gap-taken-2")
    with pytest.raises(ClientError) as taken:
        codedeploy.update_application(
            applicationName="gap-taken-1", newApplicationName="gap-taken-2"
        )
    assert taken.value.response["Error"]["Code"] == "ApplicationAlreadyExistsException"
    assert codedeploy.list_deployment_groups(applicationName="gap-taken-1")["deploymentGroups"] == [
        "fn"
    ]


def test_updating_a_deployment_group_replaces_what_it_gives_and_renames_it(https):
    codedeploy = lambda_deployment_group(https, "gap-update", TEAM_TAGS)
    before = codedeploy.get_deployment_group(applicationName="gap-update", deploymentGroupName="fn")
    new_alarms = {"enabled": True, "alarms": [{"name": "fn-5xx"}], "ignorePollAlarmFailure": False}
    answer = codedeploy.update_deployment_group(
        applicationName="gap-update",
        currentDeploymentGroupName="fn",
        newDeploymentGroupName="fn-renamed",
        alarmConfiguration=new_alarms,
    )
    assert answer["hooksNotCleanedUp"] == []
    assert codedeploy.list_deployment_groups(applicationName="gap-update")["deploymentGroups"] == [
        "fn-renamed"
    ]
    after = codedeploy.get_deployment_group(
        applicationName="gap-update", deploymentGroupName="fn-renamed"
    )["deploymentGroupInfo"]
    assert after["alarmConfiguration"] == new_alarms
    kept = ("deploymentGroupId", "deploymentStyle", "deploymentConfigName", "serviceRoleArn")
    assert {key: after[key] for key in kept} == {
        key: before["deploymentGroupInfo"][key] for key in kept
    }
    arn = f"{CODEDEPLOY_ARN}:deploymentgroup:gap-update/fn-renamed"
    assert codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"] == TEAM_TAGS


def test_a_deployment_group_cannot_take_another_groups_name(https):
    codedeploy = lambda_deployment_group(https, "gap-group-taken")
    codedeploy.create_deployment_group(
        applicationName="gap-group-taken",
        deploymentGroupName="other",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
    )
    with pytest.raises(ClientError) as taken:
        codedeploy.update_deployment_group(
            applicationName="gap-group-taken",
            currentDeploymentGroupName="fn",
            newDeploymentGroupName="other",
        )
    assert taken.value.response["Error"]["Code"] == "DeploymentGroupAlreadyExistsException"
    with pytest.raises(ClientError) as missing:
        codedeploy.update_deployment_group(
            applicationName="gap-group-taken", currentDeploymentGroupName="none"
        )
    assert missing.value.response["Error"]["Code"] == "DeploymentGroupDoesNotExistException"


def test_certificate_is_issued_once_its_validation_record_exists(https):
    acm, route53 = https.client("acm"), https.client("route53")
    zone = route53.create_hosted_zone(Name="gap.example.", CallerReference="gap-acm")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    arn = acm.request_certificate(DomainName="api.gap.example", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert certificate["Status"] == "PENDING_VALIDATION"
    (option,) = certificate["DomainValidationOptions"]
    record = option["ResourceRecord"]
    # Not by a timer, nor by a record of another value: only by the record ACM asked for.
    change: dict[str, Any] = {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": record["Name"],
            "Type": "CNAME",
            "TTL": 60,
            "ResourceRecords": [{"Value": "_something-else.acm-validations.aws."}],
        },
    }
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [change]})
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == (
        "PENDING_VALIDATION"
    )
    change["ResourceRecordSet"]["ResourceRecords"] = [{"Value": record["Value"]}]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [change]})
    issued = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert issued["Status"] == "ISSUED"
    assert issued["DomainValidationOptions"][0]["ValidationStatus"] == "SUCCESS"


def test_provisioned_concurrency_on_an_alias(https):
    lambda_ = https.client("lambda")
    create_function(https, "gap-warm", Publish=True)
    lambda_.create_alias(FunctionName="gap-warm", Name="live", FunctionVersion="1")
    answer = lambda_.put_provisioned_concurrency_config(
        FunctionName="gap-warm", Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert answer["RequestedProvisionedConcurrentExecutions"] == 2
    config = lambda_.get_provisioned_concurrency_config(FunctionName="gap-warm", Qualifier="live")
    assert config["Status"] == "READY"
    assert config["AllocatedProvisionedConcurrentExecutions"] == 2
    lambda_.delete_provisioned_concurrency_config(FunctionName="gap-warm", Qualifier="live")
    with pytest.raises(ClientError) as missing:
        lambda_.get_provisioned_concurrency_config(FunctionName="gap-warm", Qualifier="live")
    assert missing.value.response["Error"]["Code"] == (
        "ProvisionedConcurrencyConfigNotFoundException"
    )
    for qualifier, code in (("$LATEST", "InvalidParameterValueException"),
                            ("nope", "ResourceNotFoundException")):  # fmt: skip
        with pytest.raises(ClientError) as refused:
            lambda_.put_provisioned_concurrency_config(
                FunctionName="gap-warm", Qualifier=qualifier, ProvisionedConcurrentExecutions=1
            )
        assert refused.value.response["Error"]["Code"] == code


def test_hosted_zone_ids_look_like_aws_ones(https):
    route53 = https.client("route53")
    zone = route53.create_hosted_zone(Name="ids.example.", CallerReference="gap-ids")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"Z[A-Z0-9]{1,31}", zone_id), zone_id
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == "ids.example."


FUNCTION_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:gap-api/invocations"
)
SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "x-amazon-apigateway-authtype": "awsSigv4",
}


def operation(**fields: object) -> dict[str, object]:
    """An OpenAPI operation proxied to a function, as AWS's own examples write it."""
    integration = {"type": "aws_proxy", "httpMethod": "POST", "uri": FUNCTION_URI}
    return {"responses": {}, "x-amazon-apigateway-integration": integration, **fields}


def openapi_body(paths: dict[str, object], **extensions: object) -> str:
    document = {
        "openapi": "3.0.1",
        "info": {"title": "gap-api", "version": "1"},
        "components": {"securitySchemes": {"sigv4": SIGV4}},
        "paths": paths,
        **extensions,
    }
    return json.dumps(document)


def api_with_body(endpoint: Endpoint, paths: dict[str, Any], **extensions: object):
    """A REST API made as the provider makes one with a `body`: create, then put (overwrite)."""
    apigateway = endpoint.client("apigateway")
    api_id = apigateway.create_rest_api(name="gap-api")["id"]
    body = openapi_body(paths, **extensions)
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    return apigateway, api_id


def methods_by_path(apigateway, api_id: str) -> dict[str, dict[str, dict]]:
    return {
        resource["path"]: {
            name: apigateway.get_method(
                restApiId=api_id, resourceId=resource["id"], httpMethod=name
            )
            for name in resource.get("resourceMethods", {})
        }
        for resource in apigateway.get_resources(restApiId=api_id)["items"]
    }


def test_openapi_body_methods_are_its_operations(https):
    paths = {
        "/items": {"summary": "items", "description": "all", "parameters": [], "get": operation()},
        "/items/{id}": {"x-amazon-apigateway-any-method": operation()},
    }
    apigateway, api_id = api_with_body(https, paths)
    methods = methods_by_path(apigateway, api_id)
    assert {path: set(found) for path, found in methods.items()} == {
        "/": set(),
        "/items": {"GET"},
        "/items/{id}": {"ANY"},
    }
    integration = methods["/items/{id}"]["ANY"]["methodIntegration"]
    assert (integration["type"], integration["httpMethod"], integration["uri"]) == (
        "AWS_PROXY",
        "POST",
        FUNCTION_URI,
    )


@pytest.mark.parametrize(
    ("security", "document_security", "authorization_type"),
    [
        ([{"sigv4": []}], None, "AWS_IAM"),
        (None, None, "NONE"),
        # AWS applies no document-level `security` to the methods.
        (None, [{"sigv4": []}], "NONE"),
    ],
)
def test_openapi_security_sets_the_authorization_type(
    https, security, document_security, authorization_type
):
    fields = {"security": security} if security else {}
    extensions = {"security": document_security} if document_security else {}
    apigateway, api_id = api_with_body(
        https, {"/hello": {"get": operation(**fields)}}, **extensions
    )
    method = methods_by_path(apigateway, api_id)["/hello"]["GET"]
    assert method["authorizationType"] == authorization_type


def test_openapi_parameters_become_method_request_parameters(https):
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "page", "in": "query", "schema": {"type": "string"}},
        {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}},
    ]
    paths = {"/items/{id}": {"get": operation(parameters=parameters)}, "/": {"get": operation()}}
    apigateway, api_id = api_with_body(https, paths)
    methods = methods_by_path(apigateway, api_id)
    assert methods["/items/{id}"]["GET"]["requestParameters"] == {
        "method.request.path.id": True,
        "method.request.querystring.page": False,
        "method.request.header.X-Trace": True,
    }
    assert "requestParameters" not in methods["/"]["GET"]


def test_openapi_request_validators_and_the_one_each_method_uses(https):
    validators = {
        "params-only": {"validateRequestBody": False, "validateRequestParameters": True},
        "all": {"validateRequestBody": True, "validateRequestParameters": True},
    }
    paths = {
        "/a": {"get": operation()},
        "/b": {"post": operation(**{"x-amazon-apigateway-request-validator": "all"})},
    }
    extensions = {
        "x-amazon-apigateway-request-validators": validators,
        "x-amazon-apigateway-request-validator": "params-only",
    }
    apigateway, api_id = api_with_body(https, paths, **extensions)
    made = {v["name"]: v for v in apigateway.get_request_validators(restApiId=api_id)["items"]}
    rules = {
        name: (v["validateRequestBody"], v["validateRequestParameters"]) for name, v in made.items()
    }
    assert rules == {"params-only": (False, True), "all": (True, True)}
    methods = methods_by_path(apigateway, api_id)
    assert methods["/a"]["GET"]["requestValidatorId"] == made["params-only"]["id"]
    assert methods["/b"]["POST"]["requestValidatorId"] == made["all"]["id"]
    # Overwritten with a body that names one validator: the other goes.
    extensions["x-amazon-apigateway-request-validators"] = {
        "params-only": validators["params-only"]
    }
    body = openapi_body({"/a": {"get": operation()}}, **extensions)
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    left = apigateway.get_request_validators(restApiId=api_id)["items"]
    assert [v["name"] for v in left] == ["params-only"]


def test_overwrite_removes_what_the_body_leaves_out_and_keeps_the_root(https):
    paths = {"/a": {"get": operation()}, "/b/c": {"get": operation()}}
    apigateway, api_id = api_with_body(https, paths)
    root_id = apigateway.get_rest_api(restApiId=api_id)["rootResourceId"]
    body = openapi_body({"/a": {"get": operation()}})
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    resources = {r["path"]: r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"]}
    assert set(resources) == {"/", "/a"}
    assert resources["/"] == root_id
    assert apigateway.get_rest_api(restApiId=api_id)["rootResourceId"] == root_id


@pytest.mark.parametrize(
    ("paths", "extensions"),
    [
        ({"/a": {"parameters": [{"name": "q", "in": "query"}], "get": operation()}}, {}),
        ({"/a": {"get": operation(security=[{"custom": []}])}}, {}),
        ({"/a": {"get": operation()}}, {"x-amazon-apigateway-request-validator": "missing"}),
    ],
    ids=["path-level parameters", "unmodelled security scheme", "undefined validator"],
)
def test_a_body_the_emulator_cannot_read_is_refused_and_changes_nothing(https, paths, extensions):
    apigateway, api_id = api_with_body(https, {"/kept": {"get": operation()}})
    with pytest.raises(ClientError) as refused:
        body = openapi_body(paths, **extensions)
        apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    assert set(methods_by_path(apigateway, api_id)) == {"/", "/kept"}


def test_import_rest_api_needs_no_description(https):
    apigateway = https.client("apigateway")
    api = apigateway.import_rest_api(body=openapi_body({"/a": {"get": operation()}}))
    assert api["name"] == "gap-api"
    assert "description" not in api
    assert set(methods_by_path(apigateway, api["id"])["/a"]) == {"GET"}


def test_a_deployment_serves_the_methods_it_was_created_with(https):
    paths = {"/a": {"get": operation(security=[{"sigv4": []}])}, "/b": {"post": operation()}}
    apigateway, api_id = api_with_body(https, paths)
    first = apigateway.create_deployment(restApiId=api_id)["id"]
    body = openapi_body({"/a": paths["/a"]})
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    second = apigateway.create_deployment(restApiId=api_id)["id"]

    def summary(deployment_id: str) -> dict:
        return apigateway.get_deployment(
            restApiId=api_id, deploymentId=deployment_id, embed=["apisummary"]
        )["apiSummary"]

    iam_get = {"GET": {"authorizationType": "AWS_IAM", "apiKeyRequired": False}}
    open_post = {"POST": {"authorizationType": "NONE", "apiKeyRequired": False}}
    assert summary(first) == {"/a": iam_get, "/b": open_post}
    assert summary(second) == {"/a": iam_get}
    assert "apiSummary" not in apigateway.get_deployment(restApiId=api_id, deploymentId=second)


def test_the_deployment_a_stage_serves_cannot_be_deleted(https):
    apigateway, api_id = api_with_body(https, {"/a": {"get": operation()}})
    first, second = (apigateway.create_deployment(restApiId=api_id)["id"] for _ in range(2))
    apigateway.create_stage(restApiId=api_id, stageName="live", deploymentId=first)
    with pytest.raises(ClientError) as refused:
        apigateway.delete_deployment(restApiId=api_id, deploymentId=first)
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    move = {"op": "replace", "path": "/deploymentId", "value": second}
    apigateway.update_stage(restApiId=api_id, stageName="live", patchOperations=[move])
    apigateway.delete_deployment(restApiId=api_id, deploymentId=first)
    assert [d["id"] for d in apigateway.get_deployments(restApiId=api_id)["items"]] == [second]


def test_a_listener_rule_cannot_take_a_priority_another_rule_holds(https):
    """Not a gap: moto refuses as AWS does (PriorityInUse), on CreateRule and on the
    SetRulePriorities call the provider makes for each rule whose priority changes. The apply
    cycle relies on it to show a change that renumbers the rules being refused."""
    ec2, elbv2 = https.client("ec2"), https.client("elbv2")
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.7.{i}.0/24", AvailabilityZone=zone)
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    balancer = elbv2.create_load_balancer(
        Name="gap-rules", Subnets=[s["Subnet"]["SubnetId"] for s in subnets]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    not_found = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=not_found
    )["Listeners"][0]["ListenerArn"]

    def create_rule(priority: int, path: str) -> str:
        condition = {"Field": "path-pattern", "Values": [path]}
        rule = elbv2.create_rule(
            ListenerArn=listener, Priority=priority, Conditions=[condition], Actions=not_found
        )
        return rule["Rules"][0]["RuleArn"]

    first = create_rule(1, "/a")
    create_rule(2, "/b")
    refused_calls = [
        lambda: create_rule(2, "/c"),
        lambda: elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": first, "Priority": 2}]),
    ]
    for call in refused_calls:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "PriorityInUse"
    rules = elbv2.describe_rules(ListenerArn=listener)["Rules"]
    assert sorted(r["Priority"] for r in rules) == ["1", "2", "default"]


POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_gap"
AUTHORIZER_SCHEMES = {
    "users": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {
            "type": "cognito_user_pools",
            "providerARNs": [POOL_ARN],
        },
    },
    "gate": {
        "type": "apiKey",
        "name": "Unused",
        "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            "type": "request",
            "identitySource": "method.request.header.Authorization",
            "authorizerUri": FUNCTION_URI,
            "authorizerResultTtlInSeconds": 60,
        },
    },
}


def body_with_authorizers(schemes: dict[str, Any], paths: dict[str, Any]) -> str:
    document = json.loads(openapi_body(paths))
    document["components"]["securitySchemes"].update(schemes)
    return json.dumps(document)


def test_openapi_authorizers_are_created_and_methods_use_them(https):
    paths = {
        "/me": {"get": operation(security=[{"users": ["orders/read"]}])},
        "/gate": {"get": operation(security=[{"gate": []}])},
    }
    apigateway = https.client("apigateway")
    api_id = apigateway.create_rest_api(name="gap-authorizers")["id"]
    body = body_with_authorizers(AUTHORIZER_SCHEMES, paths)
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    authorizers = {a["name"]: a for a in apigateway.get_authorizers(restApiId=api_id)["items"]}
    assert set(authorizers) == {"users", "gate"}
    assert (authorizers["users"]["type"], authorizers["users"]["providerARNs"]) == (
        "COGNITO_USER_POOLS",
        [POOL_ARN],
    )
    gate = authorizers["gate"]
    assert (gate["type"], gate["authorizerUri"], gate["authorizerResultTtlInSeconds"]) == (
        "REQUEST",
        FUNCTION_URI,
        60,
    )
    assert gate["identitySource"] == "method.request.header.Authorization"
    methods = methods_by_path(apigateway, api_id)
    me, gated = methods["/me"]["GET"], methods["/gate"]["GET"]
    assert (me["authorizationType"], me["authorizerId"], me["authorizationScopes"]) == (
        "COGNITO_USER_POOLS",
        authorizers["users"]["id"],
        ["orders/read"],
    )
    assert (gated["authorizationType"], gated["authorizerId"]) == ("CUSTOM", gate["id"])
    assert "authorizationScopes" not in gated
    # Overwritten without `gate`: it goes, `users` keeps its id.
    body = body_with_authorizers({"users": AUTHORIZER_SCHEMES["users"]}, {"/me": paths["/me"]})
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    after = {a["name"]: a["id"] for a in apigateway.get_authorizers(restApiId=api_id)["items"]}
    assert after == {"users": authorizers["users"]["id"]}


def test_an_api_key_scheme_is_still_refused(https):
    scheme = {"key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}
    apigateway = https.client("apigateway")
    api_id = apigateway.create_rest_api(name="gap-api-key")["id"]
    body = body_with_authorizers(scheme, {"/a": {"get": operation(security=[{"key": []}])}})
    with pytest.raises(ClientError, match="does not model security scheme 'key'"):
        apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)


def test_openapi_gateway_responses_are_set_and_overwritten(https):
    cors = {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
    responses = {"DEFAULT_4XX": {"responseParameters": cors}, "UNAUTHORIZED": {"statusCode": "401"}}
    apigateway, api_id = api_with_body(
        https,
        {"/a": {"get": operation()}},
        **{"x-amazon-apigateway-gateway-responses": responses},
    )
    found = apigateway.get_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX")
    assert found["responseParameters"] == cors
    body = openapi_body(
        {"/a": {"get": operation()}},
        **{"x-amazon-apigateway-gateway-responses": {"DEFAULT_4XX": responses["DEFAULT_4XX"]}},
    )
    apigateway.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    kinds = {
        item["responseType"]
        for item in apigateway.get_gateway_responses(restApiId=api_id)["items"]
        if item.get("responseParameters")
    }
    assert kinds == {"DEFAULT_4XX"}


def test_a_function_url_on_an_alias_is_its_own(https):
    create_function(https, "gap-url", Publish=True)
    client = https.client("lambda")
    client.create_alias(FunctionName="gap-url", Name="live", FunctionVersion="1")
    arn = client.get_function(FunctionName="gap-url")["Configuration"]["FunctionArn"]
    cors = {"AllowOrigins": ["https://app.example.com"]}
    created = client.create_function_url_config(
        FunctionName="gap-url", Qualifier="live", AuthType="AWS_IAM", Cors=cors
    )
    assert created["FunctionArn"] == f"{arn}:live"
    found = client.get_function_url_config(FunctionName="gap-url", Qualifier="live")
    assert (found["FunctionArn"], found["AuthType"], found["Cors"]) == (
        f"{arn}:live",
        "AWS_IAM",
        cors,
    )
    # The unqualified function has none of its own.
    with pytest.raises(ClientError) as missing:
        client.get_function_url_config(FunctionName="gap-url")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    client.update_function_url_config(
        FunctionName="gap-url", Qualifier="live", InvokeMode="RESPONSE_STREAM"
    )
    found = client.get_function_url_config(FunctionName="gap-url", Qualifier="live")
    assert found["InvokeMode"] == "RESPONSE_STREAM"
    client.delete_function_url_config(FunctionName="gap-url", Qualifier="live")
    with pytest.raises(ClientError):
        client.get_function_url_config(FunctionName="gap-url", Qualifier="live")


def test_a_mock_integration_of_an_openapi_body_is_imported(https):
    mock = {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200"}},
    }
    paths = {
        "/a": {
            "get": operation(),
            "options": {"responses": {}, "x-amazon-apigateway-integration": mock},
        }
    }
    apigateway, api_id = api_with_body(https, paths)
    integration = methods_by_path(apigateway, api_id)["/a"]["OPTIONS"]["methodIntegration"]
    assert integration["type"] == "MOCK"
    assert "uri" not in integration


def test_an_http_api_stage_is_updated_in_place(https):
    """Gap 28: UpdateStage replaces the settings it gives and keeps the others."""
    v2 = https.client("apigatewayv2")
    api_id = v2.create_api(Name="gap-http", ProtocolType="HTTP")["ApiId"]
    logs = {
        "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:g",
        "Format": "$context.requestId",
    }
    v2.create_stage(
        ApiId=api_id,
        StageName="$default",
        AutoDeploy=True,
        AccessLogSettings=logs,
        DefaultRouteSettings={"ThrottlingRateLimit": 10.0, "ThrottlingBurstLimit": 20},
    )
    settings = {
        "ThrottlingRateLimit": 5.0,
        "ThrottlingBurstLimit": 7,
        "DetailedMetricsEnabled": True,
    }
    answer = v2.update_stage(ApiId=api_id, StageName="$default", DefaultRouteSettings=settings)
    assert answer["DefaultRouteSettings"] == settings
    stage = v2.get_stage(ApiId=api_id, StageName="$default")
    assert stage["DefaultRouteSettings"] == settings
    assert stage["AutoDeploy"] is True
    assert stage["AccessLogSettings"] == logs


def test_an_http_apis_authorizers_are_listed(https):
    """Gap 29: GetAuthorizers lists the API's authorizers."""
    v2 = https.client("apigatewayv2")
    api_id = v2.create_api(Name="gap-authorizers", ProtocolType="HTTP")["ApiId"]
    jwt = {"Issuer": "https://issuer.example.com/", "Audience": ["api"]}
    made = v2.create_authorizer(
        ApiId=api_id,
        Name="partners",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration=jwt,
    )
    (listed,) = v2.get_authorizers(ApiId=api_id)["Items"]
    assert listed["AuthorizerId"] == made["AuthorizerId"]
    assert (listed["Name"], listed["JwtConfiguration"]) == ("partners", jwt)


def test_a_mapping_on_an_alias_answers_the_alias_it_invokes(https):
    lambda_ = https.client("lambda")
    create_function(https, "gap-consumer", Publish=True)
    alias = lambda_.create_alias(FunctionName="gap-consumer", Name="live", FunctionVersion="1")
    queue_url = https.client("sqs").create_queue(QueueName="gap-orders")["QueueUrl"]
    queue_arn = https.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    mapping = lambda_.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=alias["AliasArn"]
    )
    assert mapping["FunctionArn"] == alias["AliasArn"]
    answer = lambda_.get_event_source_mapping(UUID=mapping["UUID"])
    assert answer["FunctionArn"] == alias["AliasArn"]
    # By name and qualifier, as the console writes it: the same alias ARN.
    updated = lambda_.update_event_source_mapping(
        UUID=mapping["UUID"], FunctionName="gap-consumer:live"
    )
    assert updated["FunctionArn"] == alias["AliasArn"]


def test_a_queues_redrive_policy_is_answered_compact(https):
    """Gap 31: the redrive policy comes back as AWS writes it, without spaces."""
    sqs = https.client("sqs")
    dead = sqs.create_queue(QueueName="gap-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = f'{{"deadLetterTargetArn":"{dead_arn}","maxReceiveCount":5}}'
    queue = sqs.create_queue(QueueName="gap-live", Attributes={"RedrivePolicy": policy})
    answered = sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=["All"])
    assert answered["Attributes"]["RedrivePolicy"] == policy


def test_a_resource_server_is_updated_and_deleted(https):
    cognito = https.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="gap-resource-server")["UserPool"]["Id"]
    read = {"ScopeName": "read", "ScopeDescription": "Read orders"}
    cognito.create_resource_server(
        UserPoolId=pool_id, Identifier="orders", Name="orders", Scopes=[read]
    )
    write = {"ScopeName": "write", "ScopeDescription": "Place orders"}
    updated = cognito.update_resource_server(
        UserPoolId=pool_id, Identifier="orders", Name="orders-api", Scopes=[write]
    )["ResourceServer"]
    assert (updated["Name"], updated["Scopes"]) == ("orders-api", [write])
    found = cognito.describe_resource_server(UserPoolId=pool_id, Identifier="orders")
    assert found["ResourceServer"]["Scopes"] == [write]
    cognito.delete_resource_server(UserPoolId=pool_id, Identifier="orders")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        cognito.describe_resource_server(UserPoolId=pool_id, Identifier="orders")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        cognito.delete_resource_server(UserPoolId=pool_id, Identifier="orders")


@pytest.mark.parametrize(
    ("scopes", "refused"),
    [
        (["openid", "email", "orders/read"], None),
        (["aws.cognito.signin.user.admin", "profile", "phone"], None),
        (["orders/write"], "orders/write"),  # the server has no such scope
        (["billing/read"], "billing/read"),  # no such server
    ],
)
def test_a_client_may_only_allow_scopes_that_exist(https, scopes, refused):
    cognito = https.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="gap-client-scopes")["UserPool"]["Id"]
    oauth = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "CallbackURLs": ["https://app.example.com/callback"],
    }
    # Before the resource server exists even its own scope is refused, on create and update.
    with pytest.raises(ClientError, match="ScopeDoesNotExistException"):
        cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="early", AllowedOAuthScopes=["orders/read"], **oauth
        )
    read = {"ScopeName": "read", "ScopeDescription": "Read orders"}
    cognito.create_resource_server(
        UserPoolId=pool_id, Identifier="orders", Name="orders", Scopes=[read]
    )
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="app", **oauth)[
        "UserPoolClient"
    ]["ClientId"]
    for call, arguments in (
        (cognito.create_user_pool_client, {"ClientName": "c"}),
        (cognito.update_user_pool_client, {"ClientId": client_id}),
    ):
        if refused is None:
            answer = call(UserPoolId=pool_id, AllowedOAuthScopes=scopes, **oauth, **arguments)
            assert answer["UserPoolClient"]["AllowedOAuthScopes"] == scopes
        else:
            with pytest.raises(ClientError, match=f"ScopeDoesNotExistException.*{refused}"):
                call(UserPoolId=pool_id, AllowedOAuthScopes=scopes, **oauth, **arguments)
