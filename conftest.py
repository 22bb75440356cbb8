"""Root test configuration: real PostgreSQL, NATS and S3 from slate_common.testing."""

pytest_plugins = ["slate_common.testing"]
