"""Hello handler behind API Gateway (grown into the full application in a later issue)."""

import json
import os


def handler(event, context):
    name = ((event or {}).get("queryStringParameters") or {}).get("name") or "world"
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": f"Hello, {name}!", "table": os.environ.get("TABLE_NAME")}),
    }
