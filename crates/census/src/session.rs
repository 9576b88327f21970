//! A command's way into AWS, opened once from the shared flags: the base credentials,
//! the awsdyn client, per-account [`Access`] and the region catalog, and discovery
//! through them (whose organization routes it registers with that access).
//!
//! Not for parsing or checking flags offline (see [`crate::cli`]), nor for what a
//! command then does with the accounts: every command that calls AWS opens a
//! [`Session`] (or, for `census call`, only a [`Connection`]) and goes on from there.

use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, Result};
use awsdyn::client::{Client, ClientConfig};
use awsdyn::retry::RetryConfig;

use crate::auth::{Access, AccessError, Base, RoleArn, RoleOptions};
use crate::cli::accounts::BaseFlags;
use crate::discover::{DiscoverError, Discovering, Discovery, Options};
use crate::regions::Catalog;

/// The base credentials and the client, before any AWS call: what `census call` needs,
/// and the first half of a [`Session`].
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    pub base: Base,
}

impl Connection {
    /// Loads the base credentials (`--profile`, `--region`: aws-config's default chain)
    /// and builds the client with `retry`; `None` takes the retry settings from the
    /// environment (`AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`). Makes no AWS call.
    pub async fn open(flags: &BaseFlags, retry: Option<RetryConfig>) -> Result<Connection> {
        let base =
            crate::auth::load_base(flags.profile.as_deref(), flags.region.as_deref()).await?;
        let retry = match retry {
            Some(r) => r,
            None => RetryConfig::from_env()?,
        };
        let client = Client::new(ClientConfig {
            retry,
            ..ClientConfig::default()
        })?;
        Ok(Connection { client, base })
    }

    /// Asks who the base credentials belong to (sts GetCallerIdentity) and sets up
    /// per-account access with `roles`: the [`Session`]. Missing or expired base
    /// credentials are the [`AccessError`], with what to do.
    pub async fn session(self, roles: RoleOptions) -> Result<Session, AccessError> {
        let access = Access::new(&self.client, &self.base, roles).await?;
        Ok(Session {
            client: self.client,
            base: self.base,
            access,
            catalog: OnceLock::new(),
        })
    }
}

/// Everything a command needs to reach every account. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    client: Client,
    base: Base,
    access: Access,
    catalog: OnceLock<Arc<Catalog>>,
}

impl Session {
    /// [`Connection::open`], then [`Connection::session`].
    pub async fn open(
        flags: &BaseFlags,
        roles: RoleOptions,
        retry: Option<RetryConfig>,
    ) -> Result<Session> {
        Ok(Connection::open(flags, retry).await?.session(roles).await?)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The base credentials and where calls go.
    pub fn base(&self) -> &Base {
        &self.base
    }

    /// Credentials per account.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The regions of every service (the bundled endpoints.json), read on first use.
    pub fn catalog(&self) -> Result<Arc<Catalog>> {
        if let Some(c) = self.catalog.get() {
            return Ok(c.clone());
        }
        let catalog = Arc::new(Catalog::load()?);
        Ok(self.catalog.get_or_init(|| catalog).clone())
    }

    /// Finds the accounts `opts` selects ([`crate::discover::discover`]); the routes into
    /// the organizations it entered are registered, so that [`Access::credentials`]
    /// reaches their members.
    pub async fn discover(&self, opts: &Options) -> Result<Discovery, DiscoverError> {
        crate::discover::discover(&self.client, &self.base, &self.access, opts).await
    }

    /// [`Session::discover`] as a stream ([`crate::discover::start`]): each account as
    /// soon as it is listed, the whole discovery at the end.
    pub fn start_discovery(&self, opts: &Options) -> Result<Discovering, DiscoverError> {
        crate::discover::start(&self.client, &self.base, &self.access, opts)
    }

    /// Enters again the organizations a scan entered through a role (`(org id, role
    /// ARN)` as its plan keeps them) and registers the routes, as [`Session::discover`]
    /// did for the original scan.
    pub async fn reenter(
        &self,
        organizations: &[(String, String)],
        chain_members: bool,
    ) -> Result<()> {
        let mut routes = Vec::with_capacity(organizations.len());
        for (org_id, arn) in organizations {
            let role = RoleArn::parse(arn).map_err(|e| anyhow!("plan.json: {e}"))?;
            routes.push(
                self.access
                    .organization_route(org_id, &role, chain_members)
                    .await?,
            );
        }
        self.access.add_routes(&routes);
        Ok(())
    }
}
