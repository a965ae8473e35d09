//! Creating accounts: the checks shared by `jincheng user add` and `POST /api/v1/admin/users`.

use std::fmt;
use std::str::FromStr;

use schemas::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};

use super::password::{self, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, Password};
use store::Store;
use store::accounts::{CreateUserError, UserRow};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, for every institution: accounts, institutions, harvest reports.
    Admin,
    /// Curated records of the account's institutions.
    Curator,
}

impl Role {
    /// The stored and wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Curator => "curator",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "curator" => Ok(Role::Curator),
            other => Err(format!("unknown role {other:?}; expected admin or curator")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name: 1–64 lowercase ASCII letters, digits, `.`, `-` or `_`.
    pub username: String,
    /// The password (at least 10 characters).
    pub password: Password,
    /// Its role.
    pub role: Role,
    /// Institutions it curates (a curator needs at least one; an admin has none).
    #[serde(default)]
    pub institutions: Vec<String>,
}

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Invalid fields, every one listed.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The username is taken.
    #[error("username {0:?} is taken")]
    Taken(String),
    /// The store or the hasher failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Normalises a username for storage and lookup (usernames are case-insensitive).
pub fn normalise_username(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

fn field_error(field: &str, code: &'static str, message: String, message_zh: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message,
        message_zh,
    }
}

/// Checks `new` against the rules and the store's institutions, hashes its password and
/// stores it.
pub fn create_user(store: &Store, new: &NewUser) -> Result<UserRow, AccountError> {
    let username = normalise_username(&new.username);
    let mut errors = Vec::new();
    let valid_name = !username.is_empty()
        && username.len() <= 64
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if !valid_name {
        errors.push(field_error(
            "username",
            "invalid",
            "username must be 1-64 ASCII letters, digits, '.', '-' or '_'".into(),
            "用户名必须是 1 至 64 个字母、数字、“.”、“-”或“_”".into(),
        ));
    }
    let chars = new.password.expose().chars().count();
    if chars < MIN_PASSWORD_CHARS || new.password.expose().len() > MAX_PASSWORD_BYTES {
        errors.push(field_error(
            "password",
            "invalid_length",
            format!("password must have at least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes"),
            format!("密码至少 {MIN_PASSWORD_CHARS} 个字符，最多 {MAX_PASSWORD_BYTES} 字节"),
        ));
    }
    let known: Vec<String> = store
        .institutions()
        .map_err(anyhow::Error::from)?
        .into_iter()
        .map(|i| i.id)
        .collect();
    match new.role {
        Role::Curator if new.institutions.is_empty() => errors.push(field_error(
            "institutions",
            "required",
            "a curator needs at least one institution".into(),
            "馆员账号至少需要一个机构".into(),
        )),
        Role::Admin if !new.institutions.is_empty() => errors.push(field_error(
            "institutions",
            "not_allowed",
            "an admin covers every institution; list none".into(),
            "管理员涵盖所有机构，请勿指定机构".into(),
        )),
        _ => {}
    }
    for (i, institution) in new.institutions.iter().enumerate() {
        if !known.contains(institution) {
            errors.push(field_error(
                &format!("institutions[{i}]"),
                "unknown",
                format!("no institution {institution:?}"),
                format!("机构 {institution:?} 不存在"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(ValidationErrors { errors }));
    }
    let hash = password::hash(&new.password)?;
    store
        .create_user(&username, &hash, new.role.as_str(), &new.institutions)
        .map_err(|err| match err {
            CreateUserError::Taken(name) => AccountError::Taken(name),
            CreateUserError::Store(err) => AccountError::Internal(err.into()),
        })
}
