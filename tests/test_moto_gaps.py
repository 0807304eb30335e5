"""Each emulator fix in tests/moto_gaps.py, shown against the moto server the tests use."""

from __future__ import annotations

import io
import json
import re
import zipfile

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
def https(tmp_path_factory) -> Endpoint:
    tls = tls_files(tmp_path_factory.mktemp("tls"))
    with moto_server(tls=tls) as url:
        yield Endpoint(url, "us-east-1", str(tls.certificate))


@pytest.fixture(scope="module")
def http() -> Endpoint:
    with moto_server() as url:
        yield Endpoint(url, "us-east-1")


def tls_only_bucket(endpoint: Endpoint, name: str) -> object:
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


def test_function_reports_the_vpc_of_its_subnets(https):
    ec2 = https.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc_id)["GroupId"]
    placement = {"SubnetIds": [subnet_id], "SecurityGroupIds": [group_id]}
    create_function(https, "vpc-function", VpcConfig=placement)
    configuration = https.client("lambda").get_function(FunctionName="vpc-function")
    assert configuration["Configuration"]["VpcConfig"]["VpcId"] == vpc_id


def lambda_deployment_group(endpoint: Endpoint, application: str) -> object:
    codedeploy = endpoint.client("codedeploy")
    codedeploy.create_application(applicationName=application, computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName="fn",
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
    change = {
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
