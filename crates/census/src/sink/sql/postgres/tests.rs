use super::flush::{last_of_each, merge_enrichments, repeats};
use super::*;

fn detail(stem: &str, region: &str) -> Arc<CallKey> {
    Arc::new(CallKey {
        account_id: "111111111111".into(),
        region: region.into(),
        stem: stem.into(),
        service: "sqs".into(),
        operation: "GetQueueAttributes".into(),
        parent: Some("sqs-list_queues".into()),
    })
}

fn addition(id: &str, arn: Option<&str>, tags: Option<serde_json::Value>) -> Enrichment {
    Enrichment {
        resource_id: id.into(),
        arn: arn.map(str::to_string),
        tags: tags.map(|t| t.as_object().unwrap().clone()),
        links: Vec::new(),
    }
}

#[test]
fn additions_to_one_row_merge_as_if_applied_in_turn() {
    let attrs = detail("sqs-get_queue_attributes", "r1");
    let tags = detail("sqs-list_queue_tags", "r1");
    let other_region = detail("sqs-list_queue_tags", "r2");
    let merged = merge_enrichments(vec![
        (attrs.clone(), addition("q1", Some("arn:1"), None)),
        (
            tags.clone(),
            addition("q1", None, Some(serde_json::json!({"Name": "a", "k": "1"}))),
        ),
        (attrs.clone(), addition("q2", Some("arn:2"), None)),
        (
            tags.clone(),
            addition(
                "q1",
                Some("arn:1b"),
                Some(serde_json::json!({"k": "2", "j": "3"})),
            ),
        ),
        (
            other_region,
            addition("q1", None, Some(serde_json::json!({"Name": "b"}))),
        ),
    ]);
    let got: Vec<_> = merged
        .iter()
        .map(|m| {
            (
                m.call.region.as_str(),
                m.resource_id.as_str(),
                m.arn.as_deref(),
                m.tags.clone().map(serde_json::Value::Object),
                m.name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "r1",
                "q1",
                Some("arn:1b"),
                Some(serde_json::json!({"Name": "a", "k": "2", "j": "3"})),
                Some("a"),
            ),
            ("r1", "q2", Some("arn:2"), None, None),
            (
                "r2",
                "q1",
                None,
                Some(serde_json::json!({"Name": "b"})),
                Some("b")
            ),
        ]
    );
}

#[test]
fn repeated_keys_are_found_and_the_last_of_each_kept() {
    let rows = [("a", 1), ("b", 2), ("a", 3)];
    assert!(repeats(&rows, |r| r.0));
    assert!(!repeats(&rows[..2], |r| r.0));
    let kept: Vec<_> = last_of_each(&rows, |r| r.0).into_iter().copied().collect();
    assert_eq!(kept, [("b", 2), ("a", 3)]);
}

#[test]
fn nul_characters_are_replaced() {
    assert_eq!(pg_text("a\0b"), "a\u{fffd}b");
    let json = serde_json::json!({"k\u{0}": "v\u{0}", "x": "\\u0000"}).to_string();
    let clean = pg_json(&json);
    let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
    assert_eq!(v["k\u{fffd}"], "v\u{fffd}");
    assert_eq!(v["x"], "\\u0000");
}
