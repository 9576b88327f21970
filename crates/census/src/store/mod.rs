//! The SQL store: scans kept as rows so that people can ask questions in SQL
//! (`census query`) and compare scans (`census diff`). SQLite (`census.db`, embedded,
//! the default) and PostgreSQL (`--postgres URL`, see [`postgres`] for how it differs)
//! are written by the SQL sinks (`sink::sql`, which also create the schema described
//! here); this module reads them, and holds what writers and readers share: items
//! and their identity ([`items`]), view names and columns ([`views`]), the schema
//! version. Not for writing, nor for printing rows ([`crate::util::print`]).
//!
//! # Schema (version [`SCHEMA_VERSION`], kept in `PRAGMA user_version`)
//! - `scans`: one row per scan (`scan_id`, `seq` giving the order scans started in,
//!   `started`, `finished` (NULL until the scan finishes), `version`, `resumed`, and
//!   the totals `accounts`, `accounts_failed`, `calls`, `calls_failed`, `items`,
//!   `pages`, `absent`). A sharded scan's `finished` is set once all its shards
//!   finished (see `sink::sql::shards`), and its totals are its shards' sums.
//! - `scan_shards`: one row per shard of a scan (an unsharded scan is shard 1/1):
//!   `scan_id`, `shard_index` (K, from 1), `shard_count` (N), `started`, `finished`,
//!   `status` (`running`, `finished`, `interrupted`, `failed`; a killed shard stays
//!   `running`), its counts `accounts`, `accounts_failed`, `calls`, `calls_failed`,
//!   `items`, `pages`, `absent` (NULL until it finishes), and `flags`, the command
//!   line's arguments after `scan` as a JSON array of strings, secrets redacted
//!   (`--external-id`'s value, URL passwords). Primary key `(scan_id, shard_index)`.
//! - `accounts`: per scan and account: `name`, `email`, `status` (Organizations
//!   status), `partition`, `org_id`, `management_account_id`, `ou_id`, `ou_path`,
//!   `tags` (JSON object), `source`, and how setting it up went: `scan_status` (`ok` or
//!   `error`), `regions` (JSON array), `error_code`, `error_message`, `remediation`.
//! - `calls`: per scan, account, region (`global` for global calls) and `stem` (the
//!   output file stem, `ec2-describe_vpcs`): `service`, `function`, `operation`,
//!   `status`, `error_code`, `error_message`, `request_id`, `pages`, `items`,
//!   `duration_ms`; for a detail call (one row per detail operation, account and
//!   region, standing for its calls on every item of its list) `parent`, the list
//!   call's stem, and `absent`, the items that had none of what it reads.
//! - `resources`: one row per item (see [`items`]): `scan_id`, `stem`, `account_id`,
//!   `region`, `resource_id`, `service`, `operation`, `member` (the top-level list it
//!   came from, `''` when the result was a list), `id_source` (the member the id was
//!   taken from, `(item)` or `(hash)`), and `item`, the item as JSON text. A detail
//!   call's rows are one per item of its list, with that item's `resource_id`
//!   (`id_source` `list item`) and its result as `item` (`{"absent": {...}}` or
//!   `{"error": {...}}` when it had none or failed), so that a detail's view joins
//!   its list's view on `account_id, region, resource_id`.
//!   `(scan_id, stem, account_id, region, resource_id)` is unique, and writes replace:
//!   a resumed scan or a shard that writes a call again leaves one copy.
//! - `item_columns`: the top-level members seen per stem (`position` in first-seen
//!   order): the columns of the views, which list them in the order of their names, so
//!   that two scans of the same resources number the columns the same.
//! - `inventory`: one row per resource a list call found (issue 13; see
//!   [`crate::inventory`]; detail calls add none): `scan_id`, `account_id`, `region`,
//!   `service`, `resource_type` (`ec2:Instance`), `cfn_type` (`AWS::EC2::Instance`
//!   where known), `resource_id` (as in `resources`), `arn` (with the account's
//!   partition), `name`, `created` (ISO 8601), `tags` (JSON object `{key: value}`) and
//!   `source`, the call's stem. Wrappers are not resources: ec2 `DescribeInstances`
//!   gives instances, not reservations. `(scan_id, source, account_id, region,
//!   resource_id)` is unique and writes replace, as in `resources`; indexed by `arn`
//!   and by `(scan_id, account_id)`. Every scan stays; the view `inventory_latest`
//!   shows each list call's rows of its latest scan (chosen as for the views below),
//!   with `account_name`: `select arn, name from inventory_latest where tags ->> 'Owner'
//!   = 'payments'`. `arn_source` says where the ARN came from: `item` (the item's own
//!   member), `detail` (a detail call's result), `format` (built from the service's
//!   documented ARN format) or `tagging` (the Tagging API's `GetResources`). Detail
//!   calls complete their list's rows: an ARN, tags (`ListTagsForResource` and
//!   friends, merged over the item's), links. `native_id` is the id its service names
//!   it by (`subnet-0abc` where `resource_id` is the subnet's ARN, a stack's name),
//!   what other resources' members hold; indexed by `(scan_id, native_id)`.
//! - `links`: one row per member of a resource that names another resource (its id or
//!   ARN): `scan_id`, `account_id`, `region`, `source` (the stem of the call whose
//!   result held the member: the list call, or one of its detail calls),
//!   `from_source` and `from_id` (the `inventory` row's `source` and `resource_id`),
//!   `from_arn`, `kind` (the member path: `SubnetId`, `SecurityGroups[].GroupId`,
//!   `Role`), `raw` (the member's value), `to_type` (the resource type the member
//!   names, where the models tell: `ec2:Subnet`) and `to_arn`: the ARN of the resource
//!   in the same scan, NULL when the scan has no such resource (nothing is dropped).
//!   `from_arn` and `to_arn` are resolved when the scan finishes (its own accounts'
//!   links; a later shard resolves what an earlier one could not). The view
//!   `links_latest` shows the links of `inventory_latest`'s rows.
//!
//! # Views
//! One per stem, named after it in snake_case ([`views::view_name`]:
//! `ec2-describe_instances` -> `ec2_describe_instances`, `ec2-describe_images-2` ->
//! `ec2_describe_images_2`). Columns: `scan_id`, `account_id`, `account_name`,
//! `region`, `resource_id`, then one column per top-level member ever seen in that
//! stem's items (`json_extract` of `item`: scalars as SQL values, objects and lists as
//! JSON text, so `select InstanceId, State ->> 'Name' from ec2_describe_instances`;
//! `value` for scalar items such as table names), then `item`.
//! A view shows one scan: the latest finished scan that ran the call, or, when none
//! has finished, the latest that ran it. Every scan stays in the base tables.
//!
//! Schema 2 added `calls.parent`, `calls.absent` and `scans.absent` (detail calls); a
//! database of schema 1 gets them when a scan writes to it. Schema 3 added the
//! `inventory` table, created in a database of schema 2 when a scan writes to it.
//! Schema 4 added `inventory.arn_source` and `native_id`, the `links` table and
//! `links_latest`. Schema 5 added `scan_shards`.

pub mod diff;
pub mod items;
pub mod postgres;
pub mod shards;
pub mod sqlite;
pub mod views;

/// The schema version: SQLite's `PRAGMA user_version`, PostgreSQL's `census_schema`.
pub const SCHEMA_VERSION: i64 = 5;

/// The database's file name in the output folder.
pub const DB_FILE: &str = "census.db";
