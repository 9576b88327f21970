//! The endpoint parameters of one call, built from the model as botocore builds
//! them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::jmespath;
use super::{rule_set, EndpointError, ParamValue, Params, RuleSet};
use crate::model::{Operation, ServiceModel};
use crate::names;

/// Client configuration that feeds endpoint resolution: the values of the rule
/// sets' built-in parameters, and client context parameters.
///
/// Built-ins are matched to parameters by their `builtIn` name, so one
/// configuration serves every service: `s3_accelerate` only matters to rule sets
/// that declare `AWS::S3::Accelerate`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointConfig {
    /// `AWS::Region`.
    pub region: Option<String>,
    /// `AWS::UseFIPS`.
    pub use_fips: bool,
    /// `AWS::UseDualStack`.
    pub use_dual_stack: bool,
    /// `SDK::Endpoint`: an endpoint URL that overrides the rule set's.
    pub endpoint_url: Option<String>,
    /// `AWS::S3::Accelerate`: S3 Transfer Acceleration.
    pub s3_accelerate: bool,
    /// `AWS::S3::ForcePathStyle`: `https://s3.../bucket` rather than `https://bucket.s3...`.
    pub s3_force_path_style: bool,
    /// `AWS::S3::UseArnRegion`: take the region of an access-point ARN over the
    /// client's. Unset leaves the rule set's behaviour (botocore's default is true).
    pub s3_use_arn_region: Option<bool>,
    /// `AWS::S3::DisableMultiRegionAccessPoints`.
    pub s3_disable_multi_region_access_points: bool,
    /// `AWS::S3::UseGlobalEndpoint`: us-east-1 requests go to `s3.amazonaws.com`.
    pub s3_use_global_endpoint: bool,
    /// `AWS::S3Control::UseArnRegion`.
    pub s3_control_use_arn_region: Option<bool>,
    /// `AWS::STS::UseGlobalEndpoint`: requests in the legacy global regions go to
    /// `sts.amazonaws.com`.
    pub sts_use_global_endpoint: bool,
    /// `AWS::Auth::AccountId`: the account id of the credentials, for account-based
    /// endpoints (DynamoDB).
    pub account_id: Option<String>,
    /// `AWS::Auth::AccountIdEndpointMode`: `preferred`, `required` or `disabled`.
    pub account_id_endpoint_mode: Option<String>,
    /// Client context parameters (a model's `clientContextParams`, e.g. S3's
    /// `DisableS3ExpressSessionAuth`), by parameter name in model (`PascalCase`) or
    /// boto3 (`snake_case`) form.
    pub client_context: BTreeMap<String, ParamValue>,
}

impl EndpointConfig {
    /// A configuration for a region, with every other setting at its default.
    pub fn for_region(region: impl Into<String>) -> EndpointConfig {
        EndpointConfig {
            region: Some(region.into()),
            ..EndpointConfig::default()
        }
    }

    /// The value of a built-in parameter, or `None` for a built-in this
    /// configuration does not know or leaves unset.
    pub fn built_in(&self, name: &str) -> Option<ParamValue> {
        let s = |v: &Option<String>| v.clone().map(ParamValue::String);
        match name {
            "AWS::Region" => s(&self.region),
            "AWS::UseFIPS" => Some(self.use_fips.into()),
            "AWS::UseDualStack" => Some(self.use_dual_stack.into()),
            "SDK::Endpoint" => s(&self.endpoint_url),
            "AWS::S3::Accelerate" => Some(self.s3_accelerate.into()),
            "AWS::S3::ForcePathStyle" => Some(self.s3_force_path_style.into()),
            "AWS::S3::UseArnRegion" => self.s3_use_arn_region.map(ParamValue::Bool),
            "AWS::S3::DisableMultiRegionAccessPoints" => {
                Some(self.s3_disable_multi_region_access_points.into())
            }
            "AWS::S3::UseGlobalEndpoint" => Some(self.s3_use_global_endpoint.into()),
            "AWS::S3Control::UseArnRegion" => self.s3_control_use_arn_region.map(ParamValue::Bool),
            "AWS::STS::UseGlobalEndpoint" => Some(self.sts_use_global_endpoint.into()),
            "AWS::Auth::AccountId" => s(&self.account_id),
            "AWS::Auth::AccountIdEndpointMode" => s(&self.account_id_endpoint_mode),
            _ => None,
        }
    }

    /// Sets a built-in by name from a JSON value (as the endpoint test files give
    /// them). Returns false for an unknown name or a value of the wrong type.
    pub fn set_built_in(&mut self, name: &str, value: &Value) -> bool {
        let (b, s) = (value.as_bool(), value.as_str().map(str::to_string));
        match name {
            "AWS::Region" => s.map(|v| self.region = Some(v)).is_some(),
            "AWS::UseFIPS" => b.map(|v| self.use_fips = v).is_some(),
            "AWS::UseDualStack" => b.map(|v| self.use_dual_stack = v).is_some(),
            "SDK::Endpoint" => s.map(|v| self.endpoint_url = Some(v)).is_some(),
            "AWS::S3::Accelerate" => b.map(|v| self.s3_accelerate = v).is_some(),
            "AWS::S3::ForcePathStyle" => b.map(|v| self.s3_force_path_style = v).is_some(),
            "AWS::S3::UseArnRegion" => b.map(|v| self.s3_use_arn_region = Some(v)).is_some(),
            "AWS::S3::DisableMultiRegionAccessPoints" => b
                .map(|v| self.s3_disable_multi_region_access_points = v)
                .is_some(),
            "AWS::S3::UseGlobalEndpoint" => b.map(|v| self.s3_use_global_endpoint = v).is_some(),
            "AWS::S3Control::UseArnRegion" => b
                .map(|v| self.s3_control_use_arn_region = Some(v))
                .is_some(),
            "AWS::STS::UseGlobalEndpoint" => b.map(|v| self.sts_use_global_endpoint = v).is_some(),
            "AWS::Auth::AccountId" => s.map(|v| self.account_id = Some(v)).is_some(),
            "AWS::Auth::AccountIdEndpointMode" => {
                s.map(|v| self.account_id_endpoint_mode = Some(v)).is_some()
            }
            _ => false,
        }
    }

    fn client_context(&self, param: &str) -> Option<ParamValue> {
        if self.client_context.is_empty() {
            return None;
        }
        if let Some(v) = self.client_context.get(param) {
            return Some(v.clone());
        }
        let wanted = names::normalize(param);
        self.client_context
            .iter()
            .find(|(k, _)| names::normalize(k) == wanted)
            .map(|(_, v)| v.clone())
    }
}

/// The endpoint parameters of one call (see [`RuleSet::params_for`]), with the
/// service's cached rule set.
pub fn params_for(
    model: &ServiceModel,
    operation: &Operation,
    input: &Value,
    config: &EndpointConfig,
) -> Result<Params, EndpointError> {
    Ok(rule_set(model)?.params_for(model, operation, input, config))
}

impl RuleSet {
    /// The endpoint parameters of one call. Each declared parameter takes the first
    /// value found in, in order (botocore's order):
    /// 1. the operation's `staticContextParams`;
    /// 2. the input member whose `contextParam` names it;
    /// 3. the operation's `operationContextParams` path, evaluated over the input;
    /// 4. the configuration's client context parameters;
    /// 5. the configuration's value of the parameter's built-in.
    ///
    /// Values that are not booleans, strings or lists of strings are ignored.
    pub fn params_for(
        &self,
        model: &ServiceModel,
        operation: &Operation,
        input: &Value,
        config: &EndpointConfig,
    ) -> Params {
        let mut params = Params::new();
        // (parameter, input member) for every member marked `contextParam`.
        let context_members: Vec<(&str, &str)> = operation
            .input
            .as_ref()
            .map(|r| model.shape(r.target))
            .into_iter()
            .flat_map(|shape| shape.members.iter())
            .filter_map(|(member, m)| {
                let param = m.context_param()?.get("name")?.as_str()?;
                Some((param, member.as_str()))
            })
            .collect();
        for p in self.parameters() {
            let name = p.name.as_str();
            let from_static = || {
                let v = operation
                    .static_context_params
                    .as_ref()?
                    .get(name)?
                    .get("value")?;
                ParamValue::from_json(v)
            };
            let from_member = || {
                let &(_, member) = context_members.iter().find(|(param, _)| *param == name)?;
                ParamValue::from_json(input.get(member)?)
            };
            let from_path = || {
                let path = operation
                    .operation_context_params
                    .as_ref()?
                    .get(name)?
                    .get("path")?
                    .as_str()?;
                // A path outside the supported subset leaves the parameter unset.
                let expr = jmespath::parse(path).ok()?;
                ParamValue::from_json(&jmespath::search(&expr, input))
            };
            let value = from_static()
                .or_else(from_member)
                .or_else(from_path)
                .or_else(|| config.client_context(name))
                .or_else(|| config.built_in(p.built_in.as_deref()?));
            if let Some(v) = value {
                params.set(name, v);
            }
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn built_ins_by_name() {
        let mut c = EndpointConfig::for_region("eu-west-1");
        assert!(c.set_built_in("AWS::UseFIPS", &json!(true)));
        assert!(c.set_built_in("AWS::S3::UseArnRegion", &json!(false)));
        assert!(!c.set_built_in("AWS::Nope", &json!(true)));
        assert!(!c.set_built_in("AWS::Region", &json!(true)));
        assert_eq!(c.built_in("AWS::Region"), Some("eu-west-1".into()));
        assert_eq!(c.built_in("AWS::UseFIPS"), Some(true.into()));
        assert_eq!(c.built_in("AWS::S3::UseArnRegion"), Some(false.into()));
        assert_eq!(c.built_in("AWS::S3Control::UseArnRegion"), None);
        assert_eq!(c.built_in("SDK::Endpoint"), None);
    }

    #[test]
    fn s3_params_from_the_model() {
        let s3 = crate::model::load("s3").unwrap();
        let op = s3.operation("GetObject").unwrap();
        let mut config = EndpointConfig::for_region("us-west-2");
        config
            .client_context
            .insert("disable_s3_express_session_auth".into(), true.into());
        let p = params_for(
            &s3,
            op,
            &json!({"Bucket": "my-bucket", "Key": "k"}),
            &config,
        )
        .unwrap();
        assert_eq!(p.get("Bucket"), Some(&"my-bucket".into()));
        assert_eq!(p.get("Region"), Some(&"us-west-2".into()));
        assert_eq!(p.get("UseFIPS"), Some(&false.into()));
        assert_eq!(p.get("DisableS3ExpressSessionAuth"), Some(&true.into()));
        let e = super::super::resolve(
            &s3,
            op,
            &json!({"Bucket": "my-bucket", "Key": "k"}),
            &config,
        )
        .unwrap();
        assert_eq!(e.url, "https://my-bucket.s3.us-west-2.amazonaws.com");
        assert_eq!(e.signing_name(), Some("s3"));
        assert_eq!(e.signing_region(), Some("us-west-2"));
        // A static context parameter wins over everything.
        let op = s3.operation("CreateBucket").unwrap();
        let p = params_for(&s3, op, &json!({"Bucket": "b"}), &config).unwrap();
        assert_eq!(p.get("UseS3ExpressControlEndpoint"), Some(&true.into()));
    }

    #[test]
    fn dynamodb_operation_context_params() {
        let ddb = crate::model::load("dynamodb").unwrap();
        let config = EndpointConfig::for_region("us-east-1");
        let op = ddb.operation("BatchGetItem").unwrap();
        let p = params_for(
            &ddb,
            op,
            &json!({"RequestItems": {"t1": {}, "t2": {}}}),
            &config,
        )
        .unwrap();
        assert_eq!(
            p.get("ResourceArnList"),
            Some(&ParamValue::StringList(vec!["t1".into(), "t2".into()]))
        );
    }
}
