//! `census iam` flags: which IAM policy or template to print and for whom.
//!
//! Not for writing them: see [`crate::configgen::iam`].

use std::path::PathBuf;

/// `census iam` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum IamCommand {
    /// The policy for the identity Census runs as (and for each --org-role-arn role):
    /// read the organization and assume the member role in its accounts.
    ManagementPolicy(ManagementFlags),
    /// The member role's trust policy: who may assume it (AssumeRole from accounts or
    /// principals, with an optional external ID; AssumeRoleWithWebIdentity from an
    /// OIDC provider).
    TrustPolicy(TrustPolicyFlags),
    /// A CloudFormation template (StackSet-ready) that creates the member role with
    /// ReadOnlyAccess or SecurityAudit attached. Deploy with CAPABILITY_NAMED_IAM.
    MemberRoleTemplate(TemplateFlags),
    /// All of the above written to a folder: management-policy.json,
    /// member-trust-policy.json, member-role.yaml and member-role.json.
    All(AllFlags),
}

/// Who may assume the member role.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustFlags {
    /// The partition of the ARNs written (aws, aws-cn, aws-us-gov, ...).
    #[arg(long, default_value = "aws")]
    pub partition: String,
    /// An account Census runs in: its principals may assume the role (its IAM
    /// policies decide which); repeatable or comma-separated.
    #[arg(
        long = "trusted-account",
        value_delimiter = ',',
        value_name = "ACCOUNT_ID"
    )]
    pub trusted_accounts: Vec<String>,
    /// A role or user Census runs as; repeatable or comma-separated.
    #[arg(long = "trusted-principal", value_delimiter = ',', value_name = "ARN")]
    pub trusted_principals: Vec<String>,
    /// Require this external ID (sts:ExternalId) of the principals above.
    #[arg(long = "external-id")]
    pub external_id: Option<String>,
    /// Also trust this OIDC provider (AssumeRoleWithWebIdentity, e.g. an EKS cluster's
    /// for IRSA): arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID.
    #[arg(long = "oidc-provider-arn", value_name = "ARN")]
    pub oidc_provider_arn: Option<String>,
    /// The token subject the OIDC trust accepts (* and ? match anything).
    #[arg(
        long = "oidc-subject",
        default_value = "system:serviceaccount:census:census"
    )]
    pub oidc_subject: String,
    /// The token audience the OIDC trust accepts.
    #[arg(long = "oidc-audience", default_value = "sts.amazonaws.com")]
    pub oidc_audience: String,
}

/// `census iam management-policy` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ManagementFlags {
    #[command(flatten)]
    pub role: MemberRoleFlags,
    /// The partition of the ARNs written (aws, aws-cn, aws-us-gov, ...).
    #[arg(long, default_value = "aws")]
    pub partition: String,
    /// Write here instead of to stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The member role, as `census scan` will be told it.
#[derive(Debug, Clone, clap::Args)]
pub struct MemberRoleFlags {
    /// The member role's name, a path may come first (census/Reader) [default:
    /// CensusReadOnly; scan with the same --role-name].
    #[arg(long = "role-name", alias = "org-role-name", env = "ORG_ROLE_NAME")]
    pub role_name: Option<String>,
    /// The member role as a template, like census scan's (its {account_id} becomes *).
    #[arg(long = "role-arn-template")]
    pub role_arn_template: Option<String>,
    /// Roles that enter other organizations (census scan --org-role-arn): may be
    /// assumed too; repeatable.
    #[arg(long = "org-role-arn")]
    pub org_role_arns: Vec<String>,
}

/// `census iam trust-policy` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustPolicyFlags {
    #[command(flatten)]
    pub trust: TrustFlags,
    /// Write here instead of to stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The policy the member role gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManagedPolicy {
    /// arn:aws:iam::aws:policy/ReadOnlyAccess: every read (what census scan's all preset needs).
    #[value(name = "ReadOnlyAccess")]
    ReadOnlyAccess,
    /// arn:aws:iam::aws:policy/SecurityAudit: security configuration only.
    #[value(name = "SecurityAudit")]
    SecurityAudit,
}

impl ManagedPolicy {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ManagedPolicy::ReadOnlyAccess => "ReadOnlyAccess",
            ManagedPolicy::SecurityAudit => "SecurityAudit",
        }
    }
}

/// The template's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

/// The member role's own settings, for the template.
#[derive(Debug, Clone, clap::Args)]
pub struct RoleSettings {
    /// The AWS managed policy attached to the role.
    #[arg(long, value_enum, default_value = "ReadOnlyAccess")]
    pub policy: ManagedPolicy,
    /// The role's maximum session length in seconds (3600 to 43200).
    #[arg(long = "max-session-duration", default_value_t = 3600)]
    pub max_session_duration: u32,
}

/// `census iam member-role-template` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateFlags {
    #[command(flatten)]
    pub trust: TrustFlags,
    /// The member role's name, a path may come first (census/Reader) [default:
    /// CensusReadOnly; scan with the same --role-name].
    #[arg(long = "role-name", alias = "org-role-name", env = "ORG_ROLE_NAME")]
    pub role_name: Option<String>,
    #[command(flatten)]
    pub settings: RoleSettings,
    /// yaml or json.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: Format,
    /// Write here instead of to stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `census iam all` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct AllFlags {
    #[command(flatten)]
    pub trust: TrustFlags,
    #[command(flatten)]
    pub role: MemberRoleFlags,
    #[command(flatten)]
    pub settings: RoleSettings,
    /// The folder the files are written to.
    #[arg(long = "output-dir", value_name = "DIR", default_value = "census-iam")]
    pub output_dir: PathBuf,
}
