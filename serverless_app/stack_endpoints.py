"""The interface endpoints a stack without NAT needs: a function in the VPC reaches S3 and
DynamoDB through the free gateway endpoints, and every other AWS API it calls only through an
interface endpoint of that service (paid per hour and availability zone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.endpoints import InterfaceEndpoints, InterfaceEndpointsProps

if TYPE_CHECKING:
    from serverless_app.stack import ServerlessStack

# What a function's configuration makes it call: SSM for its secrets (SSM decrypts
# SecureString parameters with KMS on the function's behalf, so no `kms` endpoint), SQS for the
# queues it sends to, SNS for the topics it publishes to. In this order.
SECRETS_SERVICE = "ssm"
QUEUES_SERVICE = "sqs"
TOPICS_SERVICE = "sns"


def private_endpoints(stack: ServerlessStack) -> InterfaceEndpoints | None:
    """One endpoint per service an in-VPC function calls, when the VPC has no NAT; None when
    no function needs one."""
    config = stack.config
    if config.vpc.nat_gateways != "none":
        return None
    services: dict[str, None] = {}
    clients = []
    for key, deployed in stack.functions.items():
        function_config = config.functions[key]
        needed = [
            service
            for service, used in (
                (SECRETS_SERVICE, deployed.secrets is not None),
                (QUEUES_SERVICE, bool(function_config.grants.queues)),
                (TOPICS_SERVICE, bool(function_config.grants.topics)),
            )
            if used
        ]
        # No security group: the function runs outside the VPC.
        if needed and deployed.function.security_group_id is not None:
            services.update(dict.fromkeys(needed))
            clients.append(deployed.function.security_group_id)
    if not clients:
        return None
    order = (SECRETS_SERVICE, QUEUES_SERVICE, TOPICS_SERVICE)
    return InterfaceEndpoints(
        stack,
        "endpoints",
        InterfaceEndpointsProps(
            name=config.name_prefix,
            region=config.region,
            vpc_id=stack.network.vpc_id,
            subnet_ids=stack.network.private_subnet_ids,
            services=[service for service in order if service in services],
            client_security_group_ids=clients,
        ),
    )
