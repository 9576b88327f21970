//! The operations fakeaws answers, by service. Anything else gets the protocol's
//! "unknown operation" error, so a scan that asks for more says so in its summary.
//!
//! | service | protocol | operations |
//! |---|---|---|
//! | sts | query | GetCallerIdentity, AssumeRole |
//! | organizations | json 1.1 | DescribeOrganization, ListAccounts, ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent, ListTagsForResource |
//! | ec2 | ec2 | DescribeRegions, DescribeVpcs |
//! | sqs | json 1.0 | ListQueues |
//! | dynamodb | json 1.0 | ListTables |
//! | sns | query | ListTopics |
//!
//! Who calls: credentials from AssumeRole carry the account in their access key id
//! (`ASIAFAKE<12-digit account>`); any other key is the management account's.

use hyper::StatusCode;
use serde_json::{json, Value};

use crate::org::{self, Org, MANAGEMENT, ORG_ID, REGIONS, ROOT_ID};
use crate::wire::{self, el, error, ok_json, ok_xml, Answer, Protocol, Scope};

/// Access keys fakeaws issues: this prefix, then the account id.
const KEY_PREFIX: &str = "ASIAFAKE";
/// Organizations' page size (its real maximum for ListAccounts).
const PAGE: usize = 20;
/// When every account joined (JSON timestamps are epoch seconds).
const JOINED: f64 = 1_700_000_000.0;

pub fn protocol(service: &str) -> Protocol {
    match service {
        "sts" => Protocol::Query {
            namespace: "https://sts.amazonaws.com/doc/2011-06-15/",
        },
        "sns" => Protocol::Query {
            namespace: "http://sns.amazonaws.com/doc/2010-03-31/",
        },
        "ec2" => Protocol::Ec2,
        "organizations" => Protocol::Json { version: "1.1" },
        _ => Protocol::Json { version: "1.0" },
    }
}

/// The account a request acts as.
pub fn caller(scope: &Scope) -> String {
    match scope.access_key.strip_prefix(KEY_PREFIX) {
        Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => id.to_string(),
        _ => MANAGEMENT.to_string(),
    }
}

/// One request, decoded.
pub struct Call<'a> {
    pub org: &'a Org,
    pub scope: &'a Scope,
    pub account: String,
    pub operation: String,
    /// Form fields (query, ec2) ...
    pub fields: Vec<(String, String)>,
    /// ... or the JSON input.
    pub input: Value,
    pub request_id: String,
}

/// The operation a request names: X-Amz-Target's suffix for JSON, `Action` otherwise.
pub fn decode<'a>(
    org: &'a Org,
    scope: &'a Scope,
    target: Option<&str>,
    body: &[u8],
    request_id: String,
) -> Call<'a> {
    let mut call = Call {
        org,
        scope,
        account: caller(scope),
        operation: String::new(),
        fields: Vec::new(),
        input: Value::Null,
        request_id,
    };
    match protocol(&scope.service) {
        Protocol::Json { .. } => {
            call.operation = target
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or_default()
                .to_string();
            call.input = serde_json::from_slice(body).unwrap_or(Value::Null);
        }
        _ => {
            call.fields = wire::form(body);
            call.operation = wire::field(&call.fields, "Action")
                .unwrap_or_default()
                .to_string();
        }
    }
    call
}

impl Call<'_> {
    fn protocol(&self) -> Protocol {
        protocol(&self.scope.service)
    }

    fn fail(&self, status: StatusCode, code: &str, message: &str) -> Answer {
        error(self.protocol(), status, code, message, &self.request_id)
    }

    fn xml(&self, inner: &str) -> Answer {
        ok_xml(self.protocol(), &self.operation, inner, &self.request_id)
    }

    fn json(&self, value: Value) -> Answer {
        ok_json(self.protocol(), &value)
    }

    fn unknown(&self) -> Answer {
        let (code, status) = match self.protocol() {
            Protocol::Json { .. } => ("UnknownOperationException", StatusCode::BAD_REQUEST),
            _ => ("InvalidAction", StatusCode::BAD_REQUEST),
        };
        self.fail(
            status,
            code,
            &format!(
                "fakeaws does not implement {} {}",
                self.scope.service, self.operation
            ),
        )
    }

    fn text(&self, key: &str) -> Option<&str> {
        match self.protocol() {
            Protocol::Json { .. } => self.input.get(key).and_then(Value::as_str),
            _ => wire::field(&self.fields, key),
        }
    }

    pub fn answer(&self) -> Answer {
        match (self.scope.service.as_str(), self.operation.as_str()) {
            ("sts", "GetCallerIdentity") => self.get_caller_identity(),
            ("sts", "AssumeRole") => self.assume_role(),
            ("organizations", op) => self.organizations(op),
            ("ec2", "DescribeRegions") => self.describe_regions(),
            ("ec2", "DescribeVpcs") => self.describe_vpcs(),
            ("sqs", "ListQueues") => self.list_queues(),
            ("dynamodb", "ListTables") => self.list_tables(),
            ("sns", "ListTopics") => self.list_topics(),
            _ => self.unknown(),
        }
    }

    fn get_caller_identity(&self) -> Answer {
        let (arn, user_id) =
            if self.account == MANAGEMENT && !self.scope.access_key.starts_with(KEY_PREFIX) {
                (
                    format!("arn:aws:iam::{MANAGEMENT}:user/fakeaws"),
                    "AIDAFAKEAWS000000000".to_string(),
                )
            } else {
                (
                    format!(
                        "arn:aws:sts::{}:assumed-role/OrganizationAccountAccessRole/census",
                        self.account
                    ),
                    format!("AROAFAKE{}:census", self.account),
                )
            };
        let mut x = String::new();
        el(&mut x, "Arn", &arn);
        el(&mut x, "UserId", &user_id);
        el(&mut x, "Account", &self.account);
        self.xml(&x)
    }

    fn assume_role(&self) -> Answer {
        let Some(role_arn) = self.text("RoleArn") else {
            return self.fail(
                StatusCode::BAD_REQUEST,
                "MissingParameter",
                "RoleArn is required",
            );
        };
        let session = self.text("RoleSessionName").unwrap_or("session");
        // arn:<partition>:iam::<account>:role/<path/name>
        let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
        let (account, role) = match parts.as_slice() {
            ["arn", _, "iam", "", account, resource] if resource.starts_with("role/") => {
                (*account, resource.rsplit('/').next().unwrap_or_default())
            }
            _ => {
                return self.fail(
                    StatusCode::BAD_REQUEST,
                    "ValidationError",
                    &format!("{role_arn} is not a role ARN"),
                )
            }
        };
        if self.org.account(account).is_none() {
            return self.fail(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                &format!(
                    "User: arn:aws:iam::{}:user/fakeaws is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                    self.account
                ),
            );
        }
        let duration: u64 = self
            .text("DurationSeconds")
            .and_then(|d| d.parse().ok())
            .unwrap_or(3600);
        let expiration = iso8601(now() + duration);
        let mut x = String::from("<Credentials>");
        el(&mut x, "AccessKeyId", &format!("{KEY_PREFIX}{account}"));
        el(
            &mut x,
            "SecretAccessKey",
            "fakeawsSecretKey0000000000000000000000000",
        );
        el(
            &mut x,
            "SessionToken",
            &format!("FQoGZXIvYXdzEFAKE{account}"),
        );
        el(&mut x, "Expiration", &expiration);
        x.push_str("</Credentials><AssumedRoleUser>");
        el(
            &mut x,
            "AssumedRoleId",
            &format!("AROAFAKE{account}:{session}"),
        );
        el(
            &mut x,
            "Arn",
            &format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
        );
        x.push_str("</AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>");
        self.xml(&x)
    }

    fn organizations(&self, op: &str) -> Answer {
        let org = self.org;
        if self.account != MANAGEMENT && op != "DescribeOrganization" {
            return self.fail(
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                "You don't have permissions to access this resource.",
            );
        }
        let account_json = |a: &org::Account| {
            json!({
                "Id": a.id,
                "Arn": format!("arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{}", a.id),
                "Email": a.email,
                "Name": a.name,
                "Status": "ACTIVE",
                "State": "ACTIVE",
                "JoinedMethod": if a.id == MANAGEMENT { "INVITED" } else { "CREATED" },
                "JoinedTimestamp": JOINED,
            })
        };
        match op {
            "DescribeOrganization" => self.json(json!({
                "Organization": {
                    "Id": ORG_ID,
                    "Arn": format!("arn:aws:organizations::{MANAGEMENT}:organization/{ORG_ID}"),
                    "FeatureSet": "ALL",
                    "MasterAccountArn": format!("arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{MANAGEMENT}"),
                    "MasterAccountId": MANAGEMENT,
                    "MasterAccountEmail": "management@fakeaws.example",
                    "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
                }
            })),
            "ListAccounts" => {
                let all: Vec<&org::Account> = org.accounts.iter().collect();
                self.page(&all, "Accounts", account_json)
            }
            "ListAccountsForParent" => {
                let Some(parent) = self.text("ParentId").filter(|p| org.is_parent(p)) else {
                    return self.fail(
                        StatusCode::BAD_REQUEST,
                        "ParentNotFoundException",
                        "We can't find a root or OU with the ParentId that you specified.",
                    );
                };
                let under = org.accounts_under(parent);
                self.page(&under, "Accounts", account_json)
            }
            "ListRoots" => self.json(json!({
                "Roots": [{
                    "Id": ROOT_ID,
                    "Arn": format!("arn:aws:organizations::{MANAGEMENT}:root/{ORG_ID}/{ROOT_ID}"),
                    "Name": "Root",
                    "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
                }]
            })),
            "ListOrganizationalUnitsForParent" => {
                let Some(parent) = self.text("ParentId").filter(|p| org.is_parent(p)) else {
                    return self.fail(
                        StatusCode::BAD_REQUEST,
                        "ParentNotFoundException",
                        "We can't find a root or OU with the ParentId that you specified.",
                    );
                };
                let ous: Vec<Value> = org
                    .ous_under(parent)
                    .map(|o| {
                        json!({
                            "Id": o.id,
                            "Arn": format!("arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/{}", o.id),
                            "Name": o.name,
                        })
                    })
                    .collect();
                self.json(json!({ "OrganizationalUnits": ous }))
            }
            "ListTagsForResource" => {
                let Some(a) = self.text("ResourceId").and_then(|id| org.account(id)) else {
                    return self.fail(
                        StatusCode::BAD_REQUEST,
                        "TargetNotFoundException",
                        "We can't find a resource with the ResourceId that you specified.",
                    );
                };
                self.json(json!({
                    "Tags": [
                        {"Key": "Environment", "Value": a.environment},
                        {"Key": "Owner", "Value": a.owner},
                    ]
                }))
            }
            _ => self.unknown(),
        }
    }

    /// One page of `items` as Organizations pages: MaxResults (1-20, default 20) and
    /// NextToken (here, the offset).
    fn page(
        &self,
        items: &[&org::Account],
        key: &str,
        to_json: impl Fn(&org::Account) -> Value,
    ) -> Answer {
        let size = self
            .input
            .get("MaxResults")
            .and_then(Value::as_u64)
            .map_or(PAGE, |n| (n as usize).clamp(1, PAGE));
        let start = match self.input.get("NextToken").and_then(Value::as_str) {
            None => 0,
            Some(t) => match t.parse::<usize>() {
                Ok(n) if n <= items.len() => n,
                _ => {
                    return self.fail(
                        StatusCode::BAD_REQUEST,
                        "InvalidInputException",
                        "The NextToken is not valid.",
                    )
                }
            },
        };
        let end = (start + size).min(items.len());
        let mut out =
            json!({ key: items[start..end].iter().map(|a| to_json(a)).collect::<Vec<_>>() });
        if end < items.len() {
            out["NextToken"] = Value::from(end.to_string());
        }
        self.json(out)
    }

    fn describe_regions(&self) -> Answer {
        let mut x = String::from("<regionInfo>");
        for r in REGIONS {
            x.push_str("<item>");
            el(&mut x, "regionName", r);
            el(&mut x, "regionEndpoint", &format!("ec2.{r}.amazonaws.com"));
            el(&mut x, "optInStatus", "opt-in-not-required");
            x.push_str("</item>");
        }
        x.push_str("</regionInfo>");
        self.xml(&x)
    }

    fn describe_vpcs(&self) -> Answer {
        let region = &self.scope.region;
        let n = org::count(&self.account, region, "vpc");
        let mut x = String::from("<vpcSet>");
        for i in 0..n {
            let id = format!("vpc-{}{i:05x}", &self.account[7..]);
            let cidr = format!("10.{i}.0.0/16");
            x.push_str("<item>");
            el(&mut x, "vpcId", &id);
            el(&mut x, "ownerId", &self.account);
            el(&mut x, "state", "available");
            el(&mut x, "cidrBlock", &cidr);
            x.push_str("<cidrBlockAssociationSet><item>");
            el(&mut x, "cidrBlock", &cidr);
            el(
                &mut x,
                "associationId",
                &format!("vpc-cidr-assoc-{}{i:05x}", &self.account[7..]),
            );
            x.push_str("<cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet>");
            el(&mut x, "dhcpOptionsId", "dopt-0fake0000");
            el(&mut x, "instanceTenancy", "default");
            el(&mut x, "isDefault", if i == 0 { "true" } else { "false" });
            x.push_str("<tagSet><item>");
            el(&mut x, "key", "Name");
            el(&mut x, "value", &format!("vpc-{i}-{region}"));
            x.push_str("</item></tagSet></item>");
        }
        x.push_str("</vpcSet>");
        self.xml(&x)
    }

    fn list_queues(&self) -> Answer {
        let region = &self.scope.region;
        let n = org::count(&self.account, region, "sqs");
        let urls: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "https://sqs.{region}.amazonaws.com/{}/queue-{i}",
                    self.account
                )
            })
            .collect();
        self.json(json!({ "QueueUrls": urls }))
    }

    fn list_tables(&self) -> Answer {
        let n = org::count(&self.account, &self.scope.region, "dynamodb");
        let names: Vec<String> = (0..n).map(|i| format!("table-{i}")).collect();
        self.json(json!({ "TableNames": names }))
    }

    fn list_topics(&self) -> Answer {
        let region = &self.scope.region;
        let n = org::count(&self.account, region, "sns");
        let mut x = String::from("<Topics>");
        for i in 0..n {
            x.push_str("<member>");
            el(
                &mut x,
                "TopicArn",
                &format!("arn:aws:sns:{region}:{}:topic-{i}", self.account),
            );
            x.push_str("</member>");
        }
        x.push_str("</Topics>");
        self.xml(&x)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds since the epoch as `2026-11-24T07:00:00Z`.
fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn callers() {
        let scope = |k: &str| Scope {
            access_key: k.into(),
            region: "us-east-1".into(),
            service: "sts".into(),
        };
        assert_eq!(caller(&scope("testing")), MANAGEMENT);
        assert_eq!(caller(&scope("ASIAFAKE200000000001")), "200000000001");
        assert_eq!(caller(&scope("ASIAFAKE2000")), MANAGEMENT);
    }
}
