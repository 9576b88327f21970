//! Planning one account's scan: which call is made in which region. Pure: no
//! credentials, no network, no sinks; making the calls is the executor's
//! (`scan::execute`), and choosing the calls is the spec's.

use std::collections::BTreeMap;

use crate::regions::Catalog;
use crate::spec::Call;

/// One call to make in one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The call's index in the scan's calls.
    pub call: usize,
    /// `global` or the region: where the call is recorded.
    pub label: String,
    /// The region the request is sent to.
    pub region: String,
}

/// The tasks of one account of `partition`, calls in order: a call of a global service
/// or operation once, labelled `global`, in the partition's region for it; any other
/// call in each of `regions`, in their order, where the catalog offers its service
/// (in all of them when the catalog does not know it). A call of a service with no
/// bundled model plans nothing, and a task `done` says an earlier run settled is left
/// out.
pub fn plan_account<R>(
    calls: &[Call<R>],
    catalog: &Catalog,
    partition: &str,
    regions: &[String],
    done: impl Fn(&Task) -> bool,
) -> Vec<Task> {
    let mut tasks = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let Ok(model) = awsdyn::model::load(&call.service) else {
            continue;
        };
        match catalog.global_region(partition, &model, &call.operation) {
            Some(region) => tasks.push(Task {
                call: i,
                label: "global".into(),
                region,
            }),
            None => {
                let offered = catalog.service_regions(partition, &model);
                for r in regions {
                    if offered.as_ref().is_none_or(|o| o.contains(r)) {
                        tasks.push(Task {
                            call: i,
                            label: r.clone(),
                            region: r.clone(),
                        });
                    }
                }
            }
        }
    }
    tasks.retain(|t| !done(t));
    tasks
}

/// The output file stems of the calls: `<service>-<function>`, with `-2`, `-3`... for a
/// function listed again with other parameters.
pub fn stems<R>(calls: &[Call<R>]) -> Vec<String> {
    all_stems(calls).calls
}

/// The output file stems of the calls and of their details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stems {
    pub calls: Vec<String>,
    /// By call, the stem of each of its details.
    pub details: Vec<Vec<String>>,
}

/// [`stems`], details included: each call's stem, then its details', in order, unique
/// across the scan.
pub fn all_stems<R>(calls: &[Call<R>]) -> Stems {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut stem = |service: &str, function: &str| {
        let base = format!("{service}-{function}");
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}-{n}")
        }
    };
    let mut out = Stems {
        calls: Vec::with_capacity(calls.len()),
        details: Vec::with_capacity(calls.len()),
    };
    for c in calls {
        out.calls.push(stem(&c.service, &c.function));
        out.details.push(
            c.details
                .iter()
                .map(|d| stem(&d.service, &d.function))
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(service: &str, operation: &str) -> Call {
        Call {
            service: service.into(),
            operation: operation.into(),
            function: awsdyn::names::snake_case(operation),
            parameters: json!({}),
            result_key: None,
            details: Vec::new(),
            origin: String::new(),
        }
    }

    fn regions(names: &[&str]) -> Vec<String> {
        names.iter().map(|r| r.to_string()).collect()
    }

    /// `(call, label, region)` of each task.
    fn planned(tasks: &[Task]) -> Vec<(usize, &str, &str)> {
        tasks
            .iter()
            .map(|t| (t.call, t.label.as_str(), t.region.as_str()))
            .collect()
    }

    #[test]
    fn global_calls_go_once_to_the_partitions_global_region() {
        let catalog = Catalog::load().unwrap();
        let calls = [
            call("iam", "ListRoles"),
            call("s3", "ListBuckets"), // a global operation of a regional service
            call("ec2", "DescribeVpcs"),
        ];
        let two = regions(&["eu-west-1", "us-west-2"]);
        let tasks = plan_account(&calls, &catalog, "aws", &two, |_| false);
        assert_eq!(
            planned(&tasks),
            [
                (0, "global", "us-east-1"),
                (1, "global", "us-east-1"),
                (2, "eu-west-1", "eu-west-1"),
                (2, "us-west-2", "us-west-2"),
            ]
        );
        let china = regions(&["cn-north-1"]);
        let tasks = plan_account(&calls[1..2], &catalog, "aws-cn", &china, |_| false);
        assert_eq!(planned(&tasks), [(0, "global", "cn-northwest-1")]);
        let tasks = plan_account(&calls[..1], &catalog, "aws-cn", &china, |_| false);
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].label, "global");
        assert!(tasks[0].region.starts_with("cn-"), "{tasks:?}");
    }

    #[test]
    fn regional_calls_go_where_their_service_is_offered() {
        let catalog = Catalog::load().unwrap();
        // Regions listed by an account but unknown to the catalog's services: only a
        // service the catalog does not know is tried there.
        let calls = [call("ec2", "DescribeVpcs")];
        let tasks = plan_account(
            &calls,
            &catalog,
            "aws",
            &regions(&["us-east-1", "xx-nowhere-1"]),
            |_| false,
        );
        assert_eq!(planned(&tasks), [(0, "us-east-1", "us-east-1")]);
        // A region of another partition is not where an aws service is.
        let tasks = plan_account(&calls, &catalog, "aws", &regions(&["cn-north-1"]), |_| {
            false
        });
        assert!(tasks.is_empty(), "{tasks:?}");
    }

    #[test]
    fn settled_tasks_unknown_services_and_empty_inputs_plan_nothing() {
        let catalog = Catalog::load().unwrap();
        let calls = [
            call("ec2", "DescribeVpcs"),
            call("nosuchservice", "ListThings"),
            call("iam", "ListRoles"),
        ];
        let two = regions(&["eu-west-1", "us-east-1"]);
        let done = |t: &Task| (t.call == 0 && t.label == "eu-west-1") || t.label == "global";
        let tasks = plan_account(&calls, &catalog, "aws", &two, done);
        assert_eq!(planned(&tasks), [(0, "us-east-1", "us-east-1")]);
        // No regions: the global calls only.
        let tasks = plan_account(&calls, &catalog, "aws", &[], |_| false);
        assert_eq!(planned(&tasks), [(2, "global", "us-east-1")]);
        // No calls, or everything settled: nothing.
        assert!(plan_account::<String>(&[], &catalog, "aws", &two, |_| false).is_empty());
        assert!(plan_account(&calls, &catalog, "aws", &two, |_| true).is_empty());
    }

    #[test]
    fn stems_are_unique() {
        let call = |s: &str, f: &str| -> Call {
            Call {
                service: s.into(),
                operation: String::new(),
                function: f.into(),
                parameters: json!({}),
                result_key: None,
                details: Vec::new(),
                origin: String::new(),
            }
        };
        let s = stems(&[
            call("ec2", "describe_images"),
            call("ec2", "describe_vpcs"),
            call("ec2", "describe_images"),
        ]);
        assert_eq!(
            s,
            [
                "ec2-describe_images",
                "ec2-describe_vpcs",
                "ec2-describe_images-2"
            ]
        );
    }
}
