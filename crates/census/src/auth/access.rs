//! Per-account access: which credentials scan which account.
//!
//! The caller's own account is scanned with the base credentials. Every other account
//! is scanned through a role in it, `arn:<partition>:iam::<id>:role/<name>` by default
//! (or as a template or an explicit ARN says), entered with sts AssumeRole from the
//! base credentials, or from an organization's management role when that organization
//! was reached through `--org-role-arn` with chaining on, or with
//! AssumeRoleWithWebIdentity (IRSA mode). Each role's credentials are cached and
//! refreshed before they expire, so a scan that outlives one session never fails on
//! expiry; STS calls go through awsdyn, retried and rate-limited per account like any
//! other call.
//!
//! Not for finding accounts or organizations: discovery returns the routes into the
//! organizations it entered, and [`Access::add_routes`] registers them here.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use awsdyn::client::Client;

use super::arn::{check_role_name, RoleArn};
use super::assume::{Method, Role};
use super::cache::{Cached, Clock, SystemClock, DEFAULT_REFRESH_MARGIN};
use super::{caller_identity, sts_region, AccessError, Base, Identity};
use crate::account::Account;

/// The role Organizations creates in every account it creates.
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";

/// The session length asked for when none is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);

/// How roles in member accounts are named and assumed: what `--role-name`,
/// `--role-arn-template`, `--external-id`, `--session-name`, `--duration` and
/// `--web-identity` say. (The command line also reads `ORG_ROLE_NAME` for the role name.)
#[derive(Clone, PartialEq, Eq)]
pub struct RoleOptions {
    /// The role's name in each account (a path may come first: `census/Reader`).
    pub role_name: String,
    /// The role ARN with placeholders `{partition}`, `{account_id}` and `{role_name}`,
    /// e.g. `arn:{partition}:iam::{account_id}:role/audit/{role_name}`. Wins over
    /// `role_name` alone.
    pub role_arn_template: Option<String>,
    pub external_id: Option<String>,
    /// Default: `census-<UTC timestamp>`; the scan id is a good choice.
    pub session_name: Option<String>,
    /// Session length asked for (900 s to 12 h; the role's maximum applies).
    pub duration: Duration,
    /// Assume every role entered from the base identity with
    /// AssumeRoleWithWebIdentity and the token in this file (IRSA and the like), not
    /// with AssumeRole.
    pub web_identity_token_file: Option<PathBuf>,
}

impl fmt::Debug for RoleOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The external ID is not a credential, but some treat it as a shared secret.
        f.debug_struct("RoleOptions")
            .field("role_name", &self.role_name)
            .field("role_arn_template", &self.role_arn_template)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "** redacted **"),
            )
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("web_identity_token_file", &self.web_identity_token_file)
            .finish()
    }
}

impl Default for RoleOptions {
    fn default() -> Self {
        RoleOptions {
            role_name: DEFAULT_ROLE_NAME.to_string(),
            role_arn_template: None,
            external_id: None,
            session_name: None,
            duration: DEFAULT_DURATION,
            web_identity_token_file: None,
        }
    }
}

impl RoleOptions {
    /// Checks every option; the error names the flag, the value and the fix.
    pub fn check(&self) -> Result<(), AccessError> {
        check_role_name(&self.role_name).map_err(|e| {
            AccessError::options(
                "--role-name",
                e,
                "pass a role name such as OrganizationAccountAccessRole",
            )
        })?;
        if let Some(template) = &self.role_arn_template {
            check_template(template, &self.role_name)?;
        }
        if let Some(id) = &self.external_id {
            if !is_external_id(id) {
                return Err(AccessError::options(
                    "--external-id",
                    "the external ID must be 2 to 1224 of A-Za-z0-9+=,.@:/_-".into(),
                    "pass the external ID the roles' trust policies expect",
                ));
            }
        }
        if let Some(name) = &self.session_name {
            check_session_name(name)?;
        }
        let secs = self.duration.as_secs();
        if !(900..=43_200).contains(&secs) || self.duration.subsec_nanos() != 0 {
            return Err(AccessError::options(
                "--duration",
                format!("{secs} s is not a session duration STS accepts"),
                "pass whole seconds from 900 (15 minutes) to 43200 (12 hours); the default is 3600",
            ));
        }
        Ok(())
    }
}

impl RoleOptions {
    /// The role that enters `account`: the one its source named (role-ARN lists),
    /// else `--role-arn-template` filled in, else `--role-name` in the account. Unlike
    /// [`Access::role_arn`], this does not depend on who the caller is.
    pub fn role_arn_for(&self, account: &Account) -> String {
        match (&account.role_arn, &self.role_arn_template) {
            (Some(arn), _) => arn.clone(),
            (None, Some(template)) => {
                render_template(template, &account.partition, &account.id, &self.role_name)
            }
            (None, None) => format!(
                "arn:{}:iam::{}:role/{}",
                account.partition, account.id, self.role_name
            ),
        }
    }
}

/// Whether `id` is an external ID STS accepts: 2 to 1224 of `A-Za-z0-9+=,.@:/_-`.
pub fn is_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c))
}

/// Whether `name` is a role session name STS accepts: 2 to 64 of `A-Za-z0-9+=,.@_-`.
pub fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

fn check_session_name(name: &str) -> Result<(), AccessError> {
    if is_session_name(name) {
        Ok(())
    } else {
        Err(AccessError::options(
            "--session-name",
            format!("{name:?} is not a role session name"),
            "use 2 to 64 of A-Za-z0-9+=,.@_- (CloudTrail shows it), such as census-scan-42",
        ))
    }
}

fn check_template(template: &str, role_name: &str) -> Result<(), AccessError> {
    const FIX: &str =
        "write it like arn:{partition}:iam::{account_id}:role/{role_name} (placeholders: {partition}, {account_id}, {role_name})";
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map(|e| start + e).ok_or_else(|| {
            AccessError::options(
                "--role-arn-template",
                format!("{template:?} has an unclosed '{{'"),
                FIX,
            )
        })?;
        let name = &rest[start + 1..end];
        if !matches!(name, "partition" | "account_id" | "role_name") {
            return Err(AccessError::options(
                "--role-arn-template",
                format!("{template:?} has an unknown placeholder {{{name}}}"),
                FIX,
            ));
        }
        rest = &rest[end + 1..];
    }
    if !template.contains("{account_id}") {
        return Err(AccessError::options(
            "--role-arn-template",
            format!("{template:?} has no {{account_id}}, so every account would get the same role"),
            FIX,
        ));
    }
    let sample = render_template(template, "aws", "123456789012", role_name);
    RoleArn::parse(&sample).map_err(|e| {
        AccessError::options(
            "--role-arn-template",
            format!("{template:?} gives {sample:?}, which {e}"),
            FIX,
        )
    })?;
    Ok(())
}

fn render_template(template: &str, partition: &str, account_id: &str, role_name: &str) -> String {
    template
        .replace("{partition}", partition)
        .replace("{account_id}", account_id)
        .replace("{role_name}", role_name)
}

/// How an organization reached through `--org-role-arn` is entered: what discovery
/// found ([`crate::discover::Discovery::routes`]), or a resumed scan entered again, for
/// [`Access::add_routes`] to register.
#[derive(Clone)]
pub struct OrgRoute {
    /// The organization's id (`o-...`).
    pub org_id: String,
    /// The role assumed to enter it (usually in the management account).
    pub role_arn: RoleArn,
    /// That role's credentials.
    pub provider: SharedCredentialsProvider,
    /// Whether member roles are assumed from `provider` (else from the base identity).
    pub chain_members: bool,
}

impl fmt::Debug for OrgRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgRoute")
            .field("org_id", &self.org_id)
            .field("role_arn", &self.role_arn)
            .field("chain_members", &self.chain_members)
            .finish_non_exhaustive()
    }
}

/// Two routes are the same when they enter the same organization through the same
/// role the same way (credentials providers cannot be compared).
impl PartialEq for OrgRoute {
    fn eq(&self, other: &Self) -> bool {
        self.org_id == other.org_id
            && self.role_arn == other.role_arn
            && self.chain_members == other.chain_members
    }
}

/// Which credentials scan an account.
enum Plan {
    /// The caller's own account: the base credentials.
    Base,
    /// The account an organization role lives in: that role's credentials.
    OrgRole(SharedCredentialsProvider),
    /// A role to assume.
    Assume { role_arn: String, method: Method },
}

/// Per-account credentials. Cheap to clone; share one per run. See the module
/// documentation.
#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    base: Base,
    caller: Identity,
    options: RoleOptions,
    session_name: String,
    clock: Arc<dyn Clock>,
    refresh_margin: Duration,
    /// Role providers by role ARN: one cache per role for the whole run.
    roles: Mutex<HashMap<String, Arc<Cached<Role>>>>,
    /// Organizations entered through a role, by organization id.
    organizations: Mutex<HashMap<String, OrgRoute>>,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("caller", &self.inner.caller.arn)
            .field("options", &self.inner.options)
            .field("session_name", &self.inner.session_name)
            .finish()
    }
}

impl Access {
    /// Checks the options, then who the base credentials belong to (sts
    /// GetCallerIdentity): missing, expired or invalid base credentials are reported
    /// here, once, with what to do.
    pub async fn new(
        client: &Client,
        base: &Base,
        options: RoleOptions,
    ) -> Result<Access, AccessError> {
        Access::with_clock(
            client,
            base,
            options,
            Arc::new(SystemClock),
            DEFAULT_REFRESH_MARGIN,
        )
        .await
    }

    /// [`Access::new`] with the clock that decides when credentials are refreshed, and
    /// how long before expiry that happens.
    pub async fn with_clock(
        client: &Client,
        base: &Base,
        options: RoleOptions,
        clock: Arc<dyn Clock>,
        refresh_margin: Duration,
    ) -> Result<Access, AccessError> {
        options.check()?;
        let caller = caller_identity(client, base).await?;
        let session_name = options
            .session_name
            .clone()
            .unwrap_or_else(|| format!("census-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
        Ok(Access {
            inner: Arc::new(Inner {
                client: client.clone(),
                base: base.clone(),
                caller,
                options,
                session_name,
                clock,
                refresh_margin,
                roles: Mutex::new(HashMap::new()),
                organizations: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Who the base credentials belong to.
    pub fn caller(&self) -> &Identity {
        &self.inner.caller
    }

    /// The base credentials and where calls go.
    pub fn base(&self) -> &Base {
        &self.inner.base
    }

    /// The role session name every AssumeRole uses.
    pub fn session_name(&self) -> &str {
        &self.inner.session_name
    }

    /// The role ARN Census uses in `account`, or `None` when it is scanned with the
    /// base credentials (the caller's own account).
    pub fn role_arn(&self, account: &Account) -> Option<String> {
        match self.plan(account) {
            Plan::Base => None,
            Plan::OrgRole(_) => self.route(account).map(|r| r.role_arn.to_string()),
            Plan::Assume { role_arn, .. } => Some(role_arn),
        }
    }

    /// Credentials for `account`: the base ones for the caller's own account, otherwise
    /// a caching, refreshing provider for the account's role. The first AssumeRole
    /// happens here, so that an account Census cannot enter is reported up front, with
    /// the AWS error and what to do about it.
    pub async fn credentials(
        &self,
        account: &Account,
    ) -> Result<SharedCredentialsProvider, AccessError> {
        match self.plan(account) {
            Plan::Base => Ok(self.inner.base.credentials.clone()),
            Plan::OrgRole(provider) => Ok(provider),
            Plan::Assume { role_arn, method } => {
                self.role_provider(&account.id, role_arn, method).await
            }
        }
    }

    /// Forgets `account`'s role provider and its cached credentials (its scan ended),
    /// so that a scan of thousands of accounts keeps only those in flight. A later
    /// [`Access::credentials`] for it assumes the role again.
    pub fn release(&self, account: &Account) {
        if let Plan::Assume { role_arn, .. } = self.plan(account) {
            self.inner
                .roles
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&role_arn);
        }
    }

    /// Enters an organization through a role (`--org-role-arn`): assumes it from the
    /// base identity, eagerly, and returns its credentials.
    pub async fn organization_role(
        &self,
        role_arn: &RoleArn,
    ) -> Result<SharedCredentialsProvider, AccessError> {
        if self.is_caller_role(role_arn) {
            return Ok(self.inner.base.credentials.clone());
        }
        let method = self.base_method();
        self.role_provider(&role_arn.account_id, role_arn.to_string(), method)
            .await
    }

    /// Enters organization `org_id` through `role_arn` ([`Access::organization_role`])
    /// and says how its members are reached: from that role when `chain_members` is
    /// set, else from the base identity.
    pub async fn organization_route(
        &self,
        org_id: &str,
        role_arn: &RoleArn,
        chain_members: bool,
    ) -> Result<OrgRoute, AccessError> {
        let provider = self.organization_role(role_arn).await?;
        Ok(OrgRoute {
            org_id: org_id.to_string(),
            role_arn: role_arn.clone(),
            provider,
            chain_members,
        })
    }

    /// Registers organizations entered through a role: their accounts are then reached
    /// the way each route says, and the role's own account is scanned with it.
    pub fn add_routes(&self, routes: &[OrgRoute]) {
        let mut organizations = self
            .inner
            .organizations
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for route in routes {
            organizations.insert(route.org_id.clone(), route.clone());
        }
    }

    fn route(&self, account: &Account) -> Option<OrgRoute> {
        let org = account.org_id.as_deref()?;
        self.inner
            .organizations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(org)
            .cloned()
    }

    /// Whether the base credentials already are `role` (the caller is a session of it).
    fn is_caller_role(&self, role: &RoleArn) -> bool {
        let caller = &self.inner.caller;
        role.account_id == caller.account_id
            && caller
                .arn
                .split(':')
                .nth(5)
                .and_then(|r| r.strip_prefix("assumed-role/"))
                .and_then(|r| r.split('/').next())
                == Some(role.name.as_str())
    }

    fn base_method(&self) -> Method {
        match &self.inner.options.web_identity_token_file {
            Some(file) => Method::WebIdentity {
                token_file: file.clone(),
            },
            None => Method::AssumeRole {
                source: self.inner.base.credentials.clone(),
                principal: self.inner.caller.arn.clone(),
                external_id: self.inner.options.external_id.clone(),
            },
        }
    }

    fn plan(&self, account: &Account) -> Plan {
        let caller = &self.inner.caller;
        let explicit = account
            .role_arn
            .as_deref()
            .and_then(|a| RoleArn::parse(a).ok());
        if account.id == caller.account_id
            && explicit.as_ref().is_none_or(|r| self.is_caller_role(r))
        {
            return Plan::Base;
        }
        let route = self.route(account);
        if let Some(route) = &route {
            if route.role_arn.account_id == account.id && explicit.is_none() {
                return Plan::OrgRole(route.provider.clone());
            }
        }
        let role_arn = self.inner.options.role_arn_for(account);
        let method = match route.filter(|r| r.chain_members) {
            Some(route) => Method::AssumeRole {
                source: route.provider,
                principal: route.role_arn.to_string(),
                external_id: self.inner.options.external_id.clone(),
            },
            None => self.base_method(),
        };
        Plan::Assume { role_arn, method }
    }

    /// The cached provider for a role (made on first use), with credentials fetched
    /// once to prove it works. A role that fails is not kept: the next call tries again.
    async fn role_provider(
        &self,
        account_id: &str,
        role_arn: String,
        method: Method,
    ) -> Result<SharedCredentialsProvider, AccessError> {
        let inner = &self.inner;
        let cached = {
            let mut roles = inner.roles.lock().unwrap_or_else(|e| e.into_inner());
            roles
                .entry(role_arn.clone())
                .or_insert_with(|| {
                    let partition = role_arn.split(':').nth(1).unwrap_or("aws").to_string();
                    let role = Role {
                        client: inner.client.clone(),
                        account_id: account_id.to_string(),
                        role_arn: role_arn.clone(),
                        session_name: inner.session_name.clone(),
                        duration_seconds: u32::try_from(inner.options.duration.as_secs())
                            .unwrap_or(u32::MAX),
                        method,
                        region: sts_region(&inner.base, &partition),
                        endpoints: inner.base.endpoints.clone(),
                        base: inner.base.credentials.clone(),
                        profile: inner.base.profile.clone(),
                    };
                    Arc::new(Cached::new(role, inner.clock.clone(), inner.refresh_margin))
                })
                .clone()
        };
        if let Err(e) = cached.get().await {
            let mut roles = inner.roles.lock().unwrap_or_else(|e| e.into_inner());
            if roles
                .get(&role_arn)
                .is_some_and(|c| Arc::ptr_eq(c, &cached))
            {
                roles.remove(&role_arn);
            }
            return Err(e);
        }
        Ok(SharedCredentialsProvider::new(CachedRole(cached)))
    }
}

/// A role's cache as a credentials provider (a newtype, so that [`Cached`] stays private).
#[derive(Debug)]
struct CachedRole(Arc<Cached<Role>>);

impl aws_credential_types::provider::ProvideCredentials for CachedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide_credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        assert!(RoleOptions::default().check().is_ok());
        let bad = |o: RoleOptions| o.check().unwrap_err().to_string();
        let e = bad(RoleOptions {
            role_name: "bad name".into(),
            ..Default::default()
        });
        assert!(
            e.starts_with("role options: InvalidOption: --role-name"),
            "{e}"
        );
        let e = bad(RoleOptions {
            duration: Duration::from_secs(60),
            ..Default::default()
        });
        assert!(e.contains("--duration: 60 s") && e.contains("900"), "{e}");
        let e = bad(RoleOptions {
            session_name: Some("has space".into()),
            ..Default::default()
        });
        assert!(e.contains("--session-name"), "{e}");
        let e = bad(RoleOptions {
            role_arn_template: Some("arn:{partition}:iam::{account}:role/X".into()),
            ..Default::default()
        });
        assert!(e.contains("unknown placeholder {account}"), "{e}");
        let e = bad(RoleOptions {
            role_arn_template: Some("arn:aws:iam::123456789012:role/X".into()),
            ..Default::default()
        });
        assert!(e.contains("no {account_id}"), "{e}");
        let e = bad(RoleOptions {
            role_arn_template: Some("arn:{partition}:iam::{account_id}:user/{role_name}".into()),
            ..Default::default()
        });
        assert!(e.contains("names an IAM user"), "{e}");
        let e = bad(RoleOptions {
            external_id: Some("x".into()),
            ..Default::default()
        });
        assert!(e.contains("--external-id"), "{e}");
        assert!(RoleOptions {
            role_arn_template: Some(
                "arn:{partition}:iam::{account_id}:role/audit/{role_name}".into()
            ),
            ..Default::default()
        }
        .check()
        .is_ok());
    }
}
