"""A real domain: an ACM certificate validated through Route 53, the API's regional custom
domain on it (REST or HTTP API), and the alias record that makes the name resolve.

The certificate is exposed (`certificate_arn`, validated) so the load balancer's HTTPS
listener can serve the same name or a sibling covered by `alternative_names`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import (
    AcmCertificate,
    AcmCertificateDomainValidationOptionsList,
)
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.apigatewayv2_api_mapping import Apigatewayv2ApiMapping
from cdktf_cdktf_provider_aws.apigatewayv2_domain_name import (
    Apigatewayv2DomainName,
    Apigatewayv2DomainNameDomainNameConfiguration,
)
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from constructs_lib.apigw import LambdaRestApi
from constructs_lib.http_api import LambdaHttpApi
from constructs_lib.plan_checks import hcl_strings, plan_check

# RFC 1035 host names as ACM accepts them: labels of 1-63 characters, 253 in all.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.)?({_LABEL}\.)+[a-z]{{2,63}}$")
MAX_DOMAIN_LENGTH = 253
# ACM's default quota of names per certificate (the domain itself plus alternatives).
MAX_NAMES_PER_CERTIFICATE = 10
# API Gateway base paths: letters, digits and `$-_.+!*'()`, no slash at either end.
_BASE_PATH = re.compile(r"^[A-Za-z0-9$\-_.+!*'()]+(/[A-Za-z0-9$\-_.+!*'()]+)*$")
SECURITY_POLICY = "TLS_1_2"


@dataclass(frozen=True)
class AliasTarget:
    """Where an alias record points: a regional API domain, a load balancer, ..."""

    dns_name: str
    # The target's own hosted zone (not the domain's).
    zone_id: str


@dataclass(frozen=True)
class ApiDomainProps:
    # e.g. "api.example.com"; must lie in the hosted zone.
    domain_name: str
    # The Route 53 public hosted zone that holds `domain_name` (not created here).
    hosted_zone_id: str
    # Further names on the same certificate (e.g. the load balancer's "alb.api.example.com";
    # `point` gives one an alias record).
    alternative_names: Sequence[str] = ()
    # "" maps the stage at the domain's root; "v1" serves it under https://<domain>/v1/.
    base_path: str = ""

    def __post_init__(self) -> None:
        names = [self.domain_name, *self.alternative_names]
        for name in names:
            if len(name) > MAX_DOMAIN_LENGTH or not _DOMAIN.match(name):
                raise ValueError(f"not a valid lower-case domain name: {name!r}")
        if self.domain_name.startswith("*."):
            raise ValueError("the API's domain_name cannot be a wildcard")
        if len(set(names)) > MAX_NAMES_PER_CERTIFICATE:
            raise ValueError(f"ACM allows {MAX_NAMES_PER_CERTIFICATE} names per certificate")
        if not re.match(r"^Z[A-Z0-9]{1,31}$", self.hosted_zone_id):
            raise ValueError(f"not a Route 53 hosted zone id: {self.hosted_zone_id!r}")
        if self.base_path and not _BASE_PATH.match(self.base_path):
            raise ValueError(f"invalid base_path {self.base_path!r} (no leading/trailing /)")


class HostedZoneCheck(Construct):
    """Plan fails when the hosted zone cannot serve the names: a private zone answers only
    inside its VPCs, so ACM never sees the validation records and clients never resolve the
    name; a zone of another domain would hold records nobody asks for."""

    def __init__(self, scope: Construct, id: str, *, zone_id: str, names: Sequence[str]) -> None:
        super().__init__(scope, id)
        # Wildcards are validated by the record of their base name.
        bases = sorted({name.removeprefix("*.") for name in names})
        zone = 'trimsuffix(lower(self.name), ".")'
        inside = f'name == {zone} || endswith(name, ".${{{zone}}}")'
        outside = f"[for name in {hcl_strings(bases)} : name if !({inside})]"
        DataAwsRoute53Zone(
            self,
            "zone",
            zone_id=zone_id,
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    plan_check(
                        "!self.private_zone",
                        f"Hosted zone {zone_id} (${{self.name}}) is private: ACM cannot see its "
                        "validation records and clients cannot resolve the name. Use the public "
                        "hosted zone of the domain.",
                    ),
                    plan_check(
                        f"length({outside}) == 0",
                        f'${{join(", ", {outside})}} not in hosted zone {zone_id} '
                        "(${self.name}): use the public hosted zone that holds the name.",
                    ),
                ]
            ),
        )


class ApiDomain(Construct):
    """DNS-validated certificate + regional custom domain (TLS 1.2) + base path (API) mapping
    + alias A record, for one REST API stage or an HTTP API's stage."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        api: LambdaRestApi | LambdaHttpApi,
        props: ApiDomainProps,
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        HostedZoneCheck(
            self,
            "zone",
            zone_id=props.hosted_zone_id,
            names=[props.domain_name, *props.alternative_names],
        )
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=props.domain_name,
            subject_alternative_names=list(props.alternative_names) or None,
            validation_method="DNS",
            # A listener or domain still uses the old certificate while it is replaced.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        records = [self._validation_record(index) for index in range(self._name_count())]
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
        )
        # The domain's attribute, not the literal: the record waits for the domain.
        name, target = (
            self._http_api_domain(api) if isinstance(api, LambdaHttpApi) else self._rest_domain(api)
        )
        self.record = self._alias_record("alias-record", name, target)

    def _rest_domain(self, api: LambdaRestApi) -> tuple[str, AliasTarget]:
        domain = ApiGatewayDomainName(
            self,
            "domain",
            domain_name=self.props.domain_name,
            # The validation's ARN, not the certificate's: API Gateway refuses a certificate
            # that is still pending validation.
            regional_certificate_arn=self.certificate_arn,
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
            security_policy=SECURITY_POLICY,
        )
        # The attribute, not the literal: the mapping and the record wait for the domain. Read
        # once: each read is a round trip to the jsii kernel.
        domain_name = domain.domain_name
        ApiGatewayBasePathMapping(
            self,
            "mapping",
            api_id=api.api_id,
            stage_name=api.stage_name,
            domain_name=domain_name,
            base_path=self.props.base_path or None,
        )
        return domain_name, AliasTarget(domain.regional_domain_name, domain.regional_zone_id)

    def _http_api_domain(self, api: LambdaHttpApi) -> tuple[str, AliasTarget]:
        domain = Apigatewayv2DomainName(
            self,
            "http-domain",
            domain_name=self.props.domain_name,
            domain_name_configuration=Apigatewayv2DomainNameDomainNameConfiguration(
                certificate_arn=self.certificate_arn,
                endpoint_type="REGIONAL",
                security_policy=SECURITY_POLICY,
            ),
        )
        domain_name = domain.domain_name
        Apigatewayv2ApiMapping(
            self,
            "http-mapping",
            api_id=api.api_id,
            stage=api.stage_name,
            domain_name=domain_name,
            api_mapping_key=self.props.base_path or None,
        )
        configuration = domain.domain_name_configuration
        return domain_name, AliasTarget(
            configuration.target_domain_name, configuration.hosted_zone_id
        )

    def point(self, id: str, name: str, target: AliasTarget) -> Route53Record:
        """An A alias record in the zone pointing `name`, one of the certificate's
        `alternative_names`, at `target` (e.g. the load balancer serving the certificate)."""
        if name not in self.props.alternative_names:
            raise ValueError(
                f"{name!r} is not among the certificate's alternative_names: clients would "
                "get a certificate that does not name it"
            )
        return self._alias_record(id, name, target)

    def _alias_record(self, id: str, name: str, target: AliasTarget) -> Route53Record:
        return Route53Record(
            self,
            id,
            zone_id=self.props.hosted_zone_id,
            name=name,
            type="A",
            alias=Route53RecordAlias(
                name=target.dns_name, zone_id=target.zone_id, evaluate_target_health=False
            ),
        )

    def _name_count(self) -> int:
        """One validation option per name on the certificate. A wildcard asks for the same
        record as its base name; `allow_overwrite` lets both records share it."""
        return len({self.props.domain_name, *self.props.alternative_names})

    def _validation_record(self, index: int) -> Route53Record:
        """The CNAME ACM asks for, for the index-th name (ordered as ACM lists them)."""
        option = self._validation_options.get(index)
        return Route53Record(
            self,
            f"validation-record-{index}",
            zone_id=self.props.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=60,
            # Re-applying after a certificate replacement finds the same record in place.
            allow_overwrite=True,
        )

    @cached_property
    def _validation_options(self) -> AcmCertificateDomainValidationOptionsList:
        """Read once for every name's record: each read is a round trip to the jsii kernel."""
        return self.certificate.domain_validation_options

    @cached_property
    def certificate_arn(self) -> str:
        """The validated certificate, for the domain and the load balancer's HTTPS listener
        (read once: each read is a round trip to the jsii kernel, for the same reference)."""
        return self.validation.certificate_arn

    @property
    def url(self) -> str:
        """The stable URL of the API's stage: survives a new API id or stage deployment; a
        route's URL is this plus its path."""
        suffix = f"/{self.props.base_path}" if self.props.base_path else ""
        return f"https://{self.props.domain_name}{suffix}"
