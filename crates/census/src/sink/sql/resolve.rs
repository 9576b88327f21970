//! What the SQL stores do to the inventory when a scan finishes (see
//! [`crate::store`]): the Tagging API's `GetResources` mappings fill ARNs and tags,
//! then every link of the scan gets the ARN of the resource it starts from and of the
//! one it names, where the scan has it. Statements only, with `$1` the scan id (SQLite
//! reads `$1` as its first parameter too), each with a query saying whether it has
//! anything to do; the writers run them in the transaction that finishes the scan. Running them again (a resumed scan, a later shard) changes
//! nothing already resolved: they fill what is missing, and `from_arn` is the row's. A tag
//! without a value is an empty value, never a key removed.

use super::schema::Db;

/// The operation whose items map ARNs to tags rather than being resources of their
/// own (they become no `inventory` rows).
pub const TAG_MAPPINGS: (&str, &str) = ("resourcegroupstaggingapi", "GetResources");

/// The detail operation that tells where a resource a global call lists is, and its
/// result's member saying it: S3's `GetBucketLocation`, for a `ListBuckets` without
/// the `BucketRegion` member (older endpoints, emulators). An empty or missing
/// constraint means us-east-1 and the legacy `EU` eu-west-1, as S3 documents.
pub const LOCATION: (&str, &str, &str) = ("s3", "GetBucketLocation", "LocationConstraint");

/// The statement moving the rows of global calls still in `global` to the region
/// their [`LOCATION`] detail gave.
fn located(db: Db) -> String {
    let (service, operation, member) = LOCATION;
    let (value, failed) = match db {
        Db::Sqlite => (
            format!("json_extract(r.item, '$.{member}')"),
            "json_type(r.item, '$.error') IS NOT NULL OR json_type(r.item, '$.absent') IS NOT NULL",
        ),
        Db::Postgres => (
            format!("r.item ->> '{member}'"),
            "r.item ? 'error' OR r.item ? 'absent'",
        ),
    };
    let from = format!(
        "FROM resources r JOIN calls c ON c.scan_id = r.scan_id AND c.stem = r.stem
             AND c.account_id = r.account_id AND c.region = r.region
         WHERE r.scan_id = inventory.scan_id AND r.account_id = inventory.account_id
             AND r.region = inventory.region AND r.resource_id = inventory.resource_id
             AND c.parent = inventory.source AND c.service = '{service}'
             AND c.operation = '{operation}' AND NOT ({failed})"
    );
    format!(
        "UPDATE inventory SET region = (SELECT CASE WHEN {value} IS NULL OR {value} = ''
                                          THEN 'us-east-1'
                                          WHEN {value} = 'EU' THEN 'eu-west-1'
                                          ELSE {value} END {from} LIMIT 1)
         WHERE scan_id = $1 AND region = 'global' AND EXISTS (SELECT 1 {from})"
    )
}

/// One statement and the query that says whether it has anything to do (a row when it
/// has): most scans make no `GetResources` call, and a scan without links has none to
/// resolve.
#[derive(Debug, Clone)]
pub struct Step {
    pub when: String,
    pub sql: String,
}

/// The query finding a call of `service`'s `operation` in the scan.
fn made(service: &str, operation: &str) -> String {
    format!(
        "SELECT 1 FROM calls WHERE scan_id = $1 AND service = '{service}' \
         AND operation = '{operation}' LIMIT 1"
    )
}

/// The statements, in order.
pub fn statements(db: Db) -> Vec<Step> {
    let links = "SELECT 1 FROM links WHERE scan_id = $1 LIMIT 1".to_string();
    let step = |when: &String, sql: String| Step {
        when: when.clone(),
        sql,
    };
    let located_made = made(LOCATION.0, LOCATION.1);
    let (mappings, arn_end, has_account, merge) = match db {
        Db::Sqlite => (
            "SELECT json_extract(r.item, '$.ResourceARN') AS arn, r.account_id AS account_id,
                 (SELECT json_group_object(json_extract(t.value, '$.Key'),
                                           COALESCE(json_extract(t.value, '$.Value'), ''))
                  FROM json_each(r.item, '$.Tags') t) AS tags
             FROM resources r WHERE r.scan_id = $1 AND r.stem IN ({stems})",
            "substr(m.arn, -length(inventory.resource_id) - 1)",
            "instr(m.arn, ':' || inventory.account_id || ':') > 0",
            "json_patch(inventory.tags, m.tags)",
        ),
        Db::Postgres => (
            "SELECT r.item ->> 'ResourceARN' AS arn, r.account_id AS account_id,
                 (SELECT COALESCE(jsonb_object_agg(t ->> 'Key', COALESCE(t ->> 'Value', '')),
                                  '{}'::jsonb)
                  FROM jsonb_array_elements(COALESCE(r.item -> 'Tags', '[]'::jsonb)) t)
                 AS tags
             FROM resources r WHERE r.scan_id = $1 AND r.stem IN ({stems})",
            "right(m.arn, length(inventory.resource_id) + 1)",
            "strpos(m.arn, ':' || inventory.account_id || ':') > 0",
            "inventory.tags || m.tags",
        ),
    };
    let mapped = made(TAG_MAPPINGS.0, TAG_MAPPINGS.1);
    let stems = format!(
        "SELECT stem FROM calls WHERE scan_id = $1 AND service = '{}' AND operation = '{}'",
        TAG_MAPPINGS.0, TAG_MAPPINGS.1
    );
    let mappings = mappings.replace("{stems}", &stems);
    // A row without an ARN takes the mapping of its account whose ARN ends with its id.
    let matches = format!(
        "m.arn IS NOT NULL AND {has_account} \
         AND {arn_end} IN ('/' || inventory.resource_id, ':' || inventory.resource_id)"
    );
    vec![
        step(
            &mapped,
            format!(
                "WITH m AS ({mappings})
                 UPDATE inventory SET arn = (SELECT m.arn FROM m WHERE {matches} LIMIT 1),
                     arn_source = 'tagging'
                 WHERE scan_id = $1 AND arn IS NULL
                 AND EXISTS (SELECT 1 FROM m WHERE {matches})"
            ),
        ),
        step(
            &mapped,
            format!(
                "WITH m AS ({mappings})
                 UPDATE inventory SET tags = (SELECT {merge} FROM m
                                              WHERE m.arn = inventory.arn LIMIT 1)
                 WHERE scan_id = $1 AND arn IN (SELECT arn FROM m)"
            ),
        ),
        // Where each link starts: its inventory row's ARN (which a detail call may have
        // given after the link was written).
        step(
            &links,
            "UPDATE links SET from_arn = (SELECT i.arn FROM inventory i
                 WHERE i.scan_id = links.scan_id AND i.source = links.from_source
                 AND i.account_id = links.account_id
                 AND (i.region = links.region OR links.region = 'global')
                 AND i.resource_id = links.from_id)
             WHERE scan_id = $1"
                .to_string(),
        ),
        // What it names: an ARN of the scan, else the resource with that id, in the same
        // account and region and of the named type first.
        step(
            &links,
            "UPDATE links SET to_arn = raw
             WHERE scan_id = $1 AND to_arn IS NULL AND raw LIKE 'arn:%'
             AND EXISTS (SELECT 1 FROM inventory i WHERE i.arn = links.raw
                         AND i.scan_id = links.scan_id)"
                .to_string(),
        ),
        step(
            &links,
            "UPDATE links SET to_arn = (SELECT i.arn FROM inventory i
                 WHERE i.scan_id = links.scan_id AND i.native_id = links.raw
                 AND i.arn IS NOT NULL
                 ORDER BY CASE WHEN i.account_id = links.account_id THEN 0 ELSE 1 END,
                          CASE WHEN i.resource_type = links.to_type THEN 0 ELSE 1 END,
                          CASE WHEN i.region = links.region THEN 0 ELSE 1 END
                 LIMIT 1)
             WHERE scan_id = $1 AND to_arn IS NULL AND raw NOT LIKE 'arn:%'"
                .to_string(),
        ),
        // A member naming the resource itself (a volume's `Attachments[].VolumeId`).
        step(
            &links,
            "DELETE FROM links WHERE scan_id = $1
             AND (raw = from_id OR (to_arn IS NOT NULL AND to_arn = from_arn))"
                .to_string(),
        ),
        step(&located_made, located(db)),
    ]
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::sink::sql::schema::ddl;

    fn run(conn: &Connection) {
        for step in statements(Db::Sqlite) {
            if conn.prepare(&step.when).unwrap().exists(["s"]).unwrap() {
                conn.execute(&step.sql, ["s"]).unwrap();
            }
        }
    }

    fn row(conn: &Connection, id: &str) -> (Option<String>, Option<String>, String, String) {
        conn.query_row(
            "SELECT arn, arn_source, tags, region FROM inventory WHERE resource_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
    }

    /// GetResources gives an ARN-less row its ARN (by account and id) and tags (an
    /// empty value kept); links resolve by ARN and by native id, self-links go; a
    /// bucket listed globally moves to its location.
    #[test]
    fn mappings_links_and_locations() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&ddl(Db::Sqlite)).unwrap();
        conn.execute_batch(
            r#"
            INSERT INTO calls (scan_id, account_id, region, stem, service, function, operation,
                status, pages, items, duration_ms, parent) VALUES
              ('s', '111', 'us-east-1', 'tag-get_resources', 'resourcegroupstaggingapi',
               'get_resources', 'GetResources', 'ok', 1, 1, 1, NULL),
              ('s', '111', 'global', 's3-get_bucket_location', 's3', 'get_bucket_location',
               'GetBucketLocation', 'ok', 1, 1, 1, 's3-list_buckets');
            INSERT INTO resources (scan_id, stem, account_id, region, resource_id, service,
                operation, member, id_source, item) VALUES
              ('s', 'tag-get_resources', '111', 'us-east-1', 'm1', 'resourcegroupstaggingapi',
               'GetResources', '', 'x',
               '{"ResourceARN": "arn:aws:svc:us-east-1:111:thing/t-1",
                 "Tags": [{"Key": "Owner", "Value": "ops"}, {"Key": "Note"}]}'),
              ('s', 's3-get_bucket_location', '111', 'global', 'b1', 's3',
               'GetBucketLocation', '', 'list item', '{"LocationConstraint": "eu-west-1"}');
            INSERT INTO inventory (scan_id, account_id, region, service, resource_type,
                resource_id, arn, tags, source, arn_source, native_id) VALUES
              ('s', '111', 'us-east-1', 'svc', 'svc:Thing', 't-1', NULL, '{"A": "1"}',
               'svc-list_things', NULL, 't-1'),
              ('s', '111', 'us-east-1', 'ec2', 'ec2:Subnet', 'arn:aws:ec2:us-east-1:111:subnet/subnet-1',
               'arn:aws:ec2:us-east-1:111:subnet/subnet-1', '{}', 'ec2-describe_subnets', 'item',
               'subnet-1'),
              ('s', '111', 'global', 's3', 's3:Bucket', 'b1', 'arn:aws:s3:::b1', '{}',
               's3-list_buckets', 'format', 'b1');
            INSERT INTO links (scan_id, account_id, region, source, from_source, from_id,
                from_arn, kind, raw, to_type) VALUES
              ('s', '111', 'us-east-1', 'svc-list_things', 'svc-list_things', 't-1', NULL,
               'SubnetId', 'subnet-1', 'ec2:Subnet'),
              ('s', '111', 'us-east-1', 'svc-list_things', 'svc-list_things', 't-1', NULL,
               'Role', 'arn:aws:iam::111:role/gone', NULL),
              ('s', '111', 'us-east-1', 'svc-list_things', 'svc-list_things', 't-1', NULL,
               'Self.ThingId', 't-1', 'svc:Thing');
            "#,
        )
        .unwrap();
        run(&conn);
        let (arn, source, tags, _) = row(&conn, "t-1");
        assert_eq!(arn.as_deref(), Some("arn:aws:svc:us-east-1:111:thing/t-1"));
        assert_eq!(source.as_deref(), Some("tagging"));
        let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
        assert_eq!(
            tags,
            serde_json::json!({"A": "1", "Owner": "ops", "Note": ""})
        );
        let links: Vec<(String, Option<String>, Option<String>)> = conn
            .prepare("SELECT kind, from_arn, to_arn FROM links ORDER BY kind")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let thing = Some("arn:aws:svc:us-east-1:111:thing/t-1".to_string());
        assert_eq!(
            links,
            [
                ("Role".to_string(), thing.clone(), None),
                (
                    "SubnetId".to_string(),
                    thing,
                    Some("arn:aws:ec2:us-east-1:111:subnet/subnet-1".to_string())
                ),
            ]
        );
        assert_eq!(row(&conn, "b1").3, "eu-west-1");
        // Again: nothing changes.
        run(&conn);
        assert_eq!(row(&conn, "b1").3, "eu-west-1");
        assert_eq!(row(&conn, "t-1").1.as_deref(), Some("tagging"));
    }
}
