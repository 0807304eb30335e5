"""Where moto 5.2 differs from AWS in what the stacks rely on, and the fix the emulator runs with.

Installed in the moto server process only (`tests/moto_server.py`), never in the stack. Gaps
1-11 and 20 were seen while Terraform applied a synthesized stack against moto, 12-19 while
applying a REST API defined by an OpenAPI body, 21-23 while upgrading a stack in place;
`test_moto_gaps.py` shows every fix at work.

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
   `{}`, so every plan wants to add the rollback alarms again. Fix: the stored configuration
   is returned, as AWS does. It also answers `loadBalancerInfo: {}` for a group without load
   balancer, which AWS leaves out, so every plan wants to remove an empty `load_balancer_info`
   block. Fix: the empty answer is left out. (Changing the alarms: gap 22.)
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

API Gateway with the whole REST API in an OpenAPI 3 body (PutRestApi, as the provider sends
`body`; ImportRestApi), and the deployments that serve it:

12. moto makes every key of a path item a method: `x-amazon-apigateway-any-method` becomes a
   method of that name instead of `ANY`, and a path-level `parameters`, `summary` or
   `description` is a method or crashes the request (HTTP 500). It keeps the integration's
   `type` as written (`aws_proxy`); AWS answers `AWS_PROXY`. Fix: only operations are methods,
   the any-method as `ANY`; the integration type in capitals.
13. moto gives every imported method `authorizationType: null`. AWS: `AWS_IAM` when the
   operation's `security` names a scheme with `x-amazon-apigateway-authtype: awsSigv4`, `NONE`
   when it names none (a document-level `security` applies to no method). Fix: as AWS; a
   scheme the emulator does not model (authorizers, API keys) is refused, not answered wrongly.
14. moto imports no request parameters. AWS: each of the operation's `parameters` in `path`,
   `query` or `header` becomes `method.request.<path|querystring|header>.<name>`, true when
   `required`. Fix: as AWS; a non-empty path-level `parameters` (AWS's handling unverified) is
   refused.
15. moto ignores `x-amazon-apigateway-request-validators` and `-request-validator`. AWS
   creates the validators and gives each method the one it names, else the document's
   default. Fix: as AWS; a name no validator has is refused.
16. In mode `overwrite` moto makes a new root resource, and GetRestApi's `rootResourceId`
   keeps naming the deleted one. AWS keeps the root resource. Fix: the root keeps its id.
17. ImportRestApi fails (HTTP 500) when `info` has no `description`, which OpenAPI and AWS
   leave optional. Fix: the description is optional.
18. A deployment keeps no snapshot and GetDeployment ignores `embed=apisummary`. AWS freezes
   the API's methods when the deployment is created, and answers `apiSummary: {path: {method:
   {authorizationType, apiKeyRequired}}}` for them. Fix: as AWS.
19. DeleteDeployment is refused only for a deployment created with a `stageName` while a stage
   of that name exists, so the deployment a stage serves can be deleted when it was created
   without one (as Terraform creates them). AWS refuses while any stage points to it. Fix: as
   AWS.

A security group rule that names another group (`referenced_security_group_id`):

20. DescribeSecurityGroupRules answers no `Description` for such a rule (moto reads it only
   from a CIDR range), so every plan after apply wants to add the description again (seen on
   the SSM interface endpoint's `https-in` rule). Fix: the rule's description wherever it was
   given, as AWS answers it.

Renames, met when an upgrade gives the CodeDeploy application and its deployment groups new
names (the provider renames both in place):

21. CodeDeploy has no UpdateApplication: the provider retries the emulator's HTTP 500 until
   its timeout, so the apply hangs. AWS renames the application (`newApplicationName`); its
   deployment groups and deployments stay with it, and its tags, and its groups' tags, are
   found under the new ARNs (which are made of the names). Fix: as AWS; a name another
   application has is refused (ApplicationAlreadyExistsException).
22. CodeDeploy has no UpdateDeploymentGroup. AWS replaces each setting the request gives,
   keeps the others, and renames the group with `newDeploymentGroupName` (its tags found under
   the new ARN). Fix: as AWS; a name another group of the application has is refused
   (DeploymentGroupAlreadyExistsException).

A function whose environment goes away (met when the upgrade leaves a function with nothing
granted, so with no environment variables and no key for them):

23. UpdateFunctionConfiguration ignores `KMSKeyArn`: the key stays, and every plan after the
   apply wants to remove `kms_key_arn` again. AWS sets the key the request names, and an empty
   string returns the function to Lambda's default key, after which GetFunction answers no
   `KMSKeyArn` (API reference, UpdateFunctionConfiguration). Fix: as AWS.

Authorizers and CORS in the OpenAPI body (met when dev got a user pool authorizer and CORS):

24. moto creates no authorizer from a security scheme's `x-amazon-apigateway-authorizer` and
   gap 13's fix refused such schemes. AWS creates one authorizer per scheme, named after it
   (`cognito_user_pools` -> `COGNITO_USER_POOLS` with its `providerARNs`, `request` and
   `token` -> `REQUEST` / `TOKEN` with `identitySource`, `authorizerUri`,
   `authorizerResultTtlInSeconds`), and a method whose `security` names it gets
   `authorizationType` `COGNITO_USER_POOLS` (or `CUSTOM`), its `authorizerId` and the
   requirement's scopes as `authorizationScopes` (developer guide,
   "x-amazon-apigateway-authorizer object"). Fix: as AWS; in mode `overwrite` an authorizer
   the body no longer names goes, one named again keeps its id (as validators, gap 15).
25. moto ignores `x-amazon-apigateway-gateway-responses`. AWS sets each listed gateway
   response (`statusCode`, `responseParameters`, `responseTemplates`; developer guide,
   "x-amazon-apigateway-gateway-responses object"). Fix: as AWS; in mode `overwrite` the
   responses the body no longer lists are removed (back to API Gateway's defaults).

A function URL on an alias (met when dev's `escape` got one on `live`):

26. moto ignores the `Qualifier` of Create/Get/Update/DeleteFunctionUrlConfig: one URL per
   function, answered with the unqualified `FunctionArn`, and UpdateFunctionUrlConfig drops
   `InvokeMode`. AWS keeps a URL per qualifier (the function itself or an alias) and answers
   the qualified ARN (`...:function:<name>:live`; API reference, GetFunctionUrlConfig). Fix:
   as AWS; each qualifier its own URL, a missing one answered 404.
27. moto's OpenAPI import fails (HTTP 500, `put_integration() missing 2 required positional
   arguments: 'uri' and 'integration_method'`) on an integration without `uri` and
   `httpMethod`, which a MOCK integration (the CORS preflights) has neither of; the provider
   retried the 500 until the harness stopped dev's apply after 900 s. AWS imports it (developer
   guide, "x-amazon-apigateway-integration object": `uri` and `httpMethod` only for the
   HTTP/AWS types). Fix: as AWS; the MOCK integration answers no `uri`.
An HTTP API (API Gateway v2), found by reading moto's `apigatewayv2` and calling it with boto3
the way the provider changes a stage:

28. apigatewayv2 has no UpdateStage (PATCH /v2/apis/<id>/stages/<name>): HTTP 500, so the
   provider retries until its timeout when a change of `api.throttling_*` updates the
   `$default` stage in place. AWS replaces each setting the request gives and keeps the
   others (API reference, UpdateStage). Fix: as AWS.
29. apigatewayv2 has no GetAuthorizers (the list; HTTP 500): the apply cycle could not read an
   HTTP API's authorizers. AWS lists them (`Items`). Fix: as AWS.

An event source mapping on an alias (met when dev got its queue worker):

30. An event source mapping created (or updated) with an alias ARN or `name:alias` answers the
   version the alias pointed to as `FunctionArn`; AWS answers the alias it invokes, which a
   release moves. Fix: as AWS.
31. GetQueueAttributes answers `RedrivePolicy` as Python's `json.dumps` writes it (`", "` and
   `": "`); AWS answers it compact (`{"deadLetterTargetArn":"...","maxReceiveCount":5}`, the
   SQS API reference's and the CLI's examples), and the provider, comparing the text, planned a
   whitespace change on every re-plan. Fix: as AWS.

A Cognito user pool with a resource server and its hosted sign-in (read before the `httpapi`
cycle got custom scopes):

35. cognito-idp has no UpdateResourceServer and no DeleteResourceServer (HTTP 500), which the
   provider calls to change and to destroy `aws_cognito_resource_server` (found by reading
   moto's responses before the cycle applied one). AWS replaces the
   server's name and scopes (UpdateResourceServer: "If you don't provide a value for an
   attribute, it is set to the default value") and deletes it (API reference). Fix: as AWS;
   an unknown identifier answers `ResourceNotFoundException`.
36. CreateUserPoolClient and UpdateUserPoolClient accept any `AllowedOAuthScopes`; AWS
   refuses a scope that is neither a standard one (`phone`, `email`, `openid`, `profile`,
   `aws.cognito.signin.user.admin`) nor `<identifier>/<name>` of one of the pool's resource
   servers (`ScopeDoesNotExistException`, API reference, CreateUserPoolClient errors), so a
   stack creating the client before its resource server applied here and failed on AWS.
   Fix: as AWS.
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

    # A patch of moto: its operations name their parameters differently.
    policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_operation  # type: ignore[assignment]
    _conditions_that_fail_do_not_apply(access_control)
    context = {SECURE_TRANSPORT: "true" if secure_transport else "false"}

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return access_control.PermissionResult.NEUTRAL
        policy = access_control.IAMPolicy(self.policy.decode())
        return policy.is_action_permitted(action, resource, None, context)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    _lambda_keeps_dead_letter_config()
    _lambda_updates_its_environment_key()
    _notification_answer_names_eventbridge()
    _default_network_acl_goes_with_its_vpc()
    _function_reports_its_subnets_vpc()
    _deployment_group_answers_its_alarms()
    _codedeploy_deletes()
    _codedeploy_renames_and_updates()
    _certificate_issued_once_validation_records_exist()
    _provisioned_concurrency()
    _hosted_zone_ids_begin_with_z()
    _group_rules_answer_their_description()
    _openapi_body_as_aws_reads_it()
    _deployments_snapshot_the_api()
    _deployment_served_by_a_stage_is_kept()
    _function_urls_per_qualifier()
    _http_api_stage_updates_and_authorizer_lists()
    _mapping_keeps_the_alias_it_invokes()
    _resource_servers_update_and_delete()
    _client_scopes_must_exist()
    _redrive_policy_as_aws_writes_it()


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


def _lambda_updates_its_environment_key() -> None:
    from moto.awslambda.models import LambdaFunction

    update = LambdaFunction.update_configuration

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        return update(self, config_updates)

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
        config = placement.fget(self)  # type: ignore[attr-defined]  # a property of moto's
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

    responses._deployment_group_info = deployment_group_info  # type: ignore[assignment]


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


# UpdateDeploymentGroup's settings and the attribute of moto's deployment group each replaces.
DEPLOYMENT_GROUP_SETTINGS = {
    "deploymentConfigName": "deployment_config_name",
    "ec2TagFilters": "ec2_tag_filters",
    "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
    "autoScalingGroups": "auto_scaling_groups",
    "serviceRoleArn": "service_role_arn",
    "triggerConfigurations": "trigger_configurations",
    "alarmConfiguration": "alarm_configuration",
    "autoRollbackConfiguration": "auto_rollback_configuration",
    "outdatedInstancesStrategy": "outdated_instances_strategy",
    "deploymentStyle": "deployment_style",
    "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
    "loadBalancerInfo": "load_balancer_info",
    "ec2TagSet": "ec2_tag_set",
    "ecsServices": "ecs_services",
    "onPremisesTagSet": "on_premises_tag_set",
    "terminationHookEnabled": "termination_hook_enabled",
}


def _move_tags(tagger: Any, old_arn: str, new_arn: str) -> None:
    """moto keeps tags by ARN; a CodeDeploy ARN is made of names, so a rename moves them."""
    if old_arn in tagger.tags:
        tagger.tags[new_arn] = tagger.tags.pop(old_arn)


def _codedeploy_renames_and_updates() -> None:
    from moto.codedeploy.exceptions import (
        ApplicationAlreadyExistsException,
        DeploymentGroupAlreadyExistsException,
    )
    from moto.codedeploy.models import CodeDeployBackend
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult, EmptyResult

    def rename_application(backend: CodeDeployBackend, old: str, new: str) -> None:
        application = backend.get_application(old)  # AWS's not-found error
        if new in backend.applications:
            raise ApplicationAlreadyExistsException(
                f"The application {new} already exists with the user or AWS account."
            )
        groups = backend.deployment_groups.pop(old, {})
        _move_tags(backend.tagger, backend._application_arn(old), backend._application_arn(new))
        for group in groups:
            _move_tags(
                backend.tagger,
                backend._deployment_group_arn(old, group),
                backend._deployment_group_arn(new, group),
            )
        del backend.applications[old]
        application.application_name = new
        backend.applications[new] = application
        if groups:
            backend.deployment_groups[new] = groups
        for deployment in backend.deployments.values():
            if deployment.application is application:
                deployment.application_name = new

    def update_application(self: Any) -> Any:
        old = self._get_param("applicationName")
        new = self._get_param("newApplicationName")
        backend: CodeDeployBackend = self.codedeploy_backend
        if new and new != old:
            rename_application(backend, old, new)
        else:
            backend.get_application(old)
        return EmptyResult()

    def rename_group(backend: CodeDeployBackend, application: str, old: str, new: str) -> None:
        groups = backend.deployment_groups[application]
        if new in groups:
            raise DeploymentGroupAlreadyExistsException(f"Deployment group {new} already exists.")
        group = groups.pop(old)
        _move_tags(
            backend.tagger,
            backend._deployment_group_arn(application, old),
            backend._deployment_group_arn(application, new),
        )
        group.deployment_group_name = new
        groups[new] = group
        for deployment in backend.deployments.values():
            if deployment.deployment_group is group:
                deployment.deployment_group_name = new

    def update_deployment_group(self: Any) -> Any:
        application = self._get_param("applicationName")
        current = self._get_param("currentDeploymentGroupName")
        new = self._get_param("newDeploymentGroupName")
        backend: CodeDeployBackend = self.codedeploy_backend
        group = backend.get_deployment_group(application, current)  # AWS's not-found errors
        if new and new != current:
            rename_group(backend, application, current, new)
        for parameter, attribute in DEPLOYMENT_GROUP_SETTINGS.items():
            value = self._get_param(parameter)
            if value is not None:
                setattr(group, attribute, value)
        return ActionResult({"hooksNotCleanedUp": []})

    CodeDeployResponse.update_application = update_application  # type: ignore[attr-defined]
    CodeDeployResponse.update_deployment_group = update_deployment_group  # type: ignore[attr-defined]


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


def _group_rules_answer_their_description() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self: Any) -> str | None:
        return self.ip_range.get("Description") or self.source_group.get("Description")

    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]


# OpenAPI path-item keys that are operations, and the API Gateway method each becomes.
OPENAPI_OPERATIONS = {
    **{key: key.upper() for key in ("get", "put", "post", "delete", "options", "head", "patch")},
    "x-amazon-apigateway-any-method": "ANY",
}
# Where an operation's parameter is, and where a method request parameter is.
PARAMETER_LOCATIONS = {"path": "path", "query": "querystring", "header": "header"}
AUTHTYPE = "x-amazon-apigateway-authtype"
AUTHORIZER = "x-amazon-apigateway-authorizer"
GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"
# An authorizer's type in the body, as API Gateway stores it, and a method's authorization.
AUTHORIZER_TYPES = {
    "cognito_user_pools": "COGNITO_USER_POOLS",
    "request": "REQUEST",
    "token": "TOKEN",
}
METHOD_AUTHORIZATIONS = {
    "COGNITO_USER_POOLS": "COGNITO_USER_POOLS",
    "REQUEST": "CUSTOM",
    "TOKEN": "CUSTOM",
}
INTEGRATION = "x-amazon-apigateway-integration"
REQUEST_VALIDATOR = "x-amazon-apigateway-request-validator"
REQUEST_VALIDATORS = "x-amazon-apigateway-request-validators"


def _openapi_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, API Gateway method, operation) for each operation of the body's paths."""
    found = []
    for path, item in document.get("paths", {}).items():
        if item.get("parameters"):
            raise _not_modelled(f"paths.{path}.parameters (declare them on each operation)")
        for key, operation in item.items():
            if key in OPENAPI_OPERATIONS:
                found.append((path, OPENAPI_OPERATIONS[key], operation))
    return found


def _not_modelled(where: str) -> Exception:
    from moto.apigateway.exceptions import BadRequestException

    return BadRequestException(f"The emulator does not model {where} of an OpenAPI body")


def _authorization(
    document: dict[str, Any], operation: dict[str, Any]
) -> tuple[str, str | None, list[str] | None]:
    """The method's authorization type, the name of its authorizer and its scopes."""
    schemes = document.get("components", {}).get("securitySchemes", {})
    requirements = operation.get("security", [])
    named = {name: scopes for requirement in requirements for name, scopes in requirement.items()}
    if not named:
        return "NONE", None, None
    if len(named) > 1:
        raise _not_modelled(f"security {requirements} (more than one scheme)")
    [(name, scopes)] = named.items()
    scheme = schemes.get(name, {})
    if scheme.get(AUTHTYPE) == "awsSigv4":
        return "AWS_IAM", None, None
    if AUTHORIZER in scheme:
        authorizer_type = _authorizer_type(name, scheme)
        return METHOD_AUTHORIZATIONS[authorizer_type], name, list(scopes) or None
    raise _not_modelled(f"security scheme {name!r}")


def _authorizer_type(name: str, scheme: dict[str, Any]) -> str:
    found = AUTHORIZER_TYPES.get(str(scheme[AUTHORIZER].get("type", "")).lower())
    if found is None:
        raise _not_modelled(f"authorizer {name!r} of type {scheme[AUTHORIZER].get('type')!r}")
    return found


def _put_authorizers(api: Any, document: dict[str, Any], mode: str) -> dict[str, str]:
    """The body's authorizers by name -> id. An authorizer named again keeps its id; in mode
    `overwrite` the ones the body no longer names go."""
    schemes = document.get("components", {}).get("securitySchemes", {})
    wanted = {name: scheme for name, scheme in schemes.items() if AUTHORIZER in scheme}
    by_name = {authorizer.name: authorizer for authorizer in api.authorizers.values()}
    if mode == "overwrite":
        for name, authorizer in by_name.items():
            if name not in wanted:
                del api.authorizers[authorizer.id]
    ids = {}
    for name, scheme in wanted.items():
        settings = scheme[AUTHORIZER]
        authorizer = by_name.get(name)
        if authorizer is None:
            from moto.apigateway.utils import ApigwAuthorizerIdentifier

            authorizer_id = ApigwAuthorizerIdentifier(api.account_id, api.region_name, name)
            authorizer = api.create_authorizer(
                authorizer_id.generate(),
                name,
                _authorizer_type(name, scheme),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
        authorizer.type = _authorizer_type(name, scheme)
        authorizer.provider_arns = settings.get("providerARNs")
        authorizer.authorizer_uri = settings.get("authorizerUri")
        authorizer.identity_source = settings.get("identitySource")
        authorizer.authorizer_result_ttl = settings.get("authorizerResultTtlInSeconds", 300)
        ids[name] = authorizer.id
    return ids


def _put_gateway_responses(api: Any, document: dict[str, Any], mode: str) -> None:
    """The body's gateway responses; in mode `overwrite` the others return to the defaults."""
    wanted = document.get(GATEWAY_RESPONSES, {})
    if mode == "overwrite":
        for kind in list(api.gateway_responses):
            if kind not in wanted:
                del api.gateway_responses[kind]
    for kind, response in wanted.items():
        api.put_gateway_response(
            kind,
            status_code=response.get("statusCode"),
            response_parameters=response.get("responseParameters"),
            response_templates=response.get("responseTemplates"),
        )


def _request_parameters(operation: dict[str, Any]) -> dict[str, bool] | None:
    parameters = {}
    for parameter in operation.get("parameters", []):
        location = PARAMETER_LOCATIONS.get(parameter.get("in", ""))
        if location is None or "name" not in parameter:
            raise _not_modelled(f"parameter {parameter}")
        key = f"method.request.{location}.{parameter['name']}"
        parameters[key] = bool(parameter.get("required", False))
    return parameters or None


def _validator_name(document: dict[str, Any], operation: dict[str, Any]) -> str | None:
    name = operation.get(REQUEST_VALIDATOR, document.get(REQUEST_VALIDATOR))
    if name is not None and name not in document.get(REQUEST_VALIDATORS, {}):
        from moto.apigateway.exceptions import BadRequestException

        raise BadRequestException(f"Request validator {name!r} is not defined in the body")
    return name


def _as_moto_reads_it(document: dict[str, Any]) -> dict[str, Any]:
    """The body with only operations under each path (moto makes a method of every key), keyed
    by method, and each integration's type in capitals, as AWS stores it."""
    paths: dict[str, dict[str, Any]] = {path: {} for path in document.get("paths", {})}
    for path, method, operation in _openapi_operations(document):
        integration = operation.get(INTEGRATION, {})
        if "type" in integration:
            # A MOCK integration has no uri or httpMethod, which moto's import cannot leave out
            # (gap 27): given empty here, removed again after the import.
            upper = {
                "uri": "",
                "httpMethod": "",
                **integration,
                "type": integration["type"].upper(),
            }
            operation = {**operation, INTEGRATION: upper}
        paths[path][method] = operation
    return {**document, "paths": paths}


def _keep_root_resource(api: Any, root_id: str) -> None:
    """moto's overwrite made a new root resource: give it back the root's id."""
    root = api.default
    if root.id == root_id:
        return
    del api.resources[root.id]
    for resource in api.resources.values():
        if resource.parent_id == root.id:
            resource.parent_id = root_id
    root.id = root_id
    api.resources[root_id] = root


def _put_request_validators(api: Any, document: dict[str, Any], mode: str) -> dict[str, str]:
    """The body's validators by name -> id. A validator named again keeps its id; in mode
    `overwrite` the ones the body no longer names go."""
    wanted = document.get(REQUEST_VALIDATORS, {})
    by_name = {validator.name: validator for validator in api.request_validators.values()}
    if mode == "overwrite":
        for name, validator in by_name.items():
            if name not in wanted:
                del api.request_validators[validator.id]
    ids = {}
    for name, rules in wanted.items():
        validator = by_name.get(name) or api.create_request_validator(name, False, False)
        validator.validate_request_body = bool(rules.get("validateRequestBody", False))
        validator.validate_request_parameters = bool(rules.get("validateRequestParameters", False))
        ids[name] = validator.id
    return ids


def _openapi_body_as_aws_reads_it() -> None:
    from moto.apigateway.models import APIGatewayBackend

    put = APIGatewayBackend.put_rest_api
    import_api = APIGatewayBackend.import_rest_api

    def put_rest_api(
        self: Any,
        function_id: str,
        api_doc: dict[str, Any],
        fail_on_warnings: bool,
        mode: str = "merge",
    ) -> Any:
        api = self.get_rest_api(function_id)
        # Everything the body says is read before anything changes: a refused body changes
        # nothing, as on AWS.
        methods = {
            (path, method): (
                _authorization(api_doc, operation),
                _request_parameters(operation),
                _validator_name(api_doc, operation),
            )
            for path, method, operation in _openapi_operations(api_doc)
        }
        root_id = api.root_resource_id
        put(self, function_id, _as_moto_reads_it(api_doc), fail_on_warnings, mode)
        _keep_root_resource(api, root_id)
        validator_ids = _put_request_validators(api, api_doc, mode)
        authorizer_ids = _put_authorizers(api, api_doc, mode)
        _put_gateway_responses(api, api_doc, mode)
        for (path, method), (authorization, parameters, validator) in methods.items():
            imported = api.get_resource_for_path(path).get_method(method)
            imported.authorization_type, authorizer, imported.authorization_scopes = authorization
            imported.authorizer_id = authorizer_ids[authorizer] if authorizer else None
            imported.request_parameters = parameters
            imported.request_validator_id = validator_ids[validator] if validator else None
            if imported.method_integration is not None and not imported.method_integration.uri:
                imported.method_integration.uri = None
        return api

    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        # moto reads info.description unconditionally; the API has none when the body has none.
        info = {"description": "", **api_doc["info"]}
        api = import_api(self, {**api_doc, "info": info}, fail_on_warnings)
        api.description = api_doc["info"].get("description")
        return api

    APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]
    APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]


def _deployments_snapshot_the_api() -> None:
    import json

    from moto.apigateway.models import RestAPI
    from moto.apigateway.responses import APIGatewayResponse

    create = RestAPI.create_deployment
    answer = APIGatewayResponse.get_deployment

    def create_deployment(self: Any, *arguments: Any, **options: Any) -> Any:
        deployment = create(self, *arguments, **options)
        # What this deployment serves, whatever later happens to the API's methods.
        deployment.api_summary = {  # type: ignore[attr-defined]  # an attribute of the patch's
            resource.get_path(): {
                name: {
                    "authorizationType": method.authorization_type,
                    "apiKeyRequired": bool(method.api_key_required),
                }
                for name, method in resource.resource_methods.items()
            }
            for resource in self.resources.values()
            if resource.resource_methods
        }
        return deployment

    def get_deployment(self: Any) -> str:
        found = json.loads(answer(self))
        embeds = {e for value in self.querystring.get("embed", []) for e in value.split(",")}
        if "apisummary" in embeds:
            api_id, deployment_id = self.path.split("/")[2:5:2]
            deployment = self.backend.get_deployment(api_id, deployment_id)
            found["apiSummary"] = deployment.api_summary
        return json.dumps(found)

    RestAPI.create_deployment = create_deployment  # type: ignore[method-assign]
    APIGatewayResponse.get_deployment = get_deployment  # type: ignore[method-assign]


def _deployment_served_by_a_stage_is_kept() -> None:
    from moto.apigateway.exceptions import DeploymentNotFoundException, StageStillActive
    from moto.apigateway.models import RestAPI

    def delete_deployment(self: Any, deployment_id: str) -> Any:
        if deployment_id not in self.deployments:
            raise DeploymentNotFoundException()
        if any(stage.deployment_id == deployment_id for stage in self.stages.values()):
            raise StageStillActive()
        return self.deployments.pop(deployment_id)

    RestAPI.delete_deployment = delete_deployment  # type: ignore[method-assign]


def _function_urls_per_qualifier() -> None:
    import json
    from urllib.parse import unquote

    from moto.awslambda.exceptions import GenericResourcNotFound
    from moto.awslambda.models import FunctionUrlConfig
    from moto.awslambda.responses import LambdaResponse

    def url_configs(response: Any) -> tuple[dict[str | None, Any], Any, str | None]:
        name = unquote(response.path.split("/")[-2])
        function = response.backend._lambdas.get_function_by_name_or_arn_forbid_qualifier(name)
        qualifier = response.querystring.get("Qualifier", [None])[0]
        if not hasattr(function, "url_configs"):
            function.url_configs = {}
        return function.url_configs, function, qualifier

    def answer(config: Any, qualifier: str | None) -> str:
        found = config.to_dict()
        if qualifier is not None:
            found["FunctionArn"] = f"{found['FunctionArn']}:{qualifier}"
        return json.dumps(found)

    def create(self: Any) -> Any:
        configs, function, qualifier = url_configs(self)
        configs[qualifier] = FunctionUrlConfig(function=function, config=self.json_body)
        return 201, {"status": 201}, answer(configs[qualifier], qualifier)

    def get(self: Any) -> Any:
        configs, _, qualifier = url_configs(self)
        if qualifier not in configs:
            raise GenericResourcNotFound()
        return 200, {"status": 200}, answer(configs[qualifier], qualifier)

    def update(self: Any) -> str:
        configs, _, qualifier = url_configs(self)
        if qualifier not in configs:
            raise GenericResourcNotFound()
        configs[qualifier].config.update(self.json_body)
        return answer(configs[qualifier], qualifier)

    def delete(self: Any) -> Any:
        configs, _, qualifier = url_configs(self)
        if configs.pop(qualifier, None) is None:
            raise GenericResourcNotFound()
        return 204, {"status": 204}, "{}"

    LambdaResponse.create_function_url_config = create  # type: ignore[method-assign]
    LambdaResponse.get_function_url_config = get  # type: ignore[method-assign]
    LambdaResponse.update_function_url_config = update  # type: ignore[method-assign]
    LambdaResponse.delete_function_url_config = delete  # type: ignore[method-assign]


# UpdateStage's settings and the attribute of moto's apigatewayv2 stage each replaces.
HTTP_API_STAGE_SETTINGS = {
    "accessLogSettings": "access_log_settings",
    "autoDeploy": "auto_deploy",
    "clientCertificateId": "client_certificate_id",
    "defaultRouteSettings": "default_route_settings",
    "description": "description",
    "routeSettings": "route_settings",
    "stageVariables": "stage_variables",
}


def _http_api_stage_updates_and_authorizer_lists() -> None:
    import json
    from datetime import datetime
    from urllib.parse import unquote

    from moto.apigatewayv2.responses import ApiGatewayV2Response

    def update_stage(self: Any) -> Any:
        parts = self.path.split("/")
        api_id, stage_name = parts[-3], unquote(parts[-1])
        stage = self.apigatewayv2_backend.get_stage(api_id, stage_name)
        changes = json.loads(self.body or "{}")
        for setting, attribute in HTTP_API_STAGE_SETTINGS.items():
            if setting in changes:
                setattr(stage, attribute, changes[setting])
        stage.updated = datetime.now()
        return 200, {}, json.dumps(stage.to_json())

    def get_authorizers(self: Any) -> Any:
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
        items = [authorizer.to_json() for authorizer in api.authorizers.values()]
        return 200, {}, json.dumps({"items": items})

    ApiGatewayV2Response.update_stage = update_stage  # type: ignore[attr-defined]
    ApiGatewayV2Response.get_authorizers = get_authorizers  # type: ignore[attr-defined]


def _mapping_keeps_the_alias_it_invokes() -> None:
    """An event source mapping created (or updated) with a qualified function ARN or
    `name:alias` answers that alias as its FunctionArn, as AWS does; moto resolved the alias
    and answered the version it pointed to (`...:worker:1`), which a release would move."""
    from moto.awslambda.models import LambdaBackend

    create = LambdaBackend.create_event_source_mapping
    update = LambdaBackend.update_event_source_mapping

    def qualified(backend: Any, function_name: str) -> str | None:
        if function_name.startswith("arn:"):
            return function_name if function_name.count(":") == 7 else None
        name, _, qualifier = function_name.partition(":")
        if not qualifier:
            return None
        region, account = backend.region_name, backend.account_id
        return f"arn:aws:lambda:{region}:{account}:function:{name}:{qualifier}"

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        mapping = create(self, spec)
        mapping.function_arn = qualified(self, spec["FunctionName"]) or mapping.function_arn
        return mapping

    def update_event_source_mapping(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
        mapping = update(self, uuid, spec)
        if mapping is not None and "FunctionName" in spec:
            mapping.function_arn = qualified(self, spec["FunctionName"]) or mapping.function_arn
        return mapping

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
    LambdaBackend.update_event_source_mapping = update_event_source_mapping  # type: ignore[method-assign]


def _redrive_policy_as_aws_writes_it() -> None:
    import json

    from moto.sqs.models import Queue

    answered = vars(Queue)["attributes"]

    def attributes(self: Any) -> dict[str, Any]:
        result = dict(answered.fget(self))
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]


def _resource_servers_update_and_delete() -> None:
    from moto.cognitoidp.exceptions import ResourceNotFoundError
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult, EmptyResult

    def resource_server(response: Any) -> Any:
        pool = response.backend.describe_user_pool(response._get_param("UserPoolId"))
        identifier = response._get_param("Identifier")
        if identifier not in pool.resource_servers:
            raise ResourceNotFoundError(f"Resource server {identifier} does not exist.")
        return pool, identifier

    def update_resource_server(self: Any) -> Any:
        pool, identifier = resource_server(self)
        server = pool.resource_servers[identifier]
        # Whatever the request leaves out returns to its default (no scopes).
        server.name = self._get_param("Name")
        server.scopes = self._get_param("Scopes") or []
        return ActionResult({"ResourceServer": server.to_json()})

    def delete_resource_server(self: Any) -> Any:
        pool, identifier = resource_server(self)
        del pool.resource_servers[identifier]
        return EmptyResult()

    CognitoIdpResponse.update_resource_server = update_resource_server  # type: ignore[attr-defined]
    CognitoIdpResponse.delete_resource_server = delete_resource_server  # type: ignore[attr-defined]


# Cognito's own OAuth scopes; any other allowed scope is `<identifier>/<name>` of a resource
# server of the pool (API reference, CreateUserPoolClient, AllowedOAuthScopes).
COGNITO_STANDARD_SCOPES = frozenset(
    {"phone", "email", "openid", "profile", "aws.cognito.signin.user.admin"}
)


def _client_scopes_must_exist() -> None:
    from moto.cognitoidp.models import CognitoIdpBackend
    from moto.core.exceptions import JsonRESTError

    def check_scopes(backend: Any, user_pool_id: str, config: dict[str, Any]) -> None:
        pool = backend.describe_user_pool(user_pool_id)
        offered = set(COGNITO_STANDARD_SCOPES)
        for identifier, server in pool.resource_servers.items():
            offered |= {f"{identifier}/{scope['ScopeName']}" for scope in server.scopes or []}
        for scope in config.get("AllowedOAuthScopes") or []:
            if scope not in offered:
                raise JsonRESTError(
                    "ScopeDoesNotExistException", f"Invalid scope requested: {scope}"
                )

    create = CognitoIdpBackend.create_user_pool_client
    update = CognitoIdpBackend.update_user_pool_client

    def create_user_pool_client(
        self: Any, user_pool_id: str, generate_secret: bool, extended_config: dict[str, Any]
    ) -> Any:
        check_scopes(self, user_pool_id, extended_config or {})
        return create(self, user_pool_id, generate_secret, extended_config)

    def update_user_pool_client(
        self: Any, user_pool_id: str, client_id: str, extended_config: dict[str, Any]
    ) -> Any:
        check_scopes(self, user_pool_id, extended_config or {})
        return update(self, user_pool_id, client_id, extended_config)

    CognitoIdpBackend.create_user_pool_client = create_user_pool_client  # type: ignore[method-assign]
    CognitoIdpBackend.update_user_pool_client = update_user_pool_client  # type: ignore[method-assign]
