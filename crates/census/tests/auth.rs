//! Per-account access against moto: AssumeRole through awsdyn, what reaches STS, the
//! errors and their remediation (faults injected by the proxy, since moto's AssumeRole
//! never fails), refresh before expiry on an injected clock, web identity, and secrets.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use awsdyn::client::{Client, ClientConfig, EndpointSettings, Target};
use awsdyn::retry::RetryConfig;
use census::account::Account;
use census::auth::{Access, AccessErrorKind, Base, Clock, RoleOptions};
use serde_json::json;
use testkit::{
    shared_demo_org, Action, AwsEndpoint, FaultProxy, Manifest, Match, Protocol, Reply, Rule,
    FAULT_REQUEST_ID, MANAGEMENT_ACCOUNT_ID,
};

const BASE_KEY: &str = "AKIDCENSUSAUTHTEST";
const BASE_SECRET: &str = "census-base-secret-4f1d9c";
const BASE_TOKEN: &str = "census-base-session-token-77ab";

fn client() -> Client {
    Client::new(ClientConfig {
        retry: RetryConfig {
            base_delay: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            ..RetryConfig::default()
        },
        ..ClientConfig::default()
    })
    .unwrap()
}

fn base(endpoint: &impl AwsEndpoint) -> Base {
    Base::new(
        SharedCredentialsProvider::new(Credentials::new(
            BASE_KEY,
            BASE_SECRET,
            Some(BASE_TOKEN.into()),
            None,
            "test",
        )),
        Some("eu-west-1".into()),
        EndpointSettings {
            url: Some(endpoint.endpoint_url()),
            ..EndpointSettings::default()
        },
    )
}

fn account(id: &str) -> Account {
    Account {
        id: id.into(),
        name: id.into(),
        email: None,
        status: "ACTIVE".into(),
        partition: "aws".into(),
        org_id: None,
        management_account_id: None,
        ou_id: None,
        ou_path: None,
        tags: Default::default(),
        role_arn: None,
        is_caller: false,
        source: "test".into(),
    }
}

fn members(m: &Manifest) -> Vec<String> {
    m.members().map(|a| a.id.clone()).collect()
}

async fn call(
    client: &Client,
    credentials: SharedCredentialsProvider,
    endpoint: &impl AwsEndpoint,
    service: &str,
    operation: &str,
) -> serde_json::Value {
    let target = Target::new("us-east-1", credentials).with_endpoints(Arc::new(EndpointSettings {
        url: Some(endpoint.endpoint_url()),
        ..EndpointSettings::default()
    }));
    client
        .call_all(&target, service, operation, &json!({}))
        .await
        .unwrap()
}

/// A clock the test moves.
#[derive(Debug)]
struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(SystemTime::now())))
    }

    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

fn assume_requests(
    proxy: &FaultProxy,
    action: &str,
    account_id: &str,
) -> Vec<testkit::SeenRequest> {
    proxy.requests_matching(&Match::any().form_action(action).body_contains(account_id))
}

#[tokio::test]
async fn member_credentials_act_on_the_member() {
    let (moto, m) = shared_demo_org();
    let c = client();
    let a = Access::new(&c, &base(moto), RoleOptions::default())
        .await
        .unwrap();
    assert_eq!(a.caller().account_id, MANAGEMENT_ACCOUNT_ID);
    assert_eq!(a.caller().partition, "aws");

    let member = m.resource_accounts()[0].id.clone();
    let creds = a.credentials(&account(&member)).await.unwrap();
    let who = call(&c, creds.clone(), moto, "sts", "GetCallerIdentity").await;
    assert_eq!(who["Account"], member.as_str());
    assert!(
        who["Arn"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/OrganizationAccountAccessRole/census-"),
        "{who}"
    );
    let buckets = call(&c, creds, moto, "s3", "ListBuckets").await;
    let names: Vec<&str> = buckets["Buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap())
        .collect();
    for region in &m.regions {
        for bucket in m.ids(&member, region, "s3:bucket") {
            assert!(names.contains(&bucket.as_str()), "{bucket} in {names:?}");
        }
    }
    assert_eq!(
        a.role_arn(&account(&member)).as_deref(),
        Some(format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole").as_str())
    );

    // The caller's own account: the base credentials, no role.
    let own = account(MANAGEMENT_ACCOUNT_ID);
    assert_eq!(a.role_arn(&own), None);
    let creds = a
        .credentials(&own)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), BASE_KEY);
}

#[tokio::test]
async fn role_options_reach_sts_and_roles_are_cached() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let c = client();
    let options = RoleOptions {
        role_name: "OrganizationAccountAccessRole".into(),
        role_arn_template: Some("arn:{partition}:iam::{account_id}:role/audit/{role_name}".into()),
        external_id: Some("census-ext-42".into()),
        session_name: Some("census-scan-7".into()),
        duration: Duration::from_secs(1800),
        web_identity_token_file: None,
    };
    let a = Access::new(&c, &base(&proxy), options).await.unwrap();
    let member = members(m)[1].clone();
    let creds = a.credentials(&account(&member)).await.unwrap();
    let who = call(&c, creds, &proxy, "sts", "GetCallerIdentity").await;
    assert_eq!(who["Account"], member.as_str());

    let sent = assume_requests(&proxy, "AssumeRole", &member);
    assert_eq!(sent.len(), 1);
    let body = sent[0].body_str();
    for want in [
        "ExternalId=census-ext-42".to_string(),
        "RoleSessionName=census-scan-7".to_string(),
        "DurationSeconds=1800".to_string(),
        format!(
            "RoleArn=arn%3Aaws%3Aiam%3A%3A{member}%3Arole%2Faudit%2FOrganizationAccountAccessRole"
        ),
    ] {
        assert!(body.contains(&want), "{want} in {body}");
    }
    assert!(!format!("{a:?}").contains("census-ext-42"), "{a:?}");
    // Regional STS in the base region.
    assert!(sent[0]
        .header("authorization")
        .unwrap()
        .contains("/eu-west-1/sts/aws4_request"));

    // Asked again: the cached role, no new AssumeRole.
    for _ in 0..3 {
        let creds = a.credentials(&account(&member)).await.unwrap();
        creds.provide_credentials().await.unwrap();
    }
    assert_eq!(assume_requests(&proxy, "AssumeRole", &member).len(), 1);

    // An explicit role ARN (role-ARN list mode) wins over the template.
    let mut explicit = account(&members(m)[2]);
    explicit.role_arn = Some(format!("arn:aws:iam::{}:role/Explicit", explicit.id));
    a.credentials(&explicit).await.unwrap();
    let body = assume_requests(&proxy, "AssumeRole", &explicit.id)[0].body_str();
    assert!(body.contains("%3Arole%2FExplicit&"), "{body}");
}

#[tokio::test]
async fn assume_role_failures_say_what_to_do() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let c = client();
    let a = Access::new(&c, &base(&proxy), RoleOptions::default())
        .await
        .unwrap();
    let caller_arn = a.caller().arn.clone();
    let ids = members(m);
    let role = |id: &str| format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole");

    let denied = proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&ids[0]),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&ids[1]),
        Action::Reply(Reply::error(
            Protocol::Query,
            404,
            "NoSuchEntity",
            "The role cannot be found.",
        )),
    ));
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&ids[2]),
        Action::Reply(Reply::error(
            Protocol::Query,
            403,
            "RegionDisabledException",
            "STS is not activated in this region for account",
        )),
    ));
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&ids[3]),
        Action::Reply(Reply::error(
            Protocol::Query,
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )),
    ));

    let e = a.credentials(&account(&ids[0])).await.unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::Denied);
    assert_eq!(e.code, "AccessDenied");
    assert_eq!(e.account_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(e.role_arn.as_deref(), Some(role(&ids[0]).as_str()));
    assert_eq!(e.request_id.as_deref(), Some(FAULT_REQUEST_ID));
    assert_eq!(
        e.remediation,
        format!(
            "the role's trust policy does not trust {caller_arn}, or the caller lacks sts:AssumeRole on {}, or the role is missing or misnamed in account {} (AWS answers AccessDenied for a role that does not exist: check --role-name or --role-arn-template; census iam member-role-template creates it), or the trust policy requires an external ID (pass --external-id)",
            role(&ids[0]),
            ids[0]
        )
    );
    let line = e.to_string();
    assert!(
        line.starts_with(&format!(
            "account {}: cannot assume {}: AccessDenied: User is not authorized",
            ids[0],
            role(&ids[0])
        )),
        "{line}"
    );
    assert!(!line.contains('\n'));

    let e = a.credentials(&account(&ids[1])).await.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (AccessErrorKind::NoSuchRole, "NoSuchEntity")
    );
    assert!(
        e.remediation.starts_with(&format!(
            "create the role {} in account {} trusting {caller_arn} (census iam prints a template)",
            role(&ids[1]),
            ids[1]
        )),
        "{e}"
    );

    let e = a.credentials(&account(&ids[2])).await.unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::RegionDisabled);
    assert!(
        e.remediation.contains("STS is not activated in eu-west-1"),
        "{e}"
    );

    let e = a.credentials(&account(&ids[3])).await.unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::Duration);
    assert!(
        e.remediation.contains("lower --duration (now 3600 s)"),
        "{e}"
    );

    // Other accounts are unaffected, and a failure is not cached: once the fault is
    // gone, the account works.
    a.credentials(&account(&ids[4])).await.unwrap();
    assert_eq!(proxy.hits(denied), 1);
    proxy.remove(denied);
    let creds = a.credentials(&account(&ids[0])).await.unwrap();
    let who = call(&c, creds, &proxy, "sts", "GetCallerIdentity").await;
    assert_eq!(who["Account"], ids[0].as_str());
}

#[tokio::test]
async fn bad_base_credentials_are_reported_once_up_front() {
    let (moto, _) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any().form_action("GetCallerIdentity"),
        Action::Reply(Reply::error(
            Protocol::Query,
            403,
            "ExpiredToken",
            "The security token included in the request is expired",
        )),
    ));
    let mut b = base(&proxy);
    b.profile = Some("prod-sso".into());
    let e = Access::new(&client(), &b, RoleOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::BaseCredentials);
    assert_eq!(e.account_id, None);
    assert_eq!(
        e.to_string(),
        format!(
            "base credentials: ExpiredToken: The security token included in the request is expired [request id {FAULT_REQUEST_ID}]; \
             refresh your credentials (aws sso login --profile prod-sso, or fresh AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN), or pick working ones with --profile"
        )
    );

    // Invalid options are caught before any call.
    let e = Access::new(
        &client(),
        &b,
        RoleOptions {
            duration: Duration::from_secs(100),
            ..RoleOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::Options);
}

#[tokio::test]
async fn throttled_assume_role_is_retried() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let member = members(m)[5].clone();
    let rule = proxy.add(
        Rule::new(
            Match::any()
                .form_action("AssumeRole")
                .body_contains(&member),
            Action::Reply(Reply::throttling(Protocol::Query)),
        )
        .times(2),
    );
    let c = client();
    let a = Access::new(&c, &base(&proxy), RoleOptions::default())
        .await
        .unwrap();
    a.credentials(&account(&member)).await.unwrap();
    assert_eq!(proxy.hits(rule), 2);
    assert_eq!(assume_requests(&proxy, "AssumeRole", &member).len(), 3);
}

#[tokio::test]
async fn credentials_are_refreshed_before_expiry_by_one_caller() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let clock = ManualClock::new();
    let c = client();
    let options = RoleOptions {
        duration: Duration::from_secs(900),
        ..RoleOptions::default()
    };
    let a = Access::with_clock(
        &c,
        &base(&proxy),
        options,
        clock.clone(),
        Duration::from_secs(300),
    )
    .await
    .unwrap();
    let member = members(m)[6].clone();
    let provider = a.credentials(&account(&member)).await.unwrap();
    let first = provider.provide_credentials().await.unwrap();
    let expiry = first.expiry().unwrap();
    let lifetime = expiry.duration_since(SystemTime::now()).unwrap();
    assert!(
        lifetime > Duration::from_secs(800) && lifetime <= Duration::from_secs(900),
        "{lifetime:?}"
    );
    assert_eq!(
        first.account_id().map(|a| a.as_str()),
        Some(member.as_str())
    );
    let count = || assume_requests(&proxy, "AssumeRole", &member).len();
    assert_eq!(count(), 1);

    // Well before the refresh point: cached.
    clock.advance(Duration::from_secs(500));
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .unwrap()
            .access_key_id(),
        first.access_key_id()
    );
    assert_eq!(count(), 1);

    // Past expiry minus the margin: every concurrent caller shares one refresh.
    clock.advance(Duration::from_secs(120));
    let all = futures::future::join_all((0..20).map(|_| provider.provide_credentials())).await;
    let second = all[0].as_ref().unwrap().access_key_id().to_string();
    assert_ne!(second, first.access_key_id());
    assert!(all
        .iter()
        .all(|c| c.as_ref().unwrap().access_key_id() == second));
    assert_eq!(count(), 2);

    // A scan that runs for hours keeps working: a call signed after several refreshes
    // still acts on the member.
    for _ in 0..3 {
        clock.advance(Duration::from_secs(900));
        let who = call(&c, provider.clone(), &proxy, "sts", "GetCallerIdentity").await;
        assert_eq!(who["Account"], member.as_str());
    }
    assert_eq!(count(), 5);
}

#[tokio::test]
async fn web_identity_assumes_each_role_with_the_token_file() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let dir = testkit::TempDir::new("census-auth-wi");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "eyJ-first-token\n").unwrap();
    let clock = ManualClock::new();
    let c = client();
    let options = RoleOptions {
        web_identity_token_file: Some(token_file.clone()),
        session_name: Some("census-irsa".into()),
        ..RoleOptions::default()
    };
    let a = Access::with_clock(
        &c,
        &base(&proxy),
        options,
        clock.clone(),
        Duration::from_secs(300),
    )
    .await
    .unwrap();
    let member = members(m)[7].clone();
    let provider = a.credentials(&account(&member)).await.unwrap();
    let who = call(&c, provider.clone(), &proxy, "sts", "GetCallerIdentity").await;
    assert_eq!(who["Account"], member.as_str());
    let sent = assume_requests(&proxy, "AssumeRoleWithWebIdentity", &member);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].header("authorization").is_none(),
        "the call is unsigned"
    );
    let body = sent[0].body_str();
    assert!(
        body.contains("WebIdentityToken=eyJ-first-token&")
            || body.ends_with("WebIdentityToken=eyJ-first-token"),
        "{body}"
    );
    assert!(body.contains("RoleSessionName=census-irsa"), "{body}");
    assert!(assume_requests(&proxy, "AssumeRole", &member).is_empty());

    // The token is read again at refresh (IRSA rotates it).
    std::fs::write(&token_file, "eyJ-second-token").unwrap();
    clock.advance(Duration::from_secs(3600));
    provider.provide_credentials().await.unwrap();
    let sent = assume_requests(&proxy, "AssumeRoleWithWebIdentity", &member);
    assert_eq!(sent.len(), 2);
    assert!(sent[1]
        .body_str()
        .contains("WebIdentityToken=eyJ-second-token"));

    // A missing token file names the file.
    std::fs::remove_file(&token_file).unwrap();
    let e = a.credentials(&account(&members(m)[0])).await.unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (AccessErrorKind::WebIdentity, "TokenFile")
    );
    assert!(e.message.contains(&token_file.display().to_string()), "{e}");
    assert!(e.remediation.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{e}");
}

/// Collects every tracing event and span field as text.
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        out.push_str(event.metadata().target());
        out.push(' ');
        event.record(&mut Fields(&mut out));
        out.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn secrets_never_reach_errors_or_logs() {
    // Global, so that every event of the process is seen (a thread-scoped subscriber
    // misses callsites other tests' threads registered first); other tests' logs are
    // checked along.
    let logs = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::set_global_default(Capture(logs.clone())).unwrap();
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let ids = members(m);
    let c = client();
    let clock = ManualClock::new();
    let b = base(&proxy);
    let a = Access::with_clock(
        &c,
        &b,
        RoleOptions::default(),
        clock.clone(),
        Duration::from_secs(300),
    )
    .await
    .unwrap();
    let mut shown = Vec::new();

    // A working member: its secret must not show either.
    let provider = a.credentials(&account(&ids[0])).await.unwrap();
    let member = provider.provide_credentials().await.unwrap();
    let mut secrets = vec![
        BASE_SECRET.to_string(),
        BASE_TOKEN.to_string(),
        "profile-secret".to_string(),
        member.secret_access_key().to_string(),
        member.session_token().unwrap().to_string(),
    ];
    shown.push(format!("{provider:?} {member:?} {a:?} {b:?}"));

    // A refresh that fails while the credentials are still good (logged as a warning).
    let deny = proxy.add(Rule::new(
        Match::any().form_action("AssumeRole"),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    clock.advance(Duration::from_secs(3600 - 200));
    provider.provide_credentials().await.unwrap();
    // Errors of every kind.
    let e = a.credentials(&account(&ids[1])).await.unwrap_err();
    shown.push(format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap()));
    clock.advance(Duration::from_secs(190));
    let e = provider.provide_credentials().await.unwrap_err();
    shown.push(format!("{e} {e:?}"));
    proxy.remove(deny);
    proxy.add(Rule::new(
        Match::any().form_action("GetCallerIdentity"),
        Action::Reply(Reply::error(
            Protocol::Query,
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )),
    ));
    let e = Access::new(&c, &b, RoleOptions::default())
        .await
        .unwrap_err();
    shown.push(format!("{e} {e:?}"));

    // Web identity: the token is a secret too.
    let dir = testkit::TempDir::new("census-auth-secrets");
    let token_file = dir.join("token");
    let token = "eyJ-census-web-identity-secret-token";
    std::fs::write(&token_file, token).unwrap();
    secrets.push(token.to_string());
    proxy.clear_rules();
    let wi = Access::new(
        &c,
        &b,
        RoleOptions {
            web_identity_token_file: Some(token_file),
            ..RoleOptions::default()
        },
    )
    .await
    .unwrap();
    proxy.add(Rule::new(
        Match::any().form_action("AssumeRoleWithWebIdentity"),
        Action::Reply(Reply::error(
            Protocol::Query,
            400,
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider",
        )),
    ));
    let e = wi.credentials(&account(&ids[2])).await.unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::WebIdentity);
    shown.push(format!("{e} {e:?} {wi:?}"));

    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("assumed role"), "logs were captured: {logs}");
    assert!(logs.contains("refreshing credentials failed"), "{logs}");
    shown.push(logs);
    for text in &shown {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into: {text}"
            );
        }
    }
}

#[tokio::test]
async fn load_base_reads_a_profile_and_caches() {
    let (moto, _) = shared_demo_org();
    let dir = testkit::TempDir::new("census-auth-profile");
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile census-test]\naws_access_key_id = AKIDPROFILETEST\naws_secret_access_key = profile-secret\nregion = ap-southeast-2\nendpoint_url = {}\n",
            moto.endpoint()
        ),
    )
    .unwrap();
    // The only test of this binary that touches the environment.
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            std::env::remove_var(&key);
        }
    }
    std::env::set_var("AWS_CONFIG_FILE", &config);
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"));
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let b = census::auth::load_base(Some("census-test"), None)
        .await
        .unwrap();
    assert_eq!(b.region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(b.endpoint_url.as_deref(), Some(moto.endpoint().as_str()));
    assert_eq!(b.endpoints.url.as_deref(), Some(moto.endpoint().as_str()));
    assert_eq!(b.profile.as_deref(), Some("census-test"));
    let creds = b.credentials.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "AKIDPROFILETEST");
    let who = census::auth::caller_identity(&client(), &b).await.unwrap();
    assert_eq!(who.account_id, MANAGEMENT_ACCOUNT_ID);

    // A profile that does not exist: one clear error with what to do.
    let b = census::auth::load_base(Some("census-missing"), Some("us-east-1"))
        .await
        .unwrap();
    let e = census::auth::caller_identity(&client(), &b)
        .await
        .unwrap_err();
    assert_eq!(e.kind, AccessErrorKind::BaseCredentials);
    assert!(
        e.to_string()
            .contains("aws sso login --profile census-missing"),
        "{e}"
    );
}
