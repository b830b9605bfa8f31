//! Who may connect: the authentication method (`--auth`), and the
//! passwords it checks, from `--users-file` and from roles made with
//! `CREATE ROLE … PASSWORD`. Passwords are kept only as PostgreSQL's SCRAM
//! verifiers (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`).

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use pgwire::api::auth::sasl::scram::{gen_salted_password, ScramSecret, SCRAM_ITERATIONS};
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::{PgWireError, PgWireResult};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// How clients prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    /// The default without `--auth`: trust connections from the loopback
    /// interface, SCRAM-SHA-256 for every other.
    #[value(name = "trust-loopback")]
    TrustLoopback,
    /// Anyone connects as any user (listen on loopback only).
    Trust,
    /// The password is sent in cleartext (use with TLS).
    Password,
    /// SCRAM-SHA-256: the password never crosses the wire.
    #[value(name = "scram-sha-256")]
    Scram,
}

/// The roles of the catalog, as the coordinator last published them; read
/// by connections while they authenticate.
pub type RoleDirectory = Arc<RwLock<BTreeMap<String, catalog::Role>>>;

/// A fresh SCRAM-SHA-256 verifier for `password` (random salt).
pub fn scram_verifier(password: &str) -> String {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .expect("the system random number generator works");
    verifier_with_salt(password, &salt, SCRAM_ITERATIONS)
}

fn verifier_with_salt(password: &str, salt: &[u8], iterations: usize) -> String {
    let salted = gen_salted_password(password, salt, iterations);
    match ScramSecret::verifier_from_salted_password(salt.to_vec(), salted, iterations) {
        ScramSecret::Verifier {
            stored_key,
            server_key,
            ..
        } => format!(
            "SCRAM-SHA-256${iterations}:{}${}:{}",
            B64.encode(salt),
            B64.encode(stored_key),
            B64.encode(server_key)
        ),
        ScramSecret::SaltedPassword { .. } => unreachable!("a verifier was asked for"),
    }
}

/// The parts of a SCRAM verifier, or `None` if `s` is not one.
fn parse_verifier(s: &str) -> Option<ScramSecret> {
    let rest = s.strip_prefix("SCRAM-SHA-256$")?;
    let (params, keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    let iterations: usize = iterations.parse().ok().filter(|i| *i > 0)?;
    Some(ScramSecret::Verifier {
        salt: B64.decode(salt).ok()?,
        iterations,
        stored_key: B64.decode(stored).ok().filter(|k| k.len() == 32)?,
        server_key: B64.decode(server).ok().filter(|k| k.len() == 32)?,
    })
}

/// The verifier to store for a password given to CREATE/ALTER ROLE: an
/// already-hashed SCRAM verifier is kept as it is (as PostgreSQL does, so
/// dumps restore), anything else is hashed.
pub fn stored_password(given: &str) -> String {
    if parse_verifier(given).is_some() {
        given.to_string()
    } else {
        scram_verifier(given)
    }
}

/// Whether the cleartext `password` matches `verifier`.
pub fn check_password(verifier: &str, password: &str) -> bool {
    let Some(ScramSecret::Verifier {
        salt,
        iterations,
        stored_key,
        ..
    }) = parse_verifier(verifier)
    else {
        return false;
    };
    let again = verifier_with_salt(password, &salt, iterations);
    matches!(parse_verifier(&again), Some(ScramSecret::Verifier { stored_key: k, .. }) if k == stored_key)
}

/// Passwords from `--users-file` and from the catalog's roles; a user of
/// the file wins over a role of the same name.
#[derive(Debug, Default)]
pub struct Credentials {
    /// user → verifier, from the file
    file: BTreeMap<String, String>,
    roles: RoleDirectory,
}

impl Credentials {
    pub fn new(roles: RoleDirectory) -> Self {
        Credentials {
            file: BTreeMap::new(),
            roles,
        }
    }

    /// Reads `user:password` lines (`#` starts a comment).
    pub fn load_file(&mut self, path: &std::path::Path) -> anyhow::Result<()> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the users file {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, password) = line
                .split_once(':')
                .with_context(|| format!("{}:{}: expected user:password", path.display(), n + 1))?;
            self.file
                .insert(user.trim().to_string(), stored_password(password));
        }
        Ok(())
    }

    /// The verifier of a user's password.
    pub fn verifier(&self, user: &str) -> Option<String> {
        if let Some(v) = self.file.get(user) {
            return Some(v.clone());
        }
        let roles = self.roles.read().expect("lock");
        // a role without LOGIN is refused after its password checks, with
        // its own message (28000), as in PostgreSQL
        roles.get(user).and_then(|r| r.password.clone())
    }
}

/// Whether `user` has a role that may not log in (users of the file, and
/// users with no role, may).
pub fn cannot_login(roles: &RoleDirectory, user: &str) -> bool {
    roles
        .read()
        .expect("lock")
        .get(user)
        .is_some_and(|r| !r.login)
}

#[async_trait]
impl AuthSource for Credentials {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // only verifiers are kept: SCRAM and cleartext use the methods below
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_string(),
        ))
    }

    async fn verify_password(
        &self,
        login: &LoginInfo,
        presented: &[u8],
    ) -> PgWireResult<Option<()>> {
        let user = login.user().unwrap_or_default();
        let ok = match (self.verifier(user), std::str::from_utf8(presented)) {
            // the password message is NUL-terminated on the wire
            (Some(v), Ok(p)) => check_password(&v, p.trim_end_matches('\0')),
            _ => false,
        };
        if ok {
            Ok(None)
        } else {
            Err(PgWireError::InvalidPassword(user.to_string()))
        }
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default();
        self.verifier(user)
            .and_then(|v| parse_verifier(&v))
            .map(|s| (s, None))
            .ok_or_else(|| PgWireError::InvalidPassword(user.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_checks_only_its_password() {
        let v = scram_verifier("s3cret");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"));
        assert!(check_password(&v, "s3cret"));
        assert!(!check_password(&v, "s3cret "));
        assert!(!check_password(&v, ""));
        // salted: the same password hashes differently each time
        assert_ne!(v, scram_verifier("s3cret"));
        assert!(!check_password("not a verifier", "s3cret"));
    }

    #[test]
    fn postgres_verifiers_are_kept_and_checked() {
        // made by PostgreSQL 15 (CREATE ROLE … PASSWORD 'secret')
        let pg = "SCRAM-SHA-256$4096:QXBnzT+cERlHOUFkiX40pw==$AVvmoslbKpGv+QnDP/Cb15OVqxoQAnw/4AcmU50REO0=:5gYtoLzcfkl09RwKd6CcBRdOsr0s2M7YcOWs+Phwcks=";
        assert!(check_password(pg, "secret"));
        assert!(!check_password(pg, "Secret"));
        assert_eq!(stored_password(pg), pg);
        let mine = verifier_with_salt("secret", b"saltsaltsaltsalt", 4096);
        assert_eq!(stored_password(&mine), mine);
        assert!(check_password(&mine, "secret"));
        assert_ne!(stored_password("secret"), "secret");
    }
}
