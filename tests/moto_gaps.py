"""Where moto 5.2 evaluates policies differently from AWS, and the fix the emulator runs with.

Installed in the moto server process only (`tests/moto_server.py`), never in the stack. Each
gap was seen while Terraform applied a synthesized stack against moto; `test_moto_gaps.py`
shows every fix at work.

1. Condition operators: moto evaluates only `StringEquals` and treats every other operator as
   satisfied. The buckets' TLS-only statement (`Deny s3:*` when `Bool aws:SecureTransport` is
   `false`) therefore denied every object request, even over HTTPS. Fix: `Bool` is evaluated,
   and S3 bucket policies see `aws:SecureTransport` (true when the emulator serves HTTPS).
2. A statement whose condition does not hold is, in moto, an explicit Deny; in AWS it simply
   does not apply. Fix: such a statement is neutral.
3. Lambda drops `DeadLetterConfig`: CreateFunction accepts it, GetFunction never returns it, so
   every `terraform plan` after apply wants to add `dead_letter_config` again. Fix: the function
   keeps the setting (create and UpdateFunctionConfiguration) and returns it, as AWS does.
4. S3 stores `EventBridgeConfiguration` but GetBucketNotificationConfiguration leaves it out,
   so every plan flips `eventbridge` from false back to true on `aws_s3_bucket_notification`.
   Fix: the answer includes `<EventBridgeConfiguration/>` when it is set, as AWS does.
5. Deleting a VPC leaves its default network ACL behind in moto (AWS deletes it with the VPC),
   so a destroyed stack seemed to leave an ACL. Fix: the default ACL goes with its VPC.
6. Lambda reports every function's `VpcConfig.VpcId` as the constant `vpc-123abc`. Fix: the
   VPC of the function's first subnet, as AWS reports it.
7. CodeDeploy stores a deployment group's `alarmConfiguration` but GetDeploymentGroup answers
   `{}`, so every plan wants to add the rollback alarms again (and UpdateDeploymentGroup does
   not exist in moto). Fix: the stored configuration is returned, as AWS does. It also answers
   `loadBalancerInfo: {}` for a group without load balancer, which AWS leaves out, so every
   plan wants to remove an empty `load_balancer_info` block. Fix: the empty answer is left out.
8. CodeDeploy has no DeleteDeploymentGroup and no DeleteApplication: the provider retries the
   emulator's error until its timeout, so `terraform destroy` hangs. Fix: both actions, with
   AWS's answers (DeleteApplication removes the application's groups too).
9. ACM issues a DNS-validated certificate after a timer (`MOTO_ACM_VALIDATION_WAIT`, 60 s by
   default) whether or not the validation record exists; AWS issues it once the CNAME it asked
   for resolves. Fix: the timer issues nothing; a pending certificate is issued as soon as
   every validation record it lists (name, type CNAME, value) is in one of the emulator's
   Route 53 hosted zones, so a stack that forgets a record waits, as on AWS.
10. Lambda has no Put/Get/DeleteProvisionedConcurrencyConfig: the provider's create fails on
   the emulator's 404 for an unknown URL. Fix: the three actions on a function's published
   version or alias (not `$LATEST`), answering as AWS does once the environments are warm
   (`Status: READY`, requested = allocated = available), and AWS's not-found errors.
11. Route 53 gives a hosted zone a random id of 22 letters and digits; AWS's ids begin with
   `Z` (Z1D633PJN98FT9), which the configuration checks of `domain.hosted_zone_id` rely on.
   Fix: the id's first character is a `Z`.
"""

from __future__ import annotations

from typing import Any

SECURE_TRANSPORT = "aws:SecureTransport"


def bool_operation(expected: list[str] | str, actual: str) -> bool:
    """IAM's `Bool` operator: a case-insensitive match against any of the expected values."""
    values = [expected] if isinstance(expected, str) else expected
    return actual.lower() in {str(value).lower() for value in values}


def install(*, secure_transport: bool) -> None:
    from moto.iam import access_control, policy_conditions
    from moto.s3.models import FakeBucket

    policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_operation
    _conditions_that_fail_do_not_apply(access_control)
    context = {SECURE_TRANSPORT: "true" if secure_transport else "false"}

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return access_control.PermissionResult.NEUTRAL
        policy = access_control.IAMPolicy(self.policy.decode())
        return policy.is_action_permitted(action, resource, None, context)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    _lambda_keeps_dead_letter_config()
    _notification_answer_names_eventbridge()
    _default_network_acl_goes_with_its_vpc()
    _function_reports_its_subnets_vpc()
    _deployment_group_answers_its_alarms()
    _codedeploy_deletes()
    _certificate_issued_once_validation_records_exist()
    _provisioned_concurrency()
    _hosted_zone_ids_begin_with_z()


def _conditions_that_fail_do_not_apply(access_control: Any) -> None:
    statement_class = access_control.IAMPolicyStatement
    evaluate = statement_class.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        if not self._check_conditions(incoming_condition_values):
            return access_control.PermissionResult.NEUTRAL
        return evaluate(self, action, resource, principal, incoming_condition_values)

    statement_class.is_action_permitted = is_action_permitted


def _lambda_keeps_dead_letter_config() -> None:
    from moto.awslambda.models import LambdaFunction

    create = LambdaFunction.__init__
    configuration = LambdaFunction.get_configuration
    update = LambdaFunction.update_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *rest: Any, **options: Any):
        create(self, account_id, spec, *rest, **options)
        self.dead_letter_config = spec.get("DeadLetterConfig")

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        answer = configuration(self, on_create)
        if getattr(self, "dead_letter_config", None):
            answer["DeadLetterConfig"] = self.dead_letter_config
        return answer

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"]
        return update(self, config_updates)

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]


def _notification_answer_names_eventbridge() -> None:
    from moto.s3.responses import S3Response

    answer = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        stored = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if stored is None or stored.event_bridge is None:
            return answer(self)
        serialize = self.serialized

        def with_eventbridge(result: Any) -> Any:
            result.result["EventBridgeConfiguration"] = {}
            return serialize(result)

        self.serialized = with_eventbridge
        return answer(self)

    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]


def _default_network_acl_goes_with_its_vpc() -> None:
    from moto.ec2.models import EC2Backend

    delete_vpc = EC2Backend.delete_vpc

    def delete_vpc_and_default_acl(self: Any, vpc_id: str) -> Any:
        acls = self.describe_network_acls(filters={"vpc-id": [vpc_id], "default": ["true"]})
        vpc = delete_vpc(self, vpc_id)
        for acl in acls:
            self.network_acls.pop(acl.id, None)
        return vpc

    EC2Backend.delete_vpc = delete_vpc_and_default_acl  # type: ignore[method-assign]


def _function_reports_its_subnets_vpc() -> None:
    from moto.awslambda.models import LambdaFunction
    from moto.ec2.models import ec2_backends

    placement = LambdaFunction.vpc_config

    def vpc_config(self: Any) -> dict[str, Any] | None:
        config = placement.fget(self)
        if config and config.get("SubnetIds"):
            ec2 = ec2_backends[self.account_id][self.region]
            config["VpcId"] = ec2.get_subnet(config["SubnetIds"][0]).vpc_id
        return config

    LambdaFunction.vpc_config = property(vpc_config)  # type: ignore[method-assign,assignment]


def _deployment_group_answers_its_alarms() -> None:
    from moto.codedeploy import responses

    info = responses._deployment_group_info

    def deployment_group_info(group: Any) -> dict[str, Any]:
        answer = info(group)
        answer["alarmConfiguration"] = group.alarm_configuration or {}
        if not answer.get("loadBalancerInfo"):
            answer.pop("loadBalancerInfo", None)
        return answer

    responses._deployment_group_info = deployment_group_info


def _codedeploy_deletes() -> None:
    from moto.codedeploy.models import CodeDeployBackend
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult, EmptyResult

    def delete_deployment_group(self: Any) -> Any:
        application = self._get_param("applicationName")
        group = self._get_param("deploymentGroupName")
        backend: CodeDeployBackend = self.codedeploy_backend
        backend.get_deployment_group(application, group)  # AWS's not-found errors
        del backend.deployment_groups[application][group]
        return ActionResult({"hooksNotCleanedUp": []})

    def delete_application(self: Any) -> Any:
        application = self._get_param("applicationName")
        backend: CodeDeployBackend = self.codedeploy_backend
        backend.get_application(application)
        del backend.applications[application]
        backend.deployment_groups.pop(application, None)
        return EmptyResult()

    CodeDeployResponse.delete_deployment_group = delete_deployment_group  # type: ignore[attr-defined]
    CodeDeployResponse.delete_application = delete_application  # type: ignore[attr-defined]


def _certificate_issued_once_validation_records_exist() -> None:
    from moto import settings
    from moto.acm.models import CertBundle
    from moto.route53.models import route53_backends

    # The timer never issues: only the records do (below).
    settings.ACM_VALIDATION_WAIT = 10**9
    check = CertBundle.check

    def records_in_zones(account_id: str) -> set[tuple[str, str, str]]:
        found: set[tuple[str, str, str]] = set()
        for zone in route53_backends[account_id]["aws"].zones.values():
            for record in zone.rrsets:
                for value in record.records:  # {"Value": ...} or the text, by how it came in
                    text = value["Value"] if isinstance(value, dict) else value
                    found.add((_fqdn(record.name), str(record.type), _fqdn(text)))
        return found

    def check_validation_records(self: Any) -> None:
        check(self)
        if self.type != "AMAZON_ISSUED" or self.status != "PENDING_VALIDATION":
            return
        options = self.describe()["Certificate"].get("DomainValidationOptions", [])
        wanted = {
            (
                _fqdn(option["ResourceRecord"]["Name"]),
                option["ResourceRecord"]["Type"],
                _fqdn(option["ResourceRecord"]["Value"]),
            )
            for option in options
        }
        if wanted and wanted <= records_in_zones(self.arn.split(":")[4]):
            self.status = "ISSUED"

    CertBundle.check = check_validation_records  # type: ignore[method-assign]


def _fqdn(name: str) -> str:
    """DNS names compare without case and without the root's trailing dot."""
    return name.lower().rstrip(".")


def _provisioned_concurrency() -> None:
    import json
    from datetime import UTC, datetime
    from urllib.parse import unquote

    from moto.awslambda import urls
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.responses import LambdaResponse

    path = (
        r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)"
        r"/provisioned-concurrency/?$"
    )
    urls.url_paths[path] = LambdaResponse.dispatch
    # (account, region, function name, qualifier) -> the answer of GetProvisionedConcurrencyConfig
    configs: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    class NotFound(LambdaClientError):
        code = 404

        def __init__(self, message: str) -> None:
            super().__init__("ProvisionedConcurrencyConfigNotFoundException", message)

    class ResourceNotFound(LambdaClientError):
        code = 404

        def __init__(self, message: str) -> None:
            super().__init__("ResourceNotFoundException", message)

    def key(self: Any) -> tuple[str, str, str, str]:
        name = unquote(self.path.split("/functions/", 1)[1].split("/", 1)[0]).split(":")[-1]
        function = self.backend.get_function(name)  # AWS's not-found error
        qualifier = self._get_param("Qualifier") or self.querystring.get("Qualifier", [""])[0]
        if not qualifier or qualifier == "$LATEST":
            raise LambdaClientError(
                "InvalidParameterValueException",
                "Provisioned concurrency needs a published version or an alias",
            )
        known = {v.version for v in self.backend.list_versions_by_function(name)}
        aliases = {a.name for a in self.backend.list_aliases(name)}
        if qualifier not in known | aliases:
            raise ResourceNotFound(f"Function not found: {function.function_arn}:{qualifier}")
        return (self.current_account, self.region, function.function_name, qualifier)

    def put_provisioned_concurrency_config(self: Any) -> Any:
        requested = int(json.loads(self.body)["ProvisionedConcurrentExecutions"])
        answer = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": requested,
            "AllocatedProvisionedConcurrentExecutions": requested,
            "Status": "READY",
            "LastModified": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        }
        configs[key(self)] = answer
        return 202, {}, json.dumps(answer)

    def get_provisioned_concurrency_config(self: Any) -> Any:
        found = configs.get(key(self))
        if found is None:
            raise NotFound("No Provisioned Concurrency Config found for this function")
        return 200, {}, json.dumps(found)

    def delete_provisioned_concurrency_config(self: Any) -> Any:
        if configs.pop(key(self), None) is None:
            raise NotFound("No Provisioned Concurrency Config found for this function")
        return 204, {}, ""

    for action in (
        put_provisioned_concurrency_config,
        get_provisioned_concurrency_config,
        delete_provisioned_concurrency_config,
    ):
        setattr(LambdaResponse, action.__name__, action)


def _hosted_zone_ids_begin_with_z() -> None:
    from moto.route53.models import HostedZoneIdentifier

    generate = HostedZoneIdentifier.generate

    def generate_z(self: Any, *arguments: Any, **options: Any) -> str:
        return "Z" + generate(self, *arguments, **options)[1:]

    HostedZoneIdentifier.generate = generate_z  # type: ignore[method-assign]
