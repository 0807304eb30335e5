"""Where data lives and travels: S3, DynamoDB, SQS and SNS."""

from __future__ import annotations

from serverless_app.deployer_permissions.grants import (
    BUCKETS,
    KEYS,
    OBJECTS,
    QUEUES,
    S3_BUCKET_READ,
    TABLES,
    TOPICS,
    Grant,
    grant,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # --- S3 -----------------------------------------------------------------------------
    "aws_s3_bucket": (
        S3_BUCKET_READ,
        grant(
            "s3:CreateBucket s3:DeleteBucket s3:PutBucketTagging s3:ListBucketVersions", *BUCKETS
        ),
        # force_destroy empties the bucket, every version of every object.
        grant("s3:DeleteObject s3:DeleteObjectVersion", *OBJECTS),
    ),
    "aws_s3_bucket_versioning": (grant("s3:GetBucketVersioning s3:PutBucketVersioning", *BUCKETS),),
    "aws_s3_bucket_lifecycle_configuration": (
        grant("s3:GetLifecycleConfiguration s3:PutLifecycleConfiguration", *BUCKETS),
    ),
    "aws_s3_bucket_notification": (
        grant("s3:GetBucketNotification s3:PutBucketNotification", *BUCKETS),
    ),
    "aws_s3_bucket_ownership_controls": (
        grant("s3:GetBucketOwnershipControls s3:PutBucketOwnershipControls", *BUCKETS),
    ),
    "aws_s3_bucket_policy": (
        grant("s3:GetBucketPolicy s3:PutBucketPolicy s3:DeleteBucketPolicy", *BUCKETS),
    ),
    "aws_s3_bucket_public_access_block": (
        grant("s3:GetBucketPublicAccessBlock s3:PutBucketPublicAccessBlock", *BUCKETS),
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        grant("s3:GetEncryptionConfiguration s3:PutEncryptionConfiguration", *BUCKETS),
    ),
    "aws_s3_object": (
        grant("s3:ListBucket s3:ListBucketVersions", *BUCKETS),
        grant(
            "s3:PutObject s3:GetObject s3:GetObjectVersion s3:GetObjectTagging "
            "s3:PutObjectTagging s3:DeleteObject s3:DeleteObjectVersion",
            *OBJECTS,
        ),
        # SSE-KMS with the stack's key.
        grant("kms:GenerateDataKey kms:Decrypt", *KEYS),
    ),
    # --- DynamoDB, SQS, SNS -----------------------------------------------------------------
    "aws_dynamodb_table": (
        grant(
            "dynamodb:CreateTable dynamodb:DescribeTable dynamodb:UpdateTable "
            "dynamodb:DeleteTable dynamodb:DescribeContinuousBackups "
            "dynamodb:UpdateContinuousBackups dynamodb:DescribeTimeToLive "
            "dynamodb:UpdateTimeToLive dynamodb:TagResource dynamodb:UntagResource "
            "dynamodb:ListTagsOfResource",
            *TABLES,
        ),
        grant("kms:DescribeKey kms:CreateGrant", *KEYS),
    ),
    "aws_sqs_queue": (
        grant(
            "sqs:CreateQueue sqs:GetQueueAttributes sqs:SetQueueAttributes sqs:GetQueueUrl "
            "sqs:DeleteQueue sqs:TagQueue sqs:UntagQueue sqs:ListQueueTags",
            *QUEUES,
        ),
    ),
    # The policy is the queue's `Policy` attribute.
    "aws_sqs_queue_policy": (
        grant("sqs:GetQueueAttributes sqs:SetQueueAttributes sqs:GetQueueUrl", *QUEUES),
    ),
    "aws_sns_topic": (
        grant(
            "sns:CreateTopic sns:GetTopicAttributes sns:SetTopicAttributes sns:DeleteTopic "
            "sns:TagResource sns:UntagResource sns:ListTagsForResource",
            *TOPICS,
        ),
    ),
    "aws_sns_topic_subscription": (
        grant(
            "sns:Subscribe sns:Unsubscribe sns:GetSubscriptionAttributes "
            "sns:SetSubscriptionAttributes",
            *TOPICS,
        ),
    ),
}
