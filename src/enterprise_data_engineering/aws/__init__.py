"""AWS integration (the ``[aws]`` extra): S3 storage, Secrets Manager, Glue, Lambda.

- `session`: boto3 clients through the standard AWS chain, botocore retries, error
  translation into `EdeError` (exit codes 3, 4, 5, 7);
- `secrets`: ``${secret:NAME#field}`` resolution and secret-management helpers;
- `glue`: register published sinks as Glue Data Catalog tables;
- `lambda_handler`: run a spec stored in S3 on AWS Lambda;
- `rotation_lambda`: an example Secrets Manager rotation function.

S3 sinks and sources themselves are `storage.s3.S3Storage`. Nothing here imports boto3 until
it is used: ``import enterprise_data_engineering.aws`` is free.
"""

from __future__ import annotations

__all__: list[str] = []
