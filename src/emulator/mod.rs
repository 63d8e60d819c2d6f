//! An in-memory WorkMail API (docs/emulator.md#the-emulator), reached by `aws-sdk-workmail`
//! client over HTTP: awsJson1_1, SigV4 verified, input checked against the API model.
//!
//! It serves ListOrganizations, DescribeOrganization, ListUsers, DescribeUser, UpdateUser,
//! CreateUser and RegisterToWorkMail; ListMailDomains, ListAliases, CreateAlias and DeleteAlias;
//! ListGroups, DescribeGroup, ListGroupMembers, ListGroupsForEntity, AssociateMemberToGroup,
//! DisassociateMemberFromGroup and CreateGroup; GetMailboxDetails and UpdateMailboxQuota. It has
//! knobs for the update semantics, ListAliases' primary address and injected faults, and journals
//! every request. Tests drive it through [`Emulator`]; tools outside the process
//! through the unsigned control endpoint under `/_emulator/` (see `control.rs`).
//!
//! Where the service leaves a choice open, the emulator does this:
//!
//! - **Order of checks**: injected latency; a drop "before"; SigV4 (403
//!   `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
//!   `UnrecognizedClientException`, `InvalidSignatureException`, incl. a scope for another service
//!   and a clock skew over 15 minutes); the rate cap and random throttles (400
//!   `ThrottlingException`); random 5xx; `X-Amz-Target` (400 `UnknownOperationException`); JSON
//!   (400 `SerializationException`, also for a member of the wrong JSON type); the model's
//!   constraints (400 `InvalidParameterException`, AWS "N validation errors detected" message,
//!   sensitive values not echoed); the operation; a drop "after".
//! - **List operations**: `MaxResults` defaults to 100 (the model's maximum; the service
//!   documents no default). Tokens are opaque, tied to the listing, organization, entity and
//!   filters, and survive concurrent changes (the cursor is the last key: a user, group or member
//!   id, an address, a domain). Users and groups are listed in id order, DELETED ones included.
//!   Prefix filters ignore ASCII case; filters combine with AND.
//! - **Identifiers**: DescribeUser, UpdateUser, RegisterToWorkMail, the mailbox and the group
//!   operations accept an id, a primary email or a name (emails and names ignore ASCII case),
//!   tried in that order; an alias names no one. The alias operations take an id only (their
//!   `EntityId` is the model's `WorkMailIdentifier`). User and group names share one namespace;
//!   every primary address and alias of an organization is unique.
//! - **Aliases and members are sets**: DeleteAlias of an absent alias and AssociateMemberToGroup
//!   of a present member succeed unchanged; CreateAlias of any address in use (its own included)
//!   is `EmailAddressInUseException`, DisassociateMemberFromGroup of a non-member
//!   `EntityNotFoundException`. At most 100 aliases per entity (`LimitExceededException`).
//! - **Mailboxes**: only an ENABLED user has one (quota default 51,200 MB, range 1 to 51,200);
//!   GetMailboxDetails of any other user is `EntityNotFoundException`, UpdateMailboxQuota
//!   `EntityStateException`.
//! - **UpdateUser**: `Role` `SYSTEM_USER`/`RESOURCE` → `InvalidParameterException`; a user whose
//!   role is `SYSTEM_USER` cannot be updated at all → `InvalidParameterException`; a DELETED user →
//!   `EntityStateException`; a DISABLED user can be updated. `""` clears; JSON `null` is "left out".
//! - **CreateUser** makes a DISABLED user without email (as WorkMail does until it is registered);
//!   the password is kept neither in the state nor in the journal. **RegisterToWorkMail** accepts emails in the default mail domain
//!   and in the domains of seeded emails.
//! - **Drops** may hit any operation; "after" means after the operation ran, and the journal says
//!   `applied: true` only for a write that succeeded.
//! - **Control endpoint** requests are neither journaled nor subject to faults.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use workmail_reconcile::emulator::{Emulator, EmulatorConfig, Seed, SeedOrganization, SeedUser};
//! let seed = Seed::default().organization(
//!     SeedOrganization::new("", Some("acme"), "acme.example")
//!         .user(SeedUser::new("alice").email("alice@acme.example")),
//! );
//! let emu = Emulator::start(EmulatorConfig { seed, ..Default::default() }).await?;
//! let client = aws_sdk_workmail::Client::from_conf(emu.sdk_config());
//! # Ok(()) }
//! ```

mod control;
mod faults;
mod journal;
mod operations;
mod seed;
mod seeding;
mod server;
mod sigv4;
mod state;
mod validation;
mod wire;

pub use faults::Faults;
pub use journal::{Counters, JournalEntry, JournalOutcome};
pub use seed::{Seed, SeedGroup, SeedOrganization, SeedUser};
pub use state::{DEFAULT_MAILBOX_QUOTA_MB, EmulatedGroup, EmulatedUser};

use faults::FaultState;
use journal::Journal;
use serde::{Deserialize, Serialize};
use state::EmulatedDirectory;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;
use tokio::task::JoinHandle;

/// How UpdateUser treats an attribute member left out of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateSemantics {
    /// A member left out is unchanged.
    #[default]
    Patch,
    /// A member left out is cleared (text → empty, hidden → false, IdP id → empty); a left-out
    /// `Role` is unchanged, since a role cannot be cleared.
    Replace,
}

/// How to start an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The starting directory.
    pub seed: Seed,
    /// UpdateUser semantics.
    pub semantics: UpdateSemantics,
    /// Injected faults.
    pub faults: Faults,
    /// Whether ListAliases lists the primary address among the aliases, as some WorkMail
    /// endpoints do (the default); `false` lists the aliases only.
    pub list_aliases_include_primary: bool,
    /// The one access key accepted.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
}

impl Default for EmulatorConfig {
    /// Empty seed, patch semantics, no faults, ListAliases with the primary address,
    /// `test`/`test`, `127.0.0.1:0`.
    fn default() -> Self {
        EmulatorConfig {
            seed: Seed::default(),
            semantics: UpdateSemantics::Patch,
            faults: Faults::default(),
            list_aliases_include_primary: true,
            access_key_id: "test".to_owned(),
            secret_access_key: "test".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// State shared by the handle and the server.
pub(crate) struct ServerState {
    pub(crate) directory: Mutex<EmulatedDirectory>,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) faults: Mutex<FaultState>,
    pub(crate) semantics: Mutex<UpdateSemantics>,
    pub(crate) list_aliases_include_primary: AtomicBool,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    /// Requests so far, for request ids.
    pub(crate) requests: AtomicU64,
    /// Distinguishes this emulator's request ids from another's.
    pub(crate) instance: u32,
    /// Woken after each request is journaled.
    pub(crate) journaled: tokio::sync::Notify,
}

/// Locks a mutex, ignoring poisoning: every critical section leaves the data consistent, and a
/// panicking test thread must not take the server down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator. Dropping it stops the server; [`stop`](Self::stop) also waits for it.
pub struct Emulator {
    shared: Arc<ServerState>,
    addr: SocketAddr,
    /// `None` once stopped.
    server: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Checks the seed and faults, binds `config.listen` and serves on the current tokio runtime.
    /// A bad seed or bad faults are `InvalidInput` errors.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        config.faults.validate().map_err(invalid)?;
        let directory = EmulatedDirectory::from_seed(&config.seed, SystemTime::now())
            .map_err(|e| invalid(format!("invalid seed: {e}")))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let shared = Arc::new(ServerState {
            directory: Mutex::new(directory),
            journal: Mutex::new(Journal::default()),
            faults: Mutex::new(FaultState::new(config.faults)),
            semantics: Mutex::new(config.semantics),
            list_aliases_include_primary: AtomicBool::new(config.list_aliases_include_primary),
            access_key_id: config.access_key_id,
            secret_access_key: config.secret_access_key,
            requests: AtomicU64::new(0),
            instance: nanos ^ u32::from(addr.port()),
            journaled: tokio::sync::Notify::new(),
        });
        let server = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Emulator { shared, addr, server: Some(server) })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client configuration for this emulator: region `us-east-1`, the configured static
    /// credentials, endpoint [`url`](Self::url), the SDK's default (standard) retries.
    pub fn sdk_config(&self) -> aws_sdk_workmail::Config {
        use aws_sdk_workmail::config::{BehaviorVersion, Credentials, Region};
        aws_sdk_workmail::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                self.shared.access_key_id.clone(),
                self.shared.secret_access_key.clone(),
                None,
                None,
                "workmail-emulator",
            ))
            .endpoint_url(self.url())
            .build()
    }

    /// Every request so far, in order of completion.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.shared.journal).entries().to_vec()
    }

    /// Waits until the journal satisfies `done`, checked now and after each request journaled:
    /// a test waits for the requests it expects instead of polling for them.
    pub async fn journal_until(&self, mut done: impl FnMut(&[JournalEntry]) -> bool) {
        loop {
            let journaled = self.shared.journaled.notified();
            let mut journaled = std::pin::pin!(journaled);
            // Registered before the check, so a request journaled in between still wakes us.
            journaled.as_mut().enable();
            if done(lock(&self.shared.journal).entries()) {
                return;
            }
            journaled.await;
        }
    }

    /// Forgets the journal and resets the counters.
    pub fn clear_journal(&self) {
        lock(&self.shared.journal).clear();
    }

    /// The counters since start or the last [`clear_journal`](Self::clear_journal).
    pub fn counters(&self) -> Counters {
        lock(&self.shared.journal).counters().clone()
    }

    /// Replaces the faults from now on; reseeds the generator and refills the rate bucket.
    /// Rates outside `[0, 1]` are clamped into it, the latency to `Faults::MAX_LATENCY`, and a
    /// cap that is not a positive number is dropped (use `Faults::validate` to check first).
    pub fn set_faults(&self, mut faults: Faults) {
        for rate in [
            &mut faults.throttle_rate,
            &mut faults.server_error_rate,
            &mut faults.drop_rate,
            &mut faults.drop_after_write_fraction,
        ] {
            *rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        }
        faults.max_rps = faults.max_rps.filter(|r| r.is_finite() && *r > 0.0);
        faults.latency = faults.latency.min(Faults::MAX_LATENCY);
        lock(&self.shared.faults).set(faults);
    }

    /// The faults in effect.
    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).faults().clone()
    }

    /// Switches UpdateUser semantics from now on.
    pub fn set_semantics(&self, semantics: UpdateSemantics) {
        *lock(&self.shared.semantics) = semantics;
    }

    /// Switches whether ListAliases lists the primary address among the aliases.
    pub fn set_list_aliases_include_primary(&self, include: bool) {
        self.shared.list_aliases_include_primary.store(include, Ordering::Relaxed);
    }

    /// Whether ListAliases lists the primary address among the aliases.
    pub fn list_aliases_include_primary(&self) -> bool {
        self.shared.list_aliases_include_primary.load(Ordering::Relaxed)
    }

    /// The users of an organization sorted by name (empty for an unknown organization).
    pub fn users(&self, organization_id: &str) -> Vec<EmulatedUser> {
        let directory = lock(&self.shared.directory);
        let mut users: Vec<EmulatedUser> = directory
            .organization(organization_id)
            .map(|o| o.users.values().cloned().collect())
            .unwrap_or_default();
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users
    }

    /// A user by id, name or email, as DescribeUser resolves it.
    pub fn user(&self, organization_id: &str, name_or_id_or_email: &str) -> Option<EmulatedUser> {
        let directory = lock(&self.shared.directory);
        directory.organization(organization_id)?.find_user(name_or_id_or_email).cloned()
    }

    /// Edits a user in place, as a concurrent change by someone else would (not journaled):
    /// attributes, aliases, quota, state. Returns whether the user exists. The edit may not
    /// change the user's id; empty texts are dropped, a `Role` put into `attributes` moves to
    /// `role`, aliases are sorted and deduplicated. Aliases are not checked against other users'
    /// addresses or the mail domains: the edit is trusted.
    pub fn edit_user(
        &self,
        organization_id: &str,
        name_or_id_or_email: &str,
        edit: impl FnOnce(&mut EmulatedUser),
    ) -> bool {
        self.edit_entity(
            organization_id,
            |org| org.find_user(name_or_id_or_email).map(|u| u.id.clone()),
            |org, id| {
                if let Some(user) = org.users.get_mut(id) {
                    edit(user);
                    user.id = id.to_owned();
                    user.normalize();
                }
            },
        )
    }

    /// Runs `edit` on the user or group `find` names, keeping the indexes right.
    fn edit_entity(
        &self,
        organization_id: &str,
        find: impl FnOnce(&state::Organization) -> Option<String>,
        edit: impl FnOnce(&mut state::Organization, &str),
    ) -> bool {
        let mut directory = lock(&self.shared.directory);
        let Some(organization) = directory.organization_mut(organization_id) else {
            return false;
        };
        let Some(id) = find(organization) else {
            return false;
        };
        let old = organization.names_and_addresses(&id);
        edit(organization, &id);
        organization.reindex(&id, &old);
        true
    }

    /// The groups of an organization sorted by name (empty for an unknown organization).
    pub fn groups(&self, organization_id: &str) -> Vec<EmulatedGroup> {
        let directory = lock(&self.shared.directory);
        let mut groups: Vec<EmulatedGroup> = directory
            .organization(organization_id)
            .map(|o| o.groups.values().cloned().collect())
            .unwrap_or_default();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups
    }

    /// A group by id, name or email, as DescribeGroup resolves it.
    pub fn group(&self, organization_id: &str, name_or_id_or_email: &str) -> Option<EmulatedGroup> {
        let directory = lock(&self.shared.directory);
        directory.organization(organization_id)?.find_group(name_or_id_or_email).cloned()
    }

    /// The names of the groups a user or group (by id, name or email) is a direct member of,
    /// sorted.
    pub fn groups_of(&self, organization_id: &str, name_or_id_or_email: &str) -> Vec<String> {
        let directory = lock(&self.shared.directory);
        let Some(org) = directory.organization(organization_id) else { return Vec::new() };
        let Some(entity) = org.find_entity(name_or_id_or_email) else { return Vec::new() };
        let mut names: Vec<String> = org.groups_of(entity.id()).map(|g| g.name.clone()).collect();
        names.sort();
        names
    }

    /// The names of a group's direct members (users and groups), sorted.
    pub fn members_of(&self, organization_id: &str, group: &str) -> Vec<String> {
        let directory = lock(&self.shared.directory);
        let Some(org) = directory.organization(organization_id) else { return Vec::new() };
        let Some(group) = org.find_group(group) else { return Vec::new() };
        let mut names: Vec<String> = group
            .members
            .iter()
            .map(|id| org.names_and_addresses(id).0)
            .filter(|name| !name.is_empty())
            .collect();
        names.sort();
        names
    }

    /// The aliases of a user or group (by id, name or email), sorted ignoring case, without the
    /// primary address; empty for no such entity.
    pub fn aliases(&self, organization_id: &str, name_or_id_or_email: &str) -> Vec<String> {
        let directory = lock(&self.shared.directory);
        let Some(org) = directory.organization(organization_id) else { return Vec::new() };
        let aliases = match org.find_entity(name_or_id_or_email) {
            Some(state::Entity::User(id)) => org.users.get(&id).map(|u| &u.aliases),
            Some(state::Entity::Group(id)) => org.groups.get(&id).map(|g| &g.aliases),
            None => None,
        };
        aliases.cloned().unwrap_or_default()
    }

    /// A user's mailbox quota in MB; `None` without such a user or without a mailbox.
    pub fn mailbox_quota(&self, organization_id: &str, name_or_id_or_email: &str) -> Option<u32> {
        self.user(organization_id, name_or_id_or_email)
            .filter(EmulatedUser::has_mailbox)
            .map(|u| u.mailbox_quota_mb)
    }

    /// Edits a group in place, as a concurrent change by someone else would (not journaled):
    /// members (ids of users and groups), aliases, state, name. Returns whether the group
    /// exists. The id stays; aliases are sorted and deduplicated, the group never contains itself.
    pub fn edit_group(
        &self,
        organization_id: &str,
        name_or_id_or_email: &str,
        edit: impl FnOnce(&mut EmulatedGroup),
    ) -> bool {
        self.edit_entity(
            organization_id,
            |org| org.find_group(name_or_id_or_email).map(|g| g.id.clone()),
            |org, id| {
                if let Some(group) = org.groups.get_mut(id) {
                    edit(group);
                    group.id = id.to_owned();
                    group.normalize();
                }
            },
        )
    }

    /// The id of the organization with this alias (seeded organizations without an id get one
    /// derived from their alias).
    pub fn organization_id(&self, alias: &str) -> Option<String> {
        let directory = lock(&self.shared.directory);
        directory
            .organizations
            .iter()
            .find(|o| o.alias.as_deref() == Some(alias) || o.id == alias)
            .map(|o| o.id.clone())
    }

    /// Stops serving: closes the listener and every connection, and waits until they are closed.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}
