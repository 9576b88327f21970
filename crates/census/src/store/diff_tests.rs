//! Tests of [`super`]: paths, tag maps and the merge, on JSON values (the stores are
//! tested end to end in `tests/store.rs`, `tests/postgres.rs` and `tests/diff_inventory.rs`).

use super::*;
use serde_json::json;

#[test]
fn paths() {
    let a = json!({"State": {"Name": "running", "Code": 16}, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "Gone": 1, "Env": {"A.B": 1}});
    let b = json!({"State": {"Name": "stopped", "Code": 16}, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "3"}, {"Key": "c", "Value": "4"}], "New": 1, "Env": {"A.B": 2}});
    assert_eq!(
        changed_paths(&a, &b),
        [
            "State.Name",
            "Tags[1].Value",
            "Tags[2]",
            "Gone",
            "Env[\"A.B\"]",
            "New"
        ]
    );
    assert!(changed_paths(&a, &a).is_empty());
    assert_eq!(changed_paths(&json!(1), &json!(2)), ["$"]);
}

fn res(stem: &str, id: &str, item: Value) -> Result<Resource, ()> {
    res_in(stem, id, item, None)
}

fn res_in(stem: &str, id: &str, item: Value, arn: Option<&str>) -> Result<Resource, ()> {
    Ok(Resource {
        listed: Listed {
            stem: stem.into(),
            account_id: "1".into(),
            region: "r".into(),
            resource_id: id.into(),
            service: "s".into(),
            operation: "o".into(),
        },
        item: item.to_string(),
        inventory: arn.map(|a| Inventoried {
            resource_type: "s:Thing".into(),
            arn: Some(a.into()),
            name: None,
        }),
    })
}

#[test]
fn merging() {
    let a = vec![
        res("a", "1", json!({"x": 1})),
        res("a", "2", json!({"x": 1})),
        res("b", "1", json!({"x": 1, "y": 2})),
    ];
    let b = vec![
        res("a", "2", json!({"x": 2})),
        res("a", "3", json!({"x": 1})),
        res("b", "1", json!({"y": 2, "x": 1})),
    ];
    let mut got = Vec::new();
    merge(a.into_iter(), b.into_iter(), |c| {
        got.push((c.kind, c.resource.stem, c.resource.resource_id, c.paths))
    })
    .unwrap();
    assert_eq!(
        got,
        [
            (Kind::Removed, "a".into(), "1".into(), vec![]),
            (Kind::Changed, "a".into(), "2".into(), vec!["x".to_string()]),
            (Kind::Added, "a".into(), "3".into(), vec![]),
        ]
    );
}

#[test]
fn tags_compare_as_maps() {
    let a = json!({"State": "running", "Tags": [{"Key": "Owner", "Value": "payments"}, {"Key": "Team", "Value": "x"}, {"Key": "Name", "Value": "web"}]});
    let b = json!({"State": "stopped", "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "Owner", "Value": "billing"}, {"Key": "Environment", "Value": "prod"}]});
    let (paths, tags) = compare(&a, &b);
    assert_eq!(paths, ["State"]);
    assert_eq!(
        tags.lines(),
        [
            "tag +Environment=prod",
            "tag Owner: payments -> billing",
            "tag -Team"
        ]
    );
    assert_eq!(
        tags.to_json(),
        json!({"added": {"Environment": "prod"}, "removed": {"Team": "x"}, "changed": {"Owner": ["payments", "billing"]}})
    );
    // A reordered list is no change.
    let reordered = json!({"State": "running", "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "Team", "Value": "x"}, {"Key": "Owner", "Value": "payments"}]});
    let (paths, tags) = compare(&a, &reordered);
    assert!(paths.is_empty() && tags.is_empty(), "{paths:?} {tags:?}");
    // Every spelling: TagKey/TagValue in TagList, key/value in tags, maps; the
    // member missing on one side is no tags.
    let kms = json!({"TagList": [{"TagKey": "a", "TagValue": "1"}]});
    let (paths, tags) = compare(&kms, &json!({}));
    assert!(paths.is_empty());
    assert_eq!(tags.lines(), ["tag -a"]);
    let (_, tags) = compare(
        &json!({"tags": [{"key": "a", "value": "1"}]}),
        &json!({"tags": [{"key": "a", "value": "2"}]}),
    );
    assert_eq!(tags.lines(), ["tag a: 1 -> 2"]);
    let (paths, tags) = compare(
        &json!({"Tags": {"a": "1"}, "QueueUrl": "u"}),
        &json!({"Tags": {"a": "1", "b": ""}, "QueueUrl": "u"}),
    );
    assert!(paths.is_empty());
    assert_eq!(tags.lines(), ["tag +b="]);
    // A tag member of another form stays paths.
    let (paths, tags) = compare(&json!({"Tags": ["a", "b"]}), &json!({"Tags": ["b"]}));
    assert_eq!(paths, ["Tags[0]", "Tags[1]"]);
    assert!(tags.is_empty());
    let (paths, tags) = compare(
        &json!({"Tags": {"Items": [{"Key": "a"}]}}),
        &json!({"Tags": {"Items": []}}),
    );
    assert_eq!(paths, ["Tags.Items[0]"]);
    assert!(tags.is_empty());
    // A detail call that failed says nothing of the tags; one that found none does.
    let listed = json!({"Tags": {"a": "1"}});
    let failed = json!({"error": {"code": "AccessDenied", "message": "no"}});
    let (paths, tags) = compare(&listed, &failed);
    assert_eq!(paths, ["Tags", "error"]);
    assert!(tags.is_empty());
    let absent = json!({"absent": {"code": "NoSuchTagSet", "message": "none"}});
    let (paths, tags) = compare(&listed, &absent);
    assert_eq!(paths, ["absent"]);
    assert_eq!(tags.lines(), ["tag -a"]);
}

#[test]
fn changes_carry_their_scan_inventory() {
    let tagged = |v: &str| json!({"Tags": [{"Key": "k", "Value": v}]});
    let a = vec![
        res_in("a", "1", json!({"x": 1}), Some("arn:a1")),
        res_in("a", "2", tagged("1"), Some("arn:a2-old")),
        res_in("a", "3", tagged("1"), None),
    ];
    let b = vec![
        res_in("a", "2", tagged("2"), Some("arn:a2")),
        res_in("a", "3", tagged("2"), None),
        res_in("a", "4", json!({"x": 1}), Some("arn:a4")),
    ];
    let mut got = Vec::new();
    merge(a.into_iter(), b.into_iter(), |c| {
        let only = c.tags_only();
        got.push((
            c.kind,
            c.resource.resource_id,
            c.inventory.and_then(|i| i.arn),
            c.tags.lines(),
            only,
        ))
    })
    .unwrap();
    let arn = |s: &str| Some(s.to_string());
    let lines = vec!["tag k: 1 -> 2".to_string()];
    assert_eq!(
        got,
        [
            (Kind::Removed, "1".into(), arn("arn:a1"), vec![], false),
            (
                Kind::Changed,
                "2".into(),
                arn("arn:a2"),
                lines.clone(),
                true
            ),
            (Kind::Changed, "3".into(), None, lines, true),
            (Kind::Added, "4".into(), arn("arn:a4"), vec![], false),
        ]
    );
}
