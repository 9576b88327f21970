//! Endpoint resolution: a generic evaluator of botocore's `endpoint-rule-set-1.json`
//! over `partitions.json`.
