//! People who sign in: sign-up, log-in, refresh and log-out, and the security audit trail.
//!
//! A password is kept only as an argon2id hash, computed off the async executor. A
//! sign-in starts a session: a family of refresh tokens, each good once (refreshing spends
//! it and hands out the next), stored only as SHA-256. Presenting a spent token again means
//! a copy leaked, so the whole family is revoked and the event audited. Access tokens are
//! the server's business (short-lived JWTs signed with [`Accounts::token_secret`]); this
//! module decides who someone is and what role they hold in a workspace.
//!
//! A wrong password and an unknown email cost the same argon2 work and give the same
//! error, so timing and messages do not tell which addresses have accounts.

use crate::access::{Role, checked_name};
use crate::error::blocking;
use crate::settings::AuthSettings;
use crate::{AppError, Result, Settings};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use base64::Engine as _;
use brandpilot_core::{UserId, WorkspaceId};
use brandpilot_store::{
    AuditEntry, Membership, NewAuditEntry, NewUser, RefreshRotation, Store, StoreError, User,
};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

const REFRESH_MARK: &str = "bpr_";
const MIN_PASSWORD_CHARS: usize = 8;
/// Longer passwords add nothing but hashing work an attacker could ask for.
const MAX_PASSWORD_CHARS: usize = 256;
const MAX_EMAIL_LEN: usize = 254;
const MIN_TOKEN_SECRET_LEN: usize = 32;
/// Workspace names are unique; a person's first workspace gets a suffix when taken.
const WORKSPACE_NAME_TRIES: u32 = 50;

/// Who did something, as the audit trail names them.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    User(UserId),
    /// An API key, by its visible prefix.
    Key(String),
    /// The command line on the server's machine.
    Cli,
    /// Nobody signed in (a failed login).
    Anonymous,
}

impl Actor {
    /// How records name the actor (`user:3`, `key:bpk_ab12`).
    pub fn label(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Key(prefix) => format!("key:{prefix}"),
            Actor::Cli => "cli".into(),
            Actor::Anonymous => "anonymous".into(),
        }
    }
}

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestOrigin {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// Something to write in the audit trail.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub workspace: Option<WorkspaceId>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: Option<String>,
    pub detail: serde_json::Value,
}

/// A started or renewed sign-in session.
pub struct Session {
    pub user: User,
    /// Spend it at refresh; shown to the client once.
    pub refresh_token: String,
    pub refresh_expires_at_ms: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("refresh_token", &"<redacted>")
            .field("refresh_expires_at_ms", &self.refresh_expires_at_ms)
            .finish()
    }
}

/// Accounts and the audit trail. Needs only the store.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    settings: AuthSettings,
    /// A hash of nothing in particular, verified against when the email is unknown so that
    /// the answer takes as long as a wrong password.
    decoy: Arc<OnceLock<String>>,
}

impl Accounts {
    pub fn new(store: Store, settings: &Settings) -> Self {
        Self {
            store,
            settings: settings.auth.clone(),
            decoy: Arc::new(OnceLock::new()),
        }
    }

    /// The key access tokens are signed with: the configured one, else the one this
    /// database keeps (made on first use).
    pub async fn token_secret(&self) -> Result<Vec<u8>> {
        if let Some(secret) = &self.settings.token_secret {
            if secret.len() < MIN_TOKEN_SECRET_LEN {
                return Err(AppError::Settings(format!(
                    "auth.token_secret must have at least {MIN_TOKEN_SECRET_LEN} characters"
                )));
            }
            return Ok(secret.as_bytes().to_vec());
        }
        let candidate = random_bytes::<32>()?;
        Ok(self
            .store
            .server_secret("access_token_key", &candidate)
            .await?)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Creates an account with a workspace of its own (the person owns it) and signs in.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        display_name: Option<&str>,
        origin: &RequestOrigin,
    ) -> Result<Session> {
        if !self.settings.allow_signup {
            return Err(AppError::Forbidden(
                "sign-up is closed on this server; ask a workspace owner to invite you".into(),
            ));
        }
        let email = normalized_email(email)?;
        check_password(password)?;
        let display_name = match display_name {
            Some(name) => checked_name("display", name)?.to_owned(),
            None => email.split('@').next().unwrap_or_default().to_owned(),
        };
        let password_hash = self.hash_password(password).await?;
        let (user, workspace) = self
            .create_user(&email, &display_name, password_hash)
            .await?;
        let actor = Actor::User(user.id);
        self.record(
            &AuditEvent {
                workspace: Some(workspace),
                actor: &actor,
                action: "signup",
                target: Some(actor.label()),
                detail: serde_json::json!({}),
            },
            origin,
        )
        .await;
        self.start_session(user).await
    }

    async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password_hash: String,
    ) -> Result<(User, WorkspaceId)> {
        let base = format!("{display_name}'s workspace");
        for attempt in 1..=WORKSPACE_NAME_TRIES {
            let workspace_name = if attempt == 1 {
                base.clone()
            } else {
                format!("{base} ({attempt})")
            };
            let new = NewUser {
                email: email.to_owned(),
                display_name: display_name.to_owned(),
                password_hash: password_hash.clone(),
                workspace_name,
            };
            match self.store.create_user(&new).await {
                Ok(created) => return Ok(created),
                Err(StoreError::Conflict(what)) if what.contains("users.email") => {
                    return Err(AppError::Conflict(
                        "an account with this email exists; log in instead".into(),
                    ));
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(AppError::Conflict(
            "could not find a free workspace name; choose another display name".into(),
        ))
    }

    /// Checks an email and password and starts a session.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        origin: &RequestOrigin,
    ) -> Result<Session> {
        let email = normalized_email(email).ok();
        let credentials = match &email {
            Some(email) => self.store.user_credentials(email).await?,
            None => None,
        };
        let stored = match &credentials {
            Some(found) => found.password_hash.clone(),
            None => self.decoy_hash().await?,
        };
        let matches = self.verify_password(password, stored).await?;
        match credentials {
            Some(found) if matches => {
                let actor = Actor::User(found.user.id);
                self.record_for_member(found.user.id, &actor, "login", origin)
                    .await;
                self.start_session(found.user).await
            }
            found => {
                let email_hash = hex::encode(&Sha256::digest(email.unwrap_or_default())[..8]);
                let detail = serde_json::json!({ "email_sha256_prefix": email_hash });
                match found {
                    Some(found) => {
                        self.record_members(
                            found.user.id,
                            &Actor::Anonymous,
                            "login_failed",
                            detail,
                            origin,
                        )
                        .await
                    }
                    None => {
                        self.record(
                            &AuditEvent {
                                workspace: None,
                                actor: &Actor::Anonymous,
                                action: "login_failed",
                                target: None,
                                detail,
                            },
                            origin,
                        )
                        .await
                    }
                }
                Err(AppError::InvalidCredentials)
            }
        }
    }

    /// Spends a refresh token for the next one. A token spent before ends its session.
    pub async fn refresh(&self, refresh_token: &str, origin: &RequestOrigin) -> Result<Session> {
        let presented = token_hash(refresh_token).ok_or(AppError::SessionEnded)?;
        let next = new_refresh_token()?;
        let now = crate::llm_calls::now_ms();
        let expires = now + self.refresh_ttl_ms();
        match self
            .store
            .rotate_refresh_token(&presented, &next.1, now, expires)
            .await?
        {
            RefreshRotation::Rotated { user, .. } => {
                let user = self
                    .store
                    .get_user(user)
                    .await?
                    .ok_or(AppError::SessionEnded)?;
                Ok(Session {
                    user,
                    refresh_token: next.0,
                    refresh_expires_at_ms: expires,
                })
            }
            RefreshRotation::Reused { user, family } => {
                tracing::warn!(
                    user = user.0,
                    family,
                    "a spent refresh token was presented again; the session is revoked"
                );
                self.record_members(
                    user,
                    &Actor::Anonymous,
                    "refresh_token_reuse",
                    serde_json::json!({ "session": family }),
                    origin,
                )
                .await;
                Err(AppError::SessionEnded)
            }
            RefreshRotation::Ended | RefreshRotation::Unknown => Err(AppError::SessionEnded),
        }
    }

    /// Ends the session a refresh token belongs to. Ending an ended session is fine;
    /// something that cannot be a refresh token is a client's mistake, and said so.
    pub async fn log_out(&self, refresh_token: &str, origin: &RequestOrigin) -> Result<()> {
        let Some(hash) = token_hash(refresh_token) else {
            return Err(AppError::InvalidInput(
                "this is not a refresh token (they begin with `bpr_`)".into(),
            ));
        };
        if let Some(user) = self.store.revoke_refresh_family(&hash).await? {
            self.record_for_member(user, &Actor::User(user), "logout", origin)
                .await;
        }
        Ok(())
    }

    pub async fn user(&self, user: UserId) -> Result<User> {
        self.store
            .get_user(user)
            .await?
            .ok_or(AppError::SessionEnded)
    }

    /// The workspaces a user belongs to, with their role in each, oldest first.
    pub async fn memberships(&self, user: UserId) -> Result<Vec<(Membership, Role)>> {
        let memberships = self.store.memberships(user).await?;
        Ok(memberships
            .into_iter()
            .filter_map(|m| {
                let role = m.role.parse().ok()?;
                Some((m, role))
            })
            .collect())
    }

    /// The workspace a signed-in request acts in, and the person's role there: the one
    /// asked for, else their first (personal) workspace. Not a member: refused, with the
    /// same words whether or not the workspace exists.
    pub async fn acting_in(
        &self,
        user: UserId,
        workspace: Option<WorkspaceId>,
    ) -> Result<(WorkspaceId, Role)> {
        let not_member = || {
            AppError::Forbidden(match workspace {
                Some(id) => format!("you are not a member of workspace {id}"),
                None => "you are not a member of any workspace".into(),
            })
        };
        let (workspace, role) = match workspace {
            Some(id) => (
                id,
                self.store
                    .membership_role(id, user)
                    .await?
                    .ok_or_else(not_member)?,
            ),
            None => {
                let first = self
                    .store
                    .memberships(user)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(not_member)?;
                (first.workspace, first.role)
            }
        };
        let role = role
            .parse()
            .map_err(|_| AppError::Forbidden(format!("unknown role {role:?}")))?;
        Ok((workspace, role))
    }

    /// Writes an entry in the audit trail. A failure is logged, never raised: the action
    /// it describes has already happened.
    pub async fn record(&self, event: &AuditEvent<'_>, origin: &RequestOrigin) {
        record(&self.store, event, origin).await
    }

    /// A workspace's audit entries, newest first.
    pub async fn audit_trail(
        &self,
        workspace: WorkspaceId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        Ok(self
            .store
            .list_audit(workspace, before_id, limit.clamp(1, 500))
            .await?)
    }

    /// One entry about a user in every workspace they belong to, so each owner sees it.
    async fn record_members(
        &self,
        user: UserId,
        actor: &Actor,
        action: &str,
        detail: serde_json::Value,
        origin: &RequestOrigin,
    ) {
        let workspaces = match self.store.memberships(user).await {
            Ok(memberships) => memberships.into_iter().map(|m| Some(m.workspace)).collect(),
            Err(_) => vec![None],
        };
        for workspace in workspaces {
            self.record(
                &AuditEvent {
                    workspace,
                    actor,
                    action,
                    target: Some(Actor::User(user).label()),
                    detail: detail.clone(),
                },
                origin,
            )
            .await;
        }
    }

    async fn record_for_member(
        &self,
        user: UserId,
        actor: &Actor,
        action: &str,
        origin: &RequestOrigin,
    ) {
        self.record_members(user, actor, action, serde_json::json!({}), origin)
            .await
    }

    async fn start_session(&self, user: User) -> Result<Session> {
        let (token, hash) = new_refresh_token()?;
        let expires = crate::llm_calls::now_ms() + self.refresh_ttl_ms();
        self.store
            .start_refresh_family(user.id, &hash, expires)
            .await?;
        Ok(Session {
            user,
            refresh_token: token,
            refresh_expires_at_ms: expires,
        })
    }

    fn refresh_ttl_ms(&self) -> i64 {
        i64::try_from(self.settings.refresh_token_days.saturating_mul(86_400_000))
            .unwrap_or(i64::MAX / 2)
    }

    fn hasher(&self) -> Result<Argon2<'static>> {
        let params = Params::new(
            self.settings.password_memory_kib,
            self.settings.password_iterations,
            1,
            None,
        )
        .map_err(|e| AppError::Settings(format!("auth password cost: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        let hasher = self.hasher()?;
        let password = password.to_owned();
        let salt = random_bytes::<16>()?;
        blocking(move || {
            hasher
                .hash_password_with_salt(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| AppError::Task(format!("hashing a password: {e}")))
        })
        .await
    }

    async fn decoy_hash(&self) -> Result<String> {
        if let Some(hash) = self.decoy.get() {
            return Ok(hash.clone());
        }
        let hash = self.hash_password("not a password anyone has").await?;
        Ok(self.decoy.get_or_init(|| hash).clone())
    }

    /// Whether `password` matches the PHC string `stored`. A malformed stored hash is
    /// simply no match (and logged), never a way in.
    async fn verify_password(&self, password: &str, stored: String) -> Result<bool> {
        let password = password.to_owned();
        blocking(move || {
            // The hash's own parameters decide the cost, so the verifier's do not matter.
            let verifier = Argon2::default();
            match verifier.verify_password(password.as_bytes(), stored.as_str()) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(error) => {
                    tracing::error!(%error, "a stored password hash cannot be read");
                    Ok(false)
                }
            }
        })
        .await
    }
}

/// Writes an audit entry; a failure is logged, never raised.
pub(crate) async fn record(store: &Store, event: &AuditEvent<'_>, origin: &RequestOrigin) {
    let entry = NewAuditEntry {
        workspace: event.workspace,
        actor: event.actor.label(),
        action: event.action.to_owned(),
        target: event.target.clone(),
        detail: event.detail.clone(),
        ip: origin.ip.clone(),
        request_id: origin.request_id.clone(),
    };
    if let Err(error) = store.append_audit(&entry).await {
        tracing::error!(%error, action = event.action, "could not write the audit trail");
    }
}

/// Trimmed, lower-cased, and shaped like an address: one `@`, a dotted domain, no spaces.
pub(crate) fn normalized_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let invalid =
        || AppError::InvalidInput("give a valid email address, like ada@example.com".into());
    if email.len() > MAX_EMAIL_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::InvalidInput(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::InvalidInput(format!(
            "a password has at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    if password.trim().is_empty() {
        return Err(AppError::InvalidInput(
            "a password cannot be only spaces".into(),
        ));
    }
    Ok(())
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Task(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A new refresh token and the hash the store keeps.
fn new_refresh_token() -> Result<(String, [u8; 32])> {
    let token = format!(
        "{REFRESH_MARK}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    );
    let hash = Sha256::digest(token.as_bytes()).into();
    Ok((token, hash))
}

/// The stored hash of a presented refresh token; `None` for anything that cannot be one.
fn token_hash(token: &str) -> Option<[u8; 32]> {
    let token = token.trim();
    (token.starts_with(REFRESH_MARK) && token.len() <= 64)
        .then(|| Sha256::digest(token.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalized_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@example..com",
            "a da@example.com",
            "ada@exa\u{0}mple.com",
        ] {
            assert!(normalized_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalized_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_are_bounded_in_characters_not_bytes() {
        assert!(check_password("seven77").is_err());
        assert!(check_password("eight888").is_ok());
        assert!(check_password("        ").is_err());
        assert!(check_password(&"é".repeat(256)).is_ok());
        assert!(check_password(&"é".repeat(257)).is_err());
    }

    #[test]
    fn refresh_tokens_are_long_random_and_only_ours_are_looked_up() {
        let (a, hash) = new_refresh_token().unwrap();
        let (b, _) = new_refresh_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(REFRESH_MARK) && a.len() == 47, "{a}");
        assert_eq!(token_hash(&a), Some(hash));
        assert_eq!(token_hash("bpk_a_b"), None);
        assert_eq!(
            token_hash(&format!("{REFRESH_MARK}{}", "x".repeat(100))),
            None
        );
    }
}
