"""S3 buckets with the defaults a security review expects: the Lambda package bucket, the
buckets a configuration declares and, when enabled, the load balancer's access-log bucket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from constructs_lib.iam import Grantable
from constructs_lib.iam_actions import OBJECT_READ_ACTIONS, OBJECT_WRITE_ACTIONS
from constructs_lib.permissions import statement_name


@dataclass(frozen=True)
class ServiceWrite:
    """Lets an AWS principal put objects under a prefix (e.g. ELB access-log delivery)."""

    principal_type: str
    principal: str
    key_pattern: str


@dataclass(frozen=True)
class ExpirationRule:
    """Current objects under `prefix` expire (become noncurrent) after `days`."""

    prefix: str
    days: int


@dataclass(frozen=True)
class SecureBucketProps:
    # Exactly one of the two: a fixed name, or a prefix Terraform completes uniquely.
    bucket_name: str | None = None
    bucket_prefix: str | None = None
    # Customer-managed key for SSE-KMS; None means SSE-S3 (required by ALB access logs).
    kms_key_arn: str | None = None
    # Default on: an overwritten or deleted object stays as a noncurrent version for
    # `noncurrent_version_expiration_days`. Off: versioning is suspended.
    versioning: bool = True
    noncurrent_version_expiration_days: int = 30
    # Current objects expire (become noncurrent) after this many days; None: kept.
    expiration_days: int | None = None
    # Default none: further rules expiring the current objects under one prefix each.
    expiration_rules: Sequence[ExpirationRule] = field(default_factory=tuple)
    service_writes: Sequence[ServiceWrite] = field(default_factory=tuple)
    # Lets `terraform destroy` remove a bucket that still holds objects.
    force_destroy: bool = False
    # Terraform refuses to destroy the bucket at all (state buckets).
    prevent_destroy: bool = False


class SecureBucket(Construct):
    """Versioned (unless turned off), encrypted, private (all four public-access blocks,
    BucketOwnerEnforced), TLS-only, with noncurrent versions and stale multipart uploads expired."""

    def __init__(self, scope: Construct, id: str, props: SecureBucketProps) -> None:
        super().__init__(scope, id)
        # Names its grant statements; kept, as `node.id` is a round trip to the jsii kernel.
        self.grant_id = id
        if (props.bucket_name is None) == (props.bucket_prefix is None):
            raise ValueError("SecureBucket needs exactly one of bucket_name, bucket_prefix")
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.bucket_name,
            bucket_prefix=props.bucket_prefix,
            force_destroy=props.force_destroy,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy)
            if props.prevent_destroy
            else None,
        )
        # Read once: every read is a round trip to the jsii kernel, and the token it returns
        # stands for the same reference every time.
        self.bucket_id: str = self.bucket.id
        self.bucket_arn: str = self.bucket.arn
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(
                status="Enabled" if props.versioning else "Suspended"
            ),
        )
        self.encryption = S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms" if props.kms_key_arn else "AES256",
                        kms_master_key_id=props.kms_key_arn,
                    ),
                    bucket_key_enabled=bool(props.kms_key_arn),
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)
                    ]
                    if props.expiration_days is not None
                    else None,
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=7
                        )
                    ],
                ),
                *(
                    S3BucketLifecycleConfigurationRule(
                        id=f"expire-{index}",
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=rule.prefix)],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=rule.days)],
                    )
                    for index, rule in enumerate(props.expiration_rules)
                ),
            ],
            # Rules about noncurrent versions assume versioning is already on.
            depends_on=[self.versioning],
        )
        # Object events go to EventBridge: audit and automation hook in without bucket changes.
        S3BucketNotification(self, "events", bucket=self.bucket_id, eventbridge=True)
        policy = DataAwsIamPolicyDocument(
            self,
            "policy-document",
            statement=[
                self._deny_insecure_transport(),
                *(self._service_write(write) for write in props.service_writes),
            ],
        )
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket_id,
            policy=policy.json,
            # AWS rejects a bucket policy while the public-access block is being applied.
            depends_on=[self.public_access_block],
        )

    def _deny_insecure_transport(self) -> DataAwsIamPolicyDocumentStatement:
        return DataAwsIamPolicyDocumentStatement(
            sid="DenyInsecureTransport",
            effect="Deny",
            principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
            # A Deny: every action over plain HTTP is refused.
            actions=["s3:*"],
            resources=[self.bucket_arn, f"{self.bucket_arn}/*"],
            condition=[
                DataAwsIamPolicyDocumentStatementCondition(
                    test="Bool", variable="aws:SecureTransport", values=["false"]
                )
            ],
        )

    def _service_write(self, write: ServiceWrite) -> DataAwsIamPolicyDocumentStatement:
        return DataAwsIamPolicyDocumentStatement(
            sid="ServiceWrites",
            effect="Allow",
            principals=[
                DataAwsIamPolicyDocumentStatementPrincipals(
                    type=write.principal_type, identifiers=[write.principal]
                )
            ],
            actions=["s3:PutObject"],
            resources=[f"{self.bucket_arn}/{write.key_pattern}"],
        )

    @cached_property
    def bucket_name(self) -> str:
        return self.bucket.bucket

    def add_object(self, id: str, *, key: str, source: str, source_hash: str) -> S3Object:
        """Upload a local file; `source_hash` makes Terraform re-upload when it changes."""
        return S3Object(
            self,
            id,
            bucket=self.bucket_id,
            key=key,
            source=source,
            source_hash=source_hash,
            # Uploaded before the default encryption exists, it would stay SSE-S3.
            depends_on=[self.encryption],
        )

    def add_text_object(self, id: str, *, key: str, content: str) -> S3Object:
        """A small text object Terraform creates once; edits made later in S3 are kept."""
        return S3Object(
            self,
            id,
            bucket=self.bucket_id,
            key=key,
            content=content,
            content_type="text/plain; charset=utf-8",
            lifecycle=TerraformResourceLifecycle(ignore_changes=["content", "etag"]),
            depends_on=[self.encryption],
        )

    def grant_read_objects(self, grantee: Grantable, keys: Sequence[str]) -> None:
        """Allow `s3:GetObject` on these object keys (a trailing `*` makes a prefix), nothing
        else in the bucket: no listing, so a missing key answers AccessDenied. The statement
        is `ReadObjects<Id>`, after the construct's id (`statement_name`)."""
        grantee.add_to_role_policy(
            statement_name("ReadObjects", self.grant_id),
            OBJECT_READ_ACTIONS,
            self._object_arns(keys),
        )

    def grant_write_objects(self, grantee: Grantable, keys: Sequence[str]) -> None:
        """Allow `s3:PutObject` on these object keys (a trailing `*` makes a prefix); the
        statement is `WriteObjects<Id>`."""
        grantee.add_to_role_policy(
            statement_name("WriteObjects", self.grant_id),
            OBJECT_WRITE_ACTIONS,
            self._object_arns(keys),
        )

    def _object_arns(self, keys: Sequence[str]) -> list[str]:
        if not keys:
            raise ValueError("an object grant needs at least one key")
        return [f"{self.bucket_arn}/{key}" for key in keys]
