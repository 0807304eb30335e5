"""What exists in an AWS endpoint (the emulator), asked with boto3 as an operator would."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from tests.moto_server import TEST_CREDENTIALS


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str
    # The emulator's self-signed certificate; None over plain HTTP.
    certificate: str | None = None

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=TEST_CREDENTIALS["access_key"],
            aws_secret_access_key=TEST_CREDENTIALS["secret_key"],
            verify=self.certificate,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )


def _live_nat_gateways(ec2: Any) -> list[str]:
    gateways = ec2.describe_nat_gateways()["NatGateways"]
    return [g["NatGatewayId"] for g in gateways if g["State"] not in ("deleted", "deleting")]


def _live_customer_keys(kms: Any) -> list[str]:
    """Customer keys not scheduled for deletion. AWS-managed keys (`alias/aws/...`) are made
    by a service on first use and never deleted; moto makes DynamoDB's with KeyManager
    CUSTOMER, so the alias is what tells them apart."""
    aliases = kms.list_aliases()["Aliases"]
    managed = {a.get("TargetKeyId") for a in aliases if a["AliasName"].startswith("alias/aws/")}
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    return [
        key["KeyId"]
        for key in keys
        if key["KeyManager"] == "CUSTOMER"
        and key["KeyId"] not in managed
        and key["KeyState"] not in ("PendingDeletion", "Deleted")
    ]


def _live_vpc_endpoints(ec2: Any) -> list[str]:
    # Deleted endpoints stay listed for a while with State "deleted", as in AWS.
    endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    return [e["VpcEndpointId"] for e in endpoints if e["State"].lower() != "deleted"]


# One line per kind of resource the stacks create: how to list what exists of it.
_INVENTORY: dict[str, Callable[[Endpoint], list[str]]] = {
    "lambda functions": lambda e: [
        f["FunctionName"] for f in e.client("lambda").list_functions()["Functions"]
    ],
    "iam roles": lambda e: [r["RoleName"] for r in e.client("iam").list_roles()["Roles"]],
    "iam policies": lambda e: [
        p["PolicyName"] for p in e.client("iam").list_policies(Scope="Local")["Policies"]
    ],
    "vpcs": lambda e: [v["VpcId"] for v in e.client("ec2").describe_vpcs()["Vpcs"]],
    "subnets": lambda e: [s["SubnetId"] for s in e.client("ec2").describe_subnets()["Subnets"]],
    "security groups": lambda e: [
        g["GroupId"] for g in e.client("ec2").describe_security_groups()["SecurityGroups"]
    ],
    "internet gateways": lambda e: [
        g["InternetGatewayId"]
        for g in e.client("ec2").describe_internet_gateways()["InternetGateways"]
    ],
    "nat gateways": lambda e: _live_nat_gateways(e.client("ec2")),
    "elastic ips": lambda e: [
        a["AllocationId"] for a in e.client("ec2").describe_addresses()["Addresses"]
    ],
    "route tables": lambda e: [
        t["RouteTableId"] for t in e.client("ec2").describe_route_tables()["RouteTables"]
    ],
    "network acls": lambda e: [
        a["NetworkAclId"] for a in e.client("ec2").describe_network_acls()["NetworkAcls"]
    ],
    "vpc endpoints": lambda e: _live_vpc_endpoints(e.client("ec2")),
    "flow logs": lambda e: [
        f["FlowLogId"] for f in e.client("ec2").describe_flow_logs()["FlowLogs"]
    ],
    "load balancers": lambda e: [
        lb["LoadBalancerName"]
        for lb in e.client("elbv2").describe_load_balancers()["LoadBalancers"]
    ],
    "target groups": lambda e: [
        t["TargetGroupName"] for t in e.client("elbv2").describe_target_groups()["TargetGroups"]
    ],
    "rest apis": lambda e: [a["name"] for a in e.client("apigateway").get_rest_apis()["items"]],
    "http apis": lambda e: [a["Name"] for a in e.client("apigatewayv2").get_apis()["Items"]],
    "cognito user pools": lambda e: [
        p["Name"] for p in e.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    ],
    "web acls": lambda e: [
        a["Name"] for a in e.client("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]
    ],
    "dynamodb tables": lambda e: e.client("dynamodb").list_tables()["TableNames"],
    "s3 buckets": lambda e: [b["Name"] for b in e.client("s3").list_buckets()["Buckets"]],
    "sqs queues": lambda e: e.client("sqs").list_queues().get("QueueUrls", []),
    "event source mappings": lambda e: [
        m["UUID"] for m in e.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    ],
    "sns subscriptions": lambda e: [
        s["SubscriptionArn"] for s in e.client("sns").list_subscriptions()["Subscriptions"]
    ],
    "kms keys": lambda e: _live_customer_keys(e.client("kms")),
    "kms aliases": lambda e: [
        a["AliasName"]
        for a in e.client("kms").list_aliases()["Aliases"]
        if not a["AliasName"].startswith("alias/aws/")
    ],
    "log groups": lambda e: [
        g["logGroupName"] for g in e.client("logs").describe_log_groups()["logGroups"]
    ],
    "metric alarms": lambda e: [
        a["AlarmName"] for a in e.client("cloudwatch").describe_alarms()["MetricAlarms"]
    ],
    "dashboards": lambda e: [
        d["DashboardName"] for d in e.client("cloudwatch").list_dashboards()["DashboardEntries"]
    ],
    "sns topics": lambda e: [t["TopicArn"] for t in e.client("sns").list_topics()["Topics"]],
    "codedeploy applications": lambda e: e.client("codedeploy").list_applications()["applications"],
    "route53 records": lambda e: _records(e.client("route53")),
    "acm certificates": lambda e: [
        c["CertificateArn"] for c in e.client("acm").list_certificates()["CertificateSummaryList"]
    ],
    "api domain names": lambda e: [
        d["domainName"] for d in e.client("apigateway").get_domain_names()["items"]
    ],
    "schedules": lambda e: [
        f"{s['GroupName']}/{s['Name']}" for s in e.client("scheduler").list_schedules()["Schedules"]
    ],
    # The default group is the account's, never a stack's.
    "schedule groups": lambda e: [
        g["Name"]
        for g in e.client("scheduler").list_schedule_groups()["ScheduleGroups"]
        if g["Name"] != "default"
    ],
    "event rules": lambda e: [r["Name"] for r in e.client("events").list_rules()["Rules"]],
}


def _records(route53: Any) -> list[str]:
    """Every record of every hosted zone, as "<zone> <name> <type>"."""
    return [
        f"{zone['Name']} {record['Name']} {record['Type']}"
        for zone in route53.list_hosted_zones()["HostedZones"]
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])[
            "ResourceRecordSets"
        ]
    ]


def inventory(endpoint: Endpoint) -> dict[str, list[str]]:
    """Everything of the kinds the stacks create, sorted, kind by kind."""
    return {kind: sorted(list_them(endpoint)) for kind, list_them in _INVENTORY.items()}


def function_facts(endpoint: Endpoint, function_name: str) -> dict[str, Any]:
    lambda_ = endpoint.client("lambda")
    iam = endpoint.client("iam")
    configuration = lambda_.get_function(FunctionName=function_name)["Configuration"]
    role_name = configuration["Role"].rsplit("/", 1)[-1]
    inline = {
        name: iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    }
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    return {
        "configuration": configuration,
        "role": iam.get_role(RoleName=role_name)["Role"],
        "inline_policies": {name: _document(doc) for name, doc in inline.items()},
        "managed_policies": sorted(p["PolicyArn"] for p in attached),
    }


def load_balancer_facts(endpoint: Endpoint, dns_name: str) -> dict[str, Any]:
    elbv2 = endpoint.client("elbv2")
    wafv2 = endpoint.client("wafv2")
    (balancer,) = [
        lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["DNSName"] == dns_name
    ]
    arn = balancer["LoadBalancerArn"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    groups = _target_groups(elbv2, arn)
    targets = {
        group["TargetGroupArn"]: [
            health["Target"]["Id"]
            for health in elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
                "TargetHealthDescriptions"
            ]
        ]
        for group in groups
    }
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    rules = {
        listener["ListenerArn"]: elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        for listener in listeners
    }
    return {
        "load_balancer": balancer,
        "attributes": {item["Key"]: item["Value"] for item in attributes},
        "listeners": listeners,
        "rules": rules,
        "target_groups": groups,
        "targets": targets,
        "web_acl": wafv2.get_web_acl_for_resource(ResourceArn=arn).get("WebACL"),
    }


def _target_groups(elbv2: Any, load_balancer_arn: str) -> list[dict[str, Any]]:
    """The load balancer's target groups; moto answers TargetGroupNotFound for a load balancer
    that has none (a stack whose routes are all AWS_IAM), AWS an empty list."""
    try:
        return elbv2.describe_target_groups(LoadBalancerArn=load_balancer_arn)["TargetGroups"]
    except elbv2.exceptions.TargetGroupNotFoundException:
        return []


def api_facts(endpoint: Endpoint, invoke_url: str) -> dict[str, Any]:
    """`invoke_url` is the stage's: https://<api id>.execute-api.<region>.amazonaws.com/<stage>."""
    address = urlparse(invoke_url)
    api_id = address.netloc.split(".", 1)[0]
    stage_name = address.path.strip("/").split("/", 1)[0]
    apigateway = endpoint.client("apigateway")
    stage = apigateway.get_stage(restApiId=api_id, stageName=stage_name)
    methods = {}
    for resource in apigateway.get_resources(restApiId=api_id)["items"]:
        for http_method in resource.get("resourceMethods", {}):
            methods[f"{http_method} {resource['path']}"] = {
                **apigateway.get_method(
                    restApiId=api_id, resourceId=resource["id"], httpMethod=http_method
                ),
                "resourceId": resource["id"],
            }
    stage_arn = f"arn:aws:apigateway:{endpoint.region}::/restapis/{api_id}/stages/{stage_name}"
    web_acl = endpoint.client("wafv2").get_web_acl_for_resource(ResourceArn=stage_arn)
    # What the stage serves: its deployment's snapshot, not the API as it is now.
    served = apigateway.get_deployment(
        restApiId=api_id, deploymentId=stage["deploymentId"], embed=["apisummary"]
    )
    integrations = {
        name: apigateway.get_integration_response(
            restApiId=api_id,
            resourceId=method["resourceId"],
            httpMethod="OPTIONS",
            statusCode="200",
        )
        for name, method in methods.items()
        if name.startswith("OPTIONS ")
    }
    return {
        "stage": stage,
        "authorizers": {
            authorizer["name"]: authorizer
            for authorizer in apigateway.get_authorizers(restApiId=api_id)["items"]
        },
        "gateway_responses": {
            response["responseType"]: response
            for response in apigateway.get_gateway_responses(restApiId=api_id)["items"]
            if response.get("responseParameters")
        },
        "preflights": integrations,
        "served": served["apiSummary"],
        "deployments": [d["id"] for d in apigateway.get_deployments(restApiId=api_id)["items"]],
        "methods": methods,
        "web_acl": web_acl.get("WebACL"),
    }


def function_url_facts(endpoint: Endpoint, function_name: str) -> dict[str, Any]:
    """The function URL on the `live` alias and the function's policy there."""
    client = endpoint.client("lambda")
    url = client.get_function_url_config(FunctionName=function_name, Qualifier="live")
    return {"config": url}


def user_pool_facts(endpoint: Endpoint, pool: dict[str, str]) -> dict[str, Any]:
    """A user pool, its app client, each of its resource servers (DescribeResourceServer of
    those ListResourceServers names) and its domain, from the output `user_pools`."""
    cognito = endpoint.client("cognito-idp")
    pool_id = pool["user_pool_id"]
    described = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    listed = cognito.list_resource_servers(UserPoolId=pool_id, MaxResults=50)["ResourceServers"]
    domain = described.get("Domain")
    return {
        "pool": described,
        "client": cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=pool["client_id"])[
            "UserPoolClient"
        ],
        "resource_servers": {
            server["Identifier"]: cognito.describe_resource_server(
                UserPoolId=pool_id, Identifier=server["Identifier"]
            )["ResourceServer"]
            for server in listed
        },
        "domain": (
            cognito.describe_user_pool_domain(Domain=domain)["DomainDescription"]
            if domain
            else None
        ),
    }


def http_api_facts(endpoint: Endpoint, invoke_url: str) -> dict[str, Any]:
    """`invoke_url` is the `$default` stage's: https://<api id>.execute-api.<region>...com."""
    api_id = urlparse(invoke_url).netloc.split(".", 1)[0]
    v2 = endpoint.client("apigatewayv2")
    return {
        "api": v2.get_api(ApiId=api_id),
        "routes": {route["RouteKey"]: route for route in v2.get_routes(ApiId=api_id)["Items"]},
        "integrations": {
            item["IntegrationId"]: item for item in v2.get_integrations(ApiId=api_id)["Items"]
        },
        # Each as GetAuthorizer answers it (what the provider reads), found through the list.
        "authorizers": {
            item["AuthorizerId"]: _without_metadata(
                v2.get_authorizer(ApiId=api_id, AuthorizerId=item["AuthorizerId"])
            )
            for item in v2.get_authorizers(ApiId=api_id)["Items"]
        },
        "stages": {stage["StageName"]: stage for stage in v2.get_stages(ApiId=api_id)["Items"]},
    }


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


def table_facts(endpoint: Endpoint, table_name: str) -> dict[str, Any]:
    dynamodb = endpoint.client("dynamodb")
    backups = dynamodb.describe_continuous_backups(TableName=table_name)
    return {
        "table": dynamodb.describe_table(TableName=table_name)["Table"],
        "pitr": backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
        "ttl": dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"],
    }


def bucket_facts(endpoint: Endpoint, bucket_name: str) -> dict[str, Any]:
    s3 = endpoint.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=bucket_name)
    return {
        "encryption": encryption["ServerSideEncryptionConfiguration"]["Rules"],
        "public_access_block": s3.get_public_access_block(Bucket=bucket_name)[
            "PublicAccessBlockConfiguration"
        ],
        "policy": json.loads(s3.get_bucket_policy(Bucket=bucket_name)["Policy"]),
        "versioning": s3.get_bucket_versioning(Bucket=bucket_name).get("Status"),
        "objects": sorted(
            item["Key"] for item in s3.list_objects_v2(Bucket=bucket_name).get("Contents", [])
        ),
    }


def _document(document: str | dict) -> dict:
    return json.loads(document) if isinstance(document, str) else document


def operations_facts(endpoint: Endpoint, outputs: dict[str, Any]) -> dict[str, Any]:
    """Per function its live alias and deployment group; every alarm and where it sends."""
    lambda_ = endpoint.client("lambda")
    codedeploy = endpoint.client("codedeploy")
    functions = outputs["functions"]
    return {
        "aliases": {
            key: lambda_.get_alias(FunctionName=function["function_name"], Name="live")
            for key, function in functions.items()
        },
        "alarms": endpoint.client("cloudwatch").describe_alarms()["MetricAlarms"],
        "deployment_groups": {
            key: codedeploy.get_deployment_group(
                applicationName=outputs["codedeploy_application"],
                deploymentGroupName=function["deployment_group"],
            )["deploymentGroupInfo"]
            for key, function in functions.items()
        },
    }


def logging_facts(endpoint: Endpoint, vpc_id: str) -> dict[str, Any]:
    """The VPC's flow logs, and every log group with its retention in days (None: forever)."""
    ec2, logs = endpoint.client("ec2"), endpoint.client("logs")
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])
    return {
        "flow_logs": flow_logs["FlowLogs"],
        "log_groups": {
            group["logGroupName"]: group.get("retentionInDays")
            for group in logs.describe_log_groups()["logGroups"]
        },
    }


def domain_facts(endpoint: Endpoint, domain_name: str) -> dict[str, Any]:
    """The API's custom domain, its base path mappings, its certificate and the zone's records
    for the name (the zone found by the domain's parent name)."""
    apigateway = endpoint.client("apigateway")
    route53 = endpoint.client("route53")
    domain = apigateway.get_domain_name(domainName=domain_name)
    zone_name = domain_name.split(".", 1)[1] + "."
    (zone,) = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == zone_name]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    certificate_arn = domain["regionalCertificateArn"]
    return {
        "domain": domain,
        "mappings": apigateway.get_base_path_mappings(domainName=domain_name)["items"],
        "certificate": endpoint.client("acm").describe_certificate(CertificateArn=certificate_arn)[
            "Certificate"
        ],
        "records": records,
    }


def secret_facts(endpoint: Endpoint, parameter_names: list[str]) -> dict[str, Any]:
    """The SSM parameters by name, with their ARNs and types (values are not asked for)."""
    found = endpoint.client("ssm").get_parameters(Names=parameter_names)["Parameters"]
    return {p["Name"]: {"ARN": p["ARN"], "Type": p["Type"]} for p in found}


def provisioned_concurrency_facts(
    endpoint: Endpoint, function_name: str, qualifier: str
) -> dict[str, Any] | None:
    lambda_ = endpoint.client("lambda")
    try:
        answer = lambda_.get_provisioned_concurrency_config(
            FunctionName=function_name, Qualifier=qualifier
        )
    except lambda_.exceptions.ProvisionedConcurrencyConfigNotFoundException:
        return None
    answer.pop("ResponseMetadata", None)
    return answer


def eventbridge_facts(endpoint: Endpoint, prefix: str) -> dict[str, Any]:
    """The schedules of the group `prefix` with their roles (trust, inline policies) and
    dead-letter queues (attributes), and the rules named `prefix-...` with their targets."""
    scheduler = endpoint.client("scheduler")
    iam = endpoint.client("iam")
    sqs = endpoint.client("sqs")
    events = endpoint.client("events")
    schedules = {}
    for summary in scheduler.list_schedules(GroupName=prefix)["Schedules"]:
        schedule = scheduler.get_schedule(GroupName=prefix, Name=summary["Name"])
        role_name = schedule["Target"]["RoleArn"].rsplit("/", 1)[-1]
        queue_name = schedule["Target"]["DeadLetterConfig"]["Arn"].rsplit(":", 1)[-1]
        queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        schedules[summary["Name"]] = {
            "schedule": schedule,
            "role": iam.get_role(RoleName=role_name)["Role"],
            "role_policies": {
                name: _document(
                    iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                )
                for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
            },
            "dead_letter_queue": sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["All"]
            )["Attributes"],
        }
    rules = {
        rule["Name"]: {
            "rule": events.describe_rule(Name=rule["Name"]),
            "targets": events.list_targets_by_rule(Rule=rule["Name"])["Targets"],
        }
        for rule in events.list_rules(NamePrefix=f"{prefix}-")["Rules"]
    }
    return {"schedules": schedules, "rules": rules}


def key_policy_facts(endpoint: Endpoint, key_arn: str) -> dict[str, Any]:
    """A KMS key's policy (its only one, `default`)."""
    answer = endpoint.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")
    return _document(answer["Policy"])


def invoke_policy_facts(endpoint: Endpoint, function_name: str, qualifier: str) -> list[Any]:
    """The statements of a function's resource-based policy at `qualifier`; none when nothing
    may invoke it (a queue's consumer is invoked by its event source mapping)."""
    lambda_ = endpoint.client("lambda")
    try:
        policy = lambda_.get_policy(FunctionName=function_name, Qualifier=qualifier)
    except lambda_.exceptions.ResourceNotFoundException:
        return []
    return list(json.loads(policy["Policy"])["Statement"])


def notification_facts(endpoint: Endpoint, bucket_name: str) -> dict[str, Any]:
    """A bucket's notification configuration, without the response's metadata."""
    answer = endpoint.client("s3").get_bucket_notification_configuration(Bucket=bucket_name)
    answer.pop("ResponseMetadata", None)
    return dict(answer)


def event_facts(endpoint: Endpoint, outputs: dict[str, Any]) -> dict[str, Any]:
    """Each queue's attributes and its dead-letter queue's, every event source mapping, each
    topic and its subscriptions."""
    sqs = endpoint.client("sqs")
    queues = {}
    for key, queue in outputs.get("queues", {}).items():
        attributes = sqs.get_queue_attributes(QueueUrl=queue["url"], AttributeNames=["All"])
        dead_name = queue["dead_letter_queue_arn"].rsplit(":", 1)[-1]
        dead_url = sqs.get_queue_url(QueueName=dead_name)["QueueUrl"]
        dead = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["All"])
        queues[key] = {"queue": attributes["Attributes"], "dead_letter_queue": dead["Attributes"]}
    mappings = endpoint.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    return {"queues": queues, "mappings": mappings, "topics": _topic_facts(endpoint, outputs)}


def _topic_facts(endpoint: Endpoint, outputs: dict[str, Any]) -> dict[str, Any]:
    """Each topic's attributes and its subscriptions, each with its own attributes."""
    sns = endpoint.client("sns")
    topics = {}
    for key, arn in outputs.get("topics", {}).items():
        listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        topics[key] = {
            "attributes": sns.get_topic_attributes(TopicArn=arn)["Attributes"],
            "subscriptions": [
                sns.get_subscription_attributes(SubscriptionArn=item["SubscriptionArn"])[
                    "Attributes"
                ]
                for item in listed
            ],
        }
    return topics
