//! The flags of `census report` and its reports.
//!
//! Not for building the reports: see [`crate::report`].

use std::path::PathBuf;

use clap::Subcommand;

use super::accounts::{parse_bool, AssumeFlags, BaseFlags};
use super::{positive, positive_secs};

/// Default `--account-timeout`, seconds.
pub const DEFAULT_ACCOUNT_TIMEOUT: u64 = 300;
/// Default `--concurrency`: accounts processed at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// `census report` subcommands.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The account metadata report: one CSV per organization with each account's
    /// name, status, tags, the regions it has resources in and their region group.
    ///
    /// Files are named aws-<management account id>-account-metadata-report-<UTC
    /// timestamp>.csv, written to --local-dir and uploaded to --s3-bucket. Columns:
    /// Account_Id, Account_Name, Org_ID, Tenant_Name, CSP, Billing_Account_State,
    /// Region_Group, Regions, Tenant_ID, Environment, Aide_ID, Notes. `.env` keys
    /// OUTPUT_BUCKET, DYNAMO_TABLE_NAME and CROSS_ACCOUNT_ROLE_NAME give defaults.
    Accounts(ReportAccountsFlags),
    /// One self-contained HTML page of a scan from the store: overview, organization
    /// tree, resources by account, service, region and type, problems with what to do,
    /// changes since the scan before (as census diff finds them), and a searchable,
    /// sortable table of every resource. No request leaves the page. Example: census
    /// report html -o report.html (census scan --html writes one into the scan folder).
    Html(super::report_html::ReportHtmlFlags),
    /// Resources missing required tags (absent or empty), from the scan database: the
    /// counts per account and type, or each resource with --resources.
    ///
    /// Requirements default to the account report's conventions: Environment, and
    /// Aide_ID or one of its alternates AideId, AIDE_ID (written
    /// `--require 'Environment,Aide_ID|AideId|AIDE_ID'`). The resources are chosen as
    /// by census inventory (--account, --region, --type, --tag, --scan). Example:
    /// census report tags --require Environment,Owner --resources -o untagged.csv
    Tags(super::inventory::ReportTagsFlags),
}

/// `census report accounts` flags.
#[derive(Debug, clap::Args)]
pub struct ReportAccountsFlags {
    /// Report on the caller's own organization (the default when neither
    /// --org-role-arn nor --tenants-table is given).
    #[arg(long)]
    pub org: bool,
    /// Enter an organization through this role in its management account; repeatable.
    #[arg(long = "org-role-arn")]
    pub org_role_arns: Vec<String>,
    /// DynamoDB table listing the organizations, one item each [default: $DYNAMO_TABLE_NAME].
    #[arg(long = "tenants-table", value_name = "TABLE")]
    pub tenants_table: Option<String>,
    /// The tenants table's region [default: the base region].
    #[arg(long = "tenants-region")]
    pub tenants_region: Option<String>,
    /// Tenants attribute holding the organization role ARN.
    #[arg(long = "tenant-role-arn-attribute", default_value = "org_role_arn")]
    pub tenant_role_arn_attribute: String,
    /// Tenants attribute holding the management account id (used when there is no role
    /// ARN: the role is then --role-name in that account).
    #[arg(
        long = "tenant-management-account-attribute",
        default_value = "management_account_id"
    )]
    pub tenant_management_account_attribute: String,
    /// Tenants attribute holding the Tenant_Name.
    #[arg(long = "tenant-name-attribute", default_value = "tenant_name")]
    pub tenant_name_attribute: String,
    /// Tenants attribute holding the Tenant_ID.
    #[arg(long = "tenant-id-attribute", default_value = "tenant_id")]
    pub tenant_id_attribute: String,
    /// Tenant_Name for organizations not from the tenants table.
    #[arg(long = "tenant-name")]
    pub tenant_name: Option<String>,
    /// Tenant_ID for organizations not from the tenants table.
    #[arg(long = "tenant-id")]
    pub tenant_id: Option<String>,
    /// Upload the reports to this bucket, encrypted (SSE-S3) [default: $OUTPUT_BUCKET].
    #[arg(long = "s3-bucket")]
    pub s3_bucket: Option<String>,
    /// Key prefix for the reports in the bucket.
    #[arg(long = "s3-prefix")]
    pub s3_prefix: Option<String>,
    /// The bucket's region, when the identity may not ask S3 for it.
    #[arg(long = "s3-region")]
    pub s3_region: Option<String>,
    /// Where the reports are written (and kept).
    #[arg(long = "local-dir", default_value = "census-reports")]
    pub local_dir: PathBuf,
    /// Role to assume in each account [default: $CROSS_ACCOUNT_ROLE_NAME, else
    /// OrganizationAccountAccessRole].
    #[arg(long = "role-name")]
    pub role_name: Option<String>,
    #[command(flatten)]
    pub assume: AssumeFlags,
    /// Assume member roles from the organization role rather than from the base identity.
    #[arg(long = "chain-through-management", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub chain_through_management: bool,
    /// Look in these regions instead of each account's enabled regions (space- or
    /// comma-separated).
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
    /// Region groups: a table such as 'US=us-east-1,us-east-2;EU=eu-west-1' or a file
    /// (one NAME=regions per line, or a JSON object of lists) [default:
    /// US=us-east-1,us-east-2,us-west-1,us-west-2;UK=eu-west-2;EU=eu-north-1,eu-west-1;BR=sa-east-1].
    #[arg(long = "region-groups", value_name = "TABLE|FILE")]
    pub region_groups: Option<String>,
    /// Account tag keys for Environment, first present wins (comma-separated)
    /// [default: Environment].
    #[arg(long = "environment-tag", value_delimiter = ',')]
    pub environment_tags: Vec<String>,
    /// Account tag keys for Aide_ID, first present wins (comma-separated) [default:
    /// Aide_ID,AideId,AIDE_ID].
    #[arg(long = "aide-id-tag", value_delimiter = ',')]
    pub aide_id_tags: Vec<String>,
    /// Seconds allowed for one account; a slower account keeps its row with a note.
    #[arg(long = "account-timeout", default_value_t = DEFAULT_ACCOUNT_TIMEOUT, value_parser = positive_secs)]
    pub account_timeout: u64,
    /// Accounts processed at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = positive)]
    pub concurrency: usize,
    #[command(flatten)]
    pub base: BaseFlags,
}

impl ReportAccountsFlags {
    /// The tenants table's attribute names.
    pub fn tenant_columns(&self) -> crate::discover::tenants::Columns {
        crate::discover::tenants::Columns {
            role_arn: self.tenant_role_arn_attribute.clone(),
            management_account: self.tenant_management_account_attribute.clone(),
            tenant_name: self.tenant_name_attribute.clone(),
            tenant_id: self.tenant_id_attribute.clone(),
        }
    }
}
