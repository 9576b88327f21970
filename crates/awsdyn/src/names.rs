//! Name matching: model PascalCase, boto3 snake_case and CLI kebab-case, and
//! "did you mean" suggestions.

/// Lower-cases a name and drops `_`, `-` and spaces, so that `DescribeInstances`,
/// `describe_instances` and `describe-instances` compare equal.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// boto3's snake_case form of a PascalCase operation name (`DescribeInstances` ->
/// `describe_instances`, `ListAWSServiceAccess` -> `list_aws_service_access`,
/// `DescribeACLs` -> `describe_acls`): botocore's `xform_name`, see [`crate::xform`].
pub fn snake_case(name: &str) -> String {
    crate::xform::method_name(name)
}

/// Levenshtein distance between two strings.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to `n` candidates closest to `wanted` (edit distance on normalized names;
/// candidates that contain `wanted` come first).
pub fn closest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<String> {
    let w = normalize(wanted);
    let mut scored: Vec<(usize, bool, String)> = candidates
        .map(|c| {
            let nc = normalize(c);
            let d = distance(&w, &nc);
            let contains = !w.is_empty() && (nc.contains(&w) || w.contains(&nc));
            (d, contains, c.to_string())
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.len().cmp(&b.2.len())));
    let limit = (w.len() / 2).max(3);
    scored
        .into_iter()
        .filter(|(d, contains, _)| *d <= limit || *contains)
        .take(n)
        .map(|(_, _, c)| c)
        .collect()
}

/// `DescribeInstances` in the style of `example`: kebab-case when it has `-`,
/// snake_case when it has `_` or no capitals, else as is.
pub fn in_style_of(name: &str, example: &str) -> String {
    if example.contains('-') {
        snake_case(name).replace('_', "-")
    } else if example.contains('_') || !example.chars().any(|c| c.is_uppercase()) {
        snake_case(name)
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake() {
        assert_eq!(snake_case("DescribeInstances"), "describe_instances");
        assert_eq!(
            snake_case("ListAWSServiceAccess"),
            "list_aws_service_access"
        );
        assert_eq!(snake_case("GetBucketACL"), "get_bucket_acl");
        assert_eq!(snake_case("DescribeACLs"), "describe_acls");
    }

    #[test]
    fn suggestions() {
        let c = ["DescribeInstances", "DescribeVpcs", "RunInstances"];
        assert_eq!(
            closest("describe_instance", c.iter().copied(), 1),
            ["DescribeInstances"]
        );
        assert!(closest("zzzzzzzzzzzz", c.iter().copied(), 3).is_empty());
    }
}
