//! Per-service facts, as data (`services.json`): which services botocore treats
//! specially and how, keyed by the botocore service name. The code that acts on them is
//! in `model` (changes to a model when it is loaded) and `customize` (changes to a
//! call's input and result); the client reads the signing and endpoint facts. Nothing
//! here knows about model types: it is a leaf module that depends on no other.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

/// What awsdyn does differently for one service; every fact is off by default.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceFacts {
    /// `/{Bucket}` is dropped from request URIs: the endpoint rule set puts the bucket
    /// in the URL (s3).
    pub drop_bucket_from_uri: bool,
    /// The `{AccountId}.` host prefix is dropped from operations whose static context
    /// requires an account id: the endpoint rule set adds it (s3control).
    pub drop_account_host_prefix: bool,
    /// The endpoint built-in `AWS::S3::UseGlobalEndpoint` is set (s3).
    pub use_global_endpoint: bool,
    /// Requests are signed S3-style: no double URI encoding, payload hash header (s3).
    pub s3_signing: bool,
    /// A 200 answer whose body is an `<Error>` document is an error (status 500),
    /// except for operations whose payload is a blob or string (s3).
    pub error_in_200: bool,
    /// Operations of a regional service whose answer covers every region: scanned once
    /// per account, in the partition's global region.
    pub global_operations: Vec<String>,
    /// Operations sent with `EncodingType=url` when the caller did not choose one; the
    /// answer's listed members are then URL-decoded (s3 ListObjects, ...).
    pub url_encoded_listings: BTreeMap<String, UrlDecoded>,
    /// Per operation, the result member read from the root element's text of the
    /// answer (s3 GetBucketLocation: `LocationConstraint`).
    pub root_text_results: BTreeMap<String, String>,
    /// Result members whose target is the string shape of this name are URL-decoded
    /// and parsed as JSON, in every operation (iam `policyDocumentType`).
    pub url_encoded_json_shape: Option<String>,
    /// Per operation, a result member holding JSON text, parsed (cloudformation
    /// GetTemplate: `TemplateBody`).
    pub json_results: BTreeMap<String, String>,
    /// Per operation, a base64 result member, decoded (ec2 GetConsoleOutput: `Output`).
    pub base64_results: BTreeMap<String, String>,
}

/// The members of one listing's answer that are URL-decoded.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlDecoded {
    /// Top-level string members.
    pub members: Vec<String>,
    /// `(list, member)`: that member of every item of that list.
    pub nested: Vec<(String, String)>,
}

/// The facts of a service by botocore name (`s3`); empty ones for a service with none.
pub fn service_facts(service: &str) -> &'static ServiceFacts {
    static ALL: OnceLock<HashMap<String, ServiceFacts>> = OnceLock::new();
    static NONE: OnceLock<ServiceFacts> = OnceLock::new();
    ALL.get_or_init(|| {
        serde_json::from_str(include_str!("services.json"))
            .expect("the bundled services.json is invalid")
    })
    .get(service)
    .unwrap_or_else(|| NONE.get_or_init(ServiceFacts::default))
}

/// Whether an operation of a regional service answers for every region (s3
/// ListBuckets): called once per account, in the partition's global region.
pub fn is_global_operation(service: &str, operation: &str) -> bool {
    service_facts(service)
        .global_operations
        .iter()
        .any(|o| o == operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_load() {
        assert!(service_facts("s3").drop_bucket_from_uri);
        assert!(service_facts("s3control").drop_account_host_prefix);
        assert!(!service_facts("ec2").s3_signing);
        assert!(!service_facts("no-such-service").error_in_200);
        assert!(is_global_operation("s3", "ListBuckets"));
        assert!(is_global_operation(
            "s3control",
            "ListAccessPointsForObjectLambda"
        ));
        assert!(!is_global_operation("s3", "ListObjectsV2"));
        assert!(service_facts("s3")
            .url_encoded_listings
            .contains_key("ListObjectVersions"));
    }

    #[test]
    fn every_service_named_exists() {
        let all: HashMap<String, serde_json::Value> =
            serde_json::from_str(include_str!("services.json")).unwrap();
        for name in all.keys() {
            assert!(crate::model::load(name).is_ok(), "{name}");
        }
    }
}
