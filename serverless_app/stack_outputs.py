"""The stack's Terraform outputs, named and described for whoever reads them after an apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cdktf import TerraformOutput

from constructs_lib.routes import Route

if TYPE_CHECKING:
    from serverless_app.stack import ServerlessStack


def add_outputs(stack: ServerlessStack) -> None:
    """The stack's outputs: URLs, names and ARNs the deployer, `make call` and `make release`
    read after an apply."""
    outputs: dict[str, tuple[object, str]] = {
        "api_invoke_url": (
            stack.api.invoke_url,
            "The API stage's URL; a route's URL is this plus its path (see route_urls)",
        ),
        "route_urls": (
            {route.name: stack.api.url_of(route) for route in stack.routes},
            _route_urls_description(stack.routes),
        ),
        **_domain_outputs(stack),
        "load_balancer_dns_name": (
            stack.load_balancer.dns_name,
            "Public DNS name of the application load balancer",
        ),
        **_load_balancer_url_output(stack),
        "bucket_name": (stack.bucket.bucket_name, "Bucket holding the Lambda packages"),
        "tables": (
            {key: table.table_name for key, table in stack.tables.items()},
            "Per key of [tables]: the DynamoDB table's name",
        ),
        "buckets": (
            {key: bucket.bucket_name for key, bucket in stack.buckets.items()},
            "Per key of [buckets]: the S3 bucket's name",
        ),
        "queues": (
            {
                key: {"url": queue.queue_url, "dead_letter_queue_arn": queue.dead_letter_queue_arn}
                for key, queue in stack.events.queues.items()
            },
            "Per key of [queues]: the queue's URL and its dead-letter queue's ARN",
        ),
        "topics": (
            {key: topic.topic_arn for key, topic in stack.events.topics.items()},
            "Per key of [topics]: the SNS topic's ARN",
        ),
        "functions": (
            {
                key: {
                    "function_name": deployed.function.function_name,
                    "live_alias_arn": deployed.alias.arn,
                    "deployment_group": stack.deployment_groups[key].deployment_group_name,
                }
                for key, deployed in stack.functions.items()
            },
            "Per function: its name, the `live` alias the API and the load balancer "
            "invoke, and the CodeDeploy deployment group shifting it",
        ),
        "function_urls": (
            {
                key: deployed.url.url
                for key, deployed in stack.functions.items()
                if deployed.url is not None
            },
            "Per function with a `url`: its function URL (on the `live` alias)",
        ),
        "user_pools": (
            {
                key: {
                    "user_pool_id": pool.pool_id,
                    "client_id": pool.client_id,
                    "issuer": pool.issuer,
                    **(
                        {"sign_in_url": pool.sign_in_url(stack.config.region)}
                        if pool.domain is not None
                        else {}
                    ),
                }
                for key, pool in stack.user_pools.items()
            },
            "Per cognito authorizer: the user pool, the app client a sign-in page uses, the "
            "tokens' issuer and, with a resource server, the hosted sign-in's URL",
        ),
        "vpc_id": (stack.network.vpc_id, "VPC id"),
        "alarm_topic_arn": (
            stack.monitoring.topic_arn,
            "SNS topic of every alarm (subscribe on-call here)",
        ),
        "dashboard_name": (stack.monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
        "codedeploy_application": (
            stack.releases.application_name,
            "CodeDeploy application (`make release RELEASE_ENV=<env>` reads it)",
        ),
    }
    for name, (value, description) in outputs.items():
        TerraformOutput(stack, name, value=value, description=description)


def _domain_outputs(stack: ServerlessStack) -> dict[str, tuple[object, str]]:
    if stack.domain is None:
        return {}
    return {
        "api_url": (
            stack.domain.url,
            "Stable URL of the stage on the custom domain (survives a new API id or "
            "stage); a route's URL is this plus its path",
        )
    }


def _load_balancer_url_output(stack: ServerlessStack) -> dict[str, tuple[object, str]]:
    if stack.load_balancer_host is None:
        return {}
    return {
        "load_balancer_url": (
            f"https://{stack.load_balancer_host}",
            "The load balancer's HTTPS URL: its host name is on the domain's certificate "
            "(the DNS name is not)",
        )
    }


def _route_urls_description(routes: Sequence[Route]) -> str:
    if all(route.authorization == "NONE" for route in routes):
        return "Each route's URL (public: no authorization)"
    return (
        "Each route's URL. AWS_IAM routes take SigV4-signed requests (service "
        "execute-api, IAM credentials allowed execute-api:Invoke): `make call` or "
        "`python -m scripts.call`; an unsigned request gets 403. A route with an authorizer "
        "takes its token in `Authorization` (401 without)"
    )
