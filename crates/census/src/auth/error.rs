//! Why an account could not be accessed, and what to do about it.

use std::fmt;
use std::path::Path;

use serde::Serialize;

/// What kind of access failure an [`AccessError`] is: it decides the remediation text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessErrorKind {
    /// STS refused the role: trust policy, the caller's permissions, or the external ID.
    Denied,
    /// The role does not exist.
    NoSuchRole,
    /// The base credentials are missing, expired or invalid.
    BaseCredentials,
    /// STS is not activated in the region used.
    RegionDisabled,
    /// The requested session duration is longer than the role allows.
    Duration,
    /// The web identity token could not be read, or STS rejected it.
    WebIdentity,
    /// STS kept throttling after every retry.
    Throttled,
    /// STS could not be reached.
    Network,
    /// The role options are invalid (role name, template, session name...).
    Options,
    /// Anything else: the AWS code and message say what.
    Other,
}

/// An account that could not be accessed (or base credentials that do not work), as a
/// value: the account, the role, the AWS error code and message, and what to do.
///
/// `Display` is one line. No field ever holds a secret: messages come from AWS error
/// responses or name files and ARNs, never credentials or tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessError {
    pub kind: AccessErrorKind,
    /// The account that could not be accessed; `None` for the base credentials and for
    /// invalid options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The role that could not be assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The AWS error code (`AccessDenied`, `ExpiredToken`...), or the kind of local
    /// failure (`Transport`, `TokenFile`, `InvalidOption`...).
    pub code: String,
    /// The AWS error message (or the local failure), on one line.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What to do about it, in one sentence.
    pub remediation: String,
    /// Whether trying again later may work (throttling, 5xx, a reset or a timeout that
    /// outlasted every retry), as opposed to a refusal that stays until something is
    /// changed (access denied, no such role...).
    #[serde(skip)]
    pub retryable: bool,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.account_id, &self.role_arn, self.kind) {
            (Some(account), Some(role), _) => write!(f, "account {account}: cannot assume {role}")?,
            (Some(account), None, _) => write!(f, "account {account}")?,
            (None, Some(role), _) => write!(f, "cannot assume {role}")?,
            (None, None, AccessErrorKind::Options) => f.write_str("role options")?,
            (None, None, _) => f.write_str("base credentials")?,
        }
        if !self.code.is_empty() {
            write!(f, ": {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if !self.remediation.is_empty() {
            write!(f, "; {}", self.remediation)?;
        }
        Ok(())
    }
}

impl std::error::Error for AccessError {}

/// Whether an AWS error code says the credentials that signed the request ran out
/// (not `RequestExpired`: that is a signature older than 5 minutes, a clock problem).
/// A call that failed so is run again by `--resume`, once the credentials are renewed.
pub(crate) fn is_expired_code(code: &str) -> bool {
    matches!(
        code,
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired"
    )
}

/// Error codes that mean the credentials used to sign were not accepted.
const BAD_CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "InvalidSignatureException",
];

/// Everything needed to explain a failed role assumption.
pub(crate) struct AssumeFailure<'a> {
    pub account_id: &'a str,
    pub role_arn: &'a str,
    /// The identity the role's trust policy must trust (the caller's ARN, or the
    /// management role's ARN when chaining).
    pub principal: &'a str,
    pub external_id: bool,
    /// Set in web identity mode.
    pub token_file: Option<&'a Path>,
    pub region: &'a str,
    pub duration_seconds: u32,
    /// The shared-config profile the base credentials came from, if any.
    pub profile: Option<&'a str>,
}

/// Everything needed to explain a failed read call made as an account.
pub(crate) struct ReadFailure<'a> {
    pub account_id: &'a str,
    /// The role whose credentials made the call; `None` for the base credentials.
    pub role_arn: Option<&'a str>,
    /// The caller's ARN (who made the call when there is no role).
    pub principal: &'a str,
    /// `service:Operation`, as IAM names the permission.
    pub operation: &'a str,
    pub region: &'a str,
    pub profile: Option<&'a str>,
}

/// Whether an AccessDenied message says a service control policy denied the call
/// ("... with an explicit deny in a service control policy").
fn is_scp_denial(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("service control policy")
}

impl AccessError {
    /// A failed `AssumeRole` / `AssumeRoleWithWebIdentity` call.
    pub(crate) fn assume(ctx: &AssumeFailure<'_>, error: &awsdyn::Error) -> AccessError {
        let (code, message, request_id) = parts(error);
        let kind = classify(error, &code, &message, ctx.token_file.is_some());
        let remediation = match kind {
            AccessErrorKind::Denied if is_scp_denial(&message) => format!(
                "a service control policy (SCP) of the organization denies {} sts:AssumeRole on {}: exempt it in the SCP (e.g. a condition on aws:PrincipalArn)",
                ctx.principal, ctx.role_arn
            ),
            AccessErrorKind::Denied => match ctx.token_file {
                Some(file) => format!(
                    "the trust policy of {} does not trust the web identity in {} (its OIDC provider, audience or subject)",
                    ctx.role_arn,
                    file.display()
                ),
                None => {
                    let external = if ctx.external_id {
                        ", or the external ID given does not match the trust policy's sts:ExternalId condition"
                    } else {
                        ", or the trust policy requires an external ID (pass --external-id)"
                    };
                    format!(
                        "the role's trust policy does not trust {}, or the caller lacks sts:AssumeRole on {}, or the role is missing or misnamed in account {} (AWS answers AccessDenied for a role that does not exist: check --role-name or --role-arn-template; census iam member-role-template creates it){external}",
                        ctx.principal, ctx.role_arn, ctx.account_id
                    )
                }
            },
            AccessErrorKind::NoSuchRole => format!(
                "create the role {} in account {} trusting {} (census iam prints a template), or name another with --role-name or --role-arn-template",
                ctx.role_arn, ctx.account_id, ctx.principal
            ),
            AccessErrorKind::Duration => format!(
                "lower --duration (now {} s) to at most the role's maximum session duration (1 hour when the role is assumed from another role)",
                ctx.duration_seconds
            ),
            AccessErrorKind::WebIdentity => web_identity_fix(ctx.token_file),
            _ => common_fix(kind, ctx.region, ctx.profile),
        };
        AccessError {
            kind,
            account_id: Some(ctx.account_id.to_string()),
            role_arn: Some(ctx.role_arn.to_string()),
            code,
            message,
            request_id,
            remediation,
            retryable: error.is_retryable(),
        }
    }

    /// A failed read call (`operation` as `service:Operation`, e.g. `ec2:DescribeRegions`)
    /// made in `region` with the credentials of `account_id`: those of `role_arn`, or
    /// the base ones (`principal`) for the caller's own account.
    pub(crate) fn read_call(ctx: &ReadFailure<'_>, error: &awsdyn::Error) -> AccessError {
        let (code, message, request_id) = parts(error);
        let mut kind = classify(error, &code, &message, false);
        // EC2 answers OptInRequired in a region the account has not enabled, and
        // AuthFailure to role credentials that just worked elsewhere.
        if code == "OptInRequired" || (code == "AuthFailure" && ctx.role_arn.is_some()) {
            kind = AccessErrorKind::RegionDisabled;
        }
        let who = ctx.role_arn.unwrap_or(ctx.principal);
        let remediation = match kind {
            AccessErrorKind::Denied if is_scp_denial(&message) => format!(
                "a service control policy (SCP) denies {} in account {}: exempt {who} in the SCP (e.g. a condition on aws:PrincipalArn), or leave the account out",
                ctx.operation, ctx.account_id
            ),
            AccessErrorKind::Denied => format!(
                "{who} lacks read permissions ({}): attach the ReadOnlyAccess or SecurityAudit managed policy to it",
                ctx.operation
            ),
            AccessErrorKind::RegionDisabled => format!(
                "the region {} is not enabled in account {}: enable it (Account > AWS Regions, or aws account enable-region) or call from an enabled one with --region",
                ctx.region, ctx.account_id
            ),
            _ => common_fix(kind, ctx.region, ctx.profile),
        };
        AccessError {
            kind,
            account_id: Some(ctx.account_id.to_string()),
            role_arn: ctx.role_arn.map(str::to_string),
            code,
            message,
            request_id,
            remediation,
            retryable: error.is_retryable(),
        }
    }

    /// A failed call made with the base credentials themselves (sts GetCallerIdentity).
    pub(crate) fn base(error: &awsdyn::Error, region: &str, profile: Option<&str>) -> AccessError {
        let (code, message, request_id) = parts(error);
        let mut kind = classify(error, &code, &message, false);
        if kind == AccessErrorKind::Denied {
            // GetCallerIdentity needs no permission: a denial means the keys are bad.
            kind = AccessErrorKind::BaseCredentials;
        }
        AccessError {
            kind,
            account_id: None,
            role_arn: None,
            code,
            message,
            request_id,
            remediation: common_fix(kind, region, profile),
            retryable: error.is_retryable(),
        }
    }

    /// The default chain gave no credentials.
    pub(crate) fn no_base_credentials(message: String, profile: Option<&str>) -> AccessError {
        AccessError {
            kind: AccessErrorKind::BaseCredentials,
            account_id: None,
            role_arn: None,
            code: "NoCredentials".into(),
            message: one_line(&message),
            request_id: None,
            remediation: common_fix(AccessErrorKind::BaseCredentials, "", profile),
            retryable: false,
        }
    }

    /// The web identity token file could not be read.
    pub(crate) fn token_file(
        account_id: &str,
        role_arn: &str,
        file: &Path,
        error: &std::io::Error,
    ) -> AccessError {
        AccessError {
            kind: AccessErrorKind::WebIdentity,
            account_id: Some(account_id.to_string()),
            role_arn: Some(role_arn.to_string()),
            code: "TokenFile".into(),
            message: one_line(&format!("cannot read {}: {error}", file.display())),
            request_id: None,
            remediation: web_identity_fix(Some(file)),
            retryable: false,
        }
    }

    /// STS answered, but not with usable credentials.
    pub(crate) fn bad_response(account_id: &str, role_arn: &str, what: &str) -> AccessError {
        AccessError {
            kind: AccessErrorKind::Other,
            account_id: Some(account_id.to_string()),
            role_arn: Some(role_arn.to_string()),
            code: "BadResponse".into(),
            message: format!("STS answered without {what}"),
            request_id: None,
            remediation: "check that the STS endpoint in use (AWS_ENDPOINT_URL) is AWS STS".into(),
            retryable: false,
        }
    }

    /// An invalid role option (`what` names the flag).
    pub(crate) fn options(what: &str, message: String, fix: &str) -> AccessError {
        AccessError {
            kind: AccessErrorKind::Options,
            account_id: None,
            role_arn: None,
            code: "InvalidOption".into(),
            message: one_line(&format!("{what}: {message}")),
            request_id: None,
            remediation: fix.to_string(),
            retryable: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn test_error() -> AccessError {
        AccessError::options("--test", "failing on purpose".into(), "")
    }
}

/// Code, one-line message and request id of an awsdyn error.
fn parts(error: &awsdyn::Error) -> (String, String, Option<String>) {
    match error.service_error() {
        Some(e) => {
            let mut message = one_line(&e.message);
            if let awsdyn::Error::GaveUp { reason, .. } = error {
                message = format!("{message} ({reason})");
            }
            (e.code.clone(), message, e.request_id.clone())
        }
        None => (error.code().to_string(), one_line(&error.to_string()), None),
    }
}

fn classify(
    error: &awsdyn::Error,
    code: &str,
    message: &str,
    web_identity: bool,
) -> AccessErrorKind {
    let lower = message.to_ascii_lowercase();
    match code {
        "InvalidIdentityToken" | "IDPRejectedClaim" | "IDPCommunicationError" => {
            AccessErrorKind::WebIdentity
        }
        "ExpiredTokenException" | "ExpiredToken" if web_identity => AccessErrorKind::WebIdentity,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            AccessErrorKind::Denied
        }
        "NoSuchEntity" | "NoSuchEntityException" => AccessErrorKind::NoSuchRole,
        "RegionDisabledException" => AccessErrorKind::RegionDisabled,
        "ValidationError" | "ValidationException"
            if lower.contains("durationseconds") || lower.contains("maxsessionduration") =>
        {
            AccessErrorKind::Duration
        }
        c if BAD_CREDENTIAL_CODES.contains(&c) => AccessErrorKind::BaseCredentials,
        c if awsdyn::retry::THROTTLING_ERROR_CODES.contains(&c) => AccessErrorKind::Throttled,
        _ => match error {
            awsdyn::Error::Credentials(_) => AccessErrorKind::BaseCredentials,
            awsdyn::Error::Transport { message, .. } if message.starts_with("no credentials") => {
                AccessErrorKind::BaseCredentials
            }
            awsdyn::Error::Transport { .. } => AccessErrorKind::Network,
            awsdyn::Error::GaveUp { last, .. }
                if matches!(**last, awsdyn::Error::Transport { .. }) =>
            {
                AccessErrorKind::Network
            }
            _ => AccessErrorKind::Other,
        },
    }
}

fn common_fix(kind: AccessErrorKind, region: &str, profile: Option<&str>) -> String {
    match kind {
        AccessErrorKind::BaseCredentials => {
            let sso = match profile {
                Some(p) => format!("aws sso login --profile {p}"),
                None => "aws sso login".to_string(),
            };
            format!(
                "refresh your credentials ({sso}, or fresh AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN), or pick working ones with --profile"
            )
        }
        AccessErrorKind::RegionDisabled => format!(
            "STS is not activated in {region} for this account: activate it (IAM > Account settings > Security Token Service) or use a region where it is, with --region"
        ),
        AccessErrorKind::Throttled => {
            "STS kept throttling for the whole --call-timeout: finish the scan later with census scan --resume <scan folder>, or lower --concurrency".into()
        }
        AccessErrorKind::Network => {
            "check the network, proxy settings and endpoint (AWS_ENDPOINT_URL) used for STS".into()
        }
        _ => "see the AWS error code and message".into(),
    }
}

fn web_identity_fix(file: Option<&Path>) -> String {
    let file = file.map_or_else(|| "the token file".to_string(), |f| f.display().to_string());
    format!(
        "check the web identity token in {file} (AWS_WEB_IDENTITY_TOKEN_FILE): it must be readable, current, and issued by an OIDC provider the role trusts"
    )
}

/// Collapses whitespace (newlines included) and caps the length, so that an error
/// stays one line.
pub(crate) fn one_line(s: &str) -> String {
    const MAX: usize = 600;
    let mut out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use awsdyn::ServiceError;

    fn service(code: &str, message: &str) -> awsdyn::Error {
        awsdyn::Error::Service(ServiceError {
            code: code.into(),
            message: message.into(),
            request_id: Some("req-1".into()),
            status: 403,
            fields: Default::default(),
        })
    }

    fn ctx(external_id: bool) -> AssumeFailure<'static> {
        AssumeFailure {
            account_id: "111122223333",
            role_arn: "arn:aws:iam::111122223333:role/Audit",
            principal: "arn:aws:iam::123456789012:user/me",
            external_id,
            token_file: None,
            region: "eu-west-1",
            duration_seconds: 3600,
            profile: Some("prod"),
        }
    }

    #[test]
    fn denied_names_trust_policy_and_caller() {
        let e = AccessError::assume(&ctx(false), &service("AccessDenied", "not\nauthorized"));
        assert_eq!(e.kind, AccessErrorKind::Denied);
        let text = e.to_string();
        assert_eq!(
            text,
            "account 111122223333: cannot assume arn:aws:iam::111122223333:role/Audit: AccessDenied: \
             not authorized [request id req-1]; the role's trust policy does not trust \
             arn:aws:iam::123456789012:user/me, or the caller lacks sts:AssumeRole on \
             arn:aws:iam::111122223333:role/Audit, or the role is missing or misnamed in account \
             111122223333 (AWS answers AccessDenied for a role that does not exist: check \
             --role-name or --role-arn-template; census iam member-role-template creates it), or the trust \
             policy requires an external ID (pass --external-id)"
        );
        let e = AccessError::assume(&ctx(true), &service("AccessDenied", "x"));
        assert!(e.remediation.contains("external ID given does not match"));
    }

    #[test]
    fn kinds_and_fixes() {
        let cases = [
            (
                "NoSuchEntity",
                "",
                AccessErrorKind::NoSuchRole,
                "census iam",
            ),
            (
                "ExpiredToken",
                "",
                AccessErrorKind::BaseCredentials,
                "aws sso login --profile prod",
            ),
            (
                "RegionDisabledException",
                "",
                AccessErrorKind::RegionDisabled,
                "eu-west-1",
            ),
            (
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration",
                AccessErrorKind::Duration,
                "--duration (now 3600 s)",
            ),
            ("Throttling", "", AccessErrorKind::Throttled, "concurrency"),
            ("Weird", "", AccessErrorKind::Other, "code and message"),
        ];
        for (code, message, kind, fix) in cases {
            let e = AccessError::assume(&ctx(false), &service(code, message));
            assert_eq!(e.kind, kind, "{code}");
            assert!(e.remediation.contains(fix), "{code}: {e}");
            assert!(!e.to_string().contains('\n'));
        }
        let transport = awsdyn::Error::Transport {
            operation: "AssumeRole".into(),
            message: "could not connect to http://127.0.0.1:1 (refused)".into(),
            retryable: true,
        };
        assert_eq!(
            AccessError::assume(&ctx(false), &transport).kind,
            AccessErrorKind::Network
        );
        let denied = service("AccessDenied", "");
        assert_eq!(
            AccessError::base(&denied, "us-east-1", None).kind,
            AccessErrorKind::BaseCredentials
        );
    }

    #[test]
    fn scp_denials_and_read_failures() {
        let scp = service(
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/me is not authorized to perform: sts:AssumeRole on resource: x with an explicit deny in a service control policy",
        );
        let e = AccessError::assume(&ctx(false), &scp);
        assert_eq!(e.kind, AccessErrorKind::Denied);
        assert!(
            e.remediation.starts_with("a service control policy (SCP)"),
            "{e}"
        );

        let read = |role: Option<&'static str>, error: &awsdyn::Error| {
            AccessError::read_call(
                &ReadFailure {
                    account_id: "111122223333",
                    role_arn: role,
                    principal: "arn:aws:iam::123456789012:user/me",
                    operation: "ec2:DescribeRegions",
                    region: "eu-west-1",
                    profile: None,
                },
                error,
            )
        };
        let role = Some("arn:aws:iam::111122223333:role/Audit");
        let e = read(
            role,
            &service("UnauthorizedOperation", "You are not authorized"),
        );
        assert_eq!(
            e.remediation,
            "arn:aws:iam::111122223333:role/Audit lacks read permissions (ec2:DescribeRegions): attach the ReadOnlyAccess or SecurityAudit managed policy to it"
        );
        let e = read(
            None,
            &service("UnauthorizedOperation", "You are not authorized"),
        );
        assert!(
            e.remediation
                .starts_with("arn:aws:iam::123456789012:user/me lacks"),
            "{e}"
        );
        let e = read(
            role,
            &service(
                "UnauthorizedOperation",
                "explicit deny in a service control policy",
            ),
        );
        assert!(
            e.remediation.contains(
                "service control policy (SCP) denies ec2:DescribeRegions in account 111122223333"
            ),
            "{e}"
        );
        for code in ["OptInRequired", "AuthFailure"] {
            let e = read(role, &service(code, ""));
            assert_eq!(e.kind, AccessErrorKind::RegionDisabled, "{code}");
            assert!(
                e.remediation
                    .starts_with("the region eu-west-1 is not enabled in account 111122223333"),
                "{e}"
            );
        }
    }

    #[test]
    fn long_messages_are_capped() {
        let s = "é".repeat(1000);
        let out = one_line(&s);
        assert!(out.len() <= 604);
        assert!(out.ends_with('…'));
    }
}
