//! Who is asking, and what they may do.
//!
//! - Accounts ([`accounts`]): `admin` (every institution) and `curator` (the institutions
//!   named on the account). Passwords are hashed with argon2id ([`password`]).
//! - Credentials ([`secret`]): a login gives a session (an `HttpOnly`, `SameSite=Strict`
//!   cookie, `Secure` when configured) for the web pages, with a CSRF token bound to it that
//!   every cookie-authenticated unsafe request must echo in `X-CSRF-Token`; scripts create
//!   revocable bearer tokens. Sessions and tokens are random 256-bit values stored only as
//!   their SHA-256, so a copy of the database grants nothing.
//! - [`Principal`]: the authenticated account (found by the app's extractor from a session
//!   cookie or a bearer token); it carries the role and institutions that the services'
//!   object- and property-level checks use.
//! - [`lockout`]: after 5 failed logins in 15 minutes a username is locked for the rest of
//!   the window, whether or not it exists. Attempts are counted before hashing, locked ones
//!   too, so parallel or continued guessing cannot get past it.
//!
//! Secrets never reach a log: the types that hold them ([`Password`], [`secret::Secret`])
//! print as `[redacted]`.

pub mod accounts;
pub mod lockout;
pub mod login;
pub mod password;
mod principal;
pub mod secret;

pub use crate::auth::{
    accounts::{NewUser, Role},
    password::Password,
    principal::{AuthMethod, Forbidden, Principal},
};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "jincheng_session";
/// Name of the cookie holding the CSRF token (readable by the page's scripts, which copy it
/// into the `X-CSRF-Token` header).
pub const CSRF_COOKIE: &str = "jincheng_csrf";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
pub const SESSION_TTL_SECS: i64 = 12 * 60 * 60;

/// Whether cookies get the `Secure` attribute: `secure_cookies = true` in the config's
/// `[curation]` section, set when the server is reached over HTTPS (typically behind a
/// TLS-terminating proxy). The value travels in the app's state.
pub fn secure_cookies(curation: &crate::config::CurationConfig) -> bool {
    curation.secure_cookies
}
