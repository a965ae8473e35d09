//! Extractors shared by the API and the pages.
//!
//! [`Principal`] (from the auth service) is extracted from a request: extracting it answers
//! `401 unauthorized` without valid credentials and `403 csrf_failed` for a
//! cookie-authenticated unsafe request (anything but GET, HEAD and OPTIONS) whose
//! `X-CSRF-Token` header is missing or wrong. Bearer-token requests need no CSRF token: a
//! browser never attaches a bearer token by itself, so they cannot be forged cross-site.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use services::auth::secret::{self, Secret};
use services::auth::{AuthMethod, CSRF_HEADER, Principal, SESSION_COOKIE};

use crate::error::ApiError;
use crate::state::AppState;

/// The account behind the request's session cookie, with that session's CSRF token, or
/// `None` when there is no live session. Unlike the extractor this checks no
/// `X-CSRF-Token` header: the server-rendered curator forms carry the token in a hidden
/// field (they work without scripts), and their handlers compare it themselves.
pub async fn session_principal(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(Principal, String)>, ApiError> {
    let Some(session) = cookie(parts, SESSION_COOKIE) else {
        return Ok(None);
    };
    let id_hash = Secret::from_client(session).stored_hash();
    let lookup = id_hash.clone();
    let store = state.store.clone();
    let found = tokio::task::spawn_blocking(move || store.session_user(&lookup)).await??;
    let Some((user, csrf)) = found else {
        return Ok(None);
    };
    Ok(Some((principal(user, AuthMethod::Session { id_hash })?, csrf)))
}

fn principal(user: store::accounts::UserRow, method: AuthMethod) -> Result<Principal, ApiError> {
    Principal::from_row(user, method).map_err(ApiError::internal)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(cached) = parts.extensions.get::<Principal>() {
            return Ok(cached.clone());
        }
        let store = state.store.clone();
        let principal = if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
            let hash = Secret::from_client(token).stored_hash();
            let found = tokio::task::spawn_blocking(move || store.token_user(&hash)).await??;
            let (user, id) =
                found.ok_or_else(|| ApiError::unauthorized("the token is invalid, expired or revoked"))?;
            principal(user, AuthMethod::Token { id })?
        } else if let Some(session) = cookie(parts, SESSION_COOKIE) {
            let id_hash = Secret::from_client(session).stored_hash();
            let lookup = id_hash.clone();
            let found = tokio::task::spawn_blocking(move || store.session_user(&lookup)).await??;
            let (user, csrf) =
                found.ok_or_else(|| ApiError::unauthorized("the session has ended; log in again"))?;
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !secret::equal(sent, &csrf) {
                    return Err(ApiError::csrf_failed());
                }
            }
            principal(user, AuthMethod::Session { id_hash })?
        } else {
            return Err(ApiError::unauthorized(
                "log in (session cookie) or send `Authorization: Bearer <token>`",
            ));
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// A typed query string: `ApiQuery<T>` deserializes the request's query into `T` (a struct
/// deriving `Deserialize` and `JsonSchema`, which also documents it in the OpenAPI
/// description).
///
/// Keys may repeat (`institution=a&institution=b`) for `Vec` fields; values are trimmed;
/// parameters `T` does not name are ignored, so clients may add their own. A query that does
/// not fit answers `400 invalid_parameter` naming the parameter, like every other API error.
/// Range checks (e.g. `limit` from 1 to 500) are the handler's, so they keep their own
/// messages and codes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query()).map(ApiQuery)
    }
}

/// Deserializes a raw query string the way [`ApiQuery`] does.
pub fn parse_query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut trimmed = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        *seen.entry(key.to_string()).or_default() += 1;
        trimmed.append_pair(&key, value.trim());
    }
    let trimmed = trimmed.finish();
    let deserializer = serde_html_form::Deserializer::new(form_urlencoded::parse(trimmed.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let name = err.path().to_string();
        if seen.get(&name).is_some_and(|n| *n > 1) {
            ApiError::invalid_parameter(format!("{name} may be given only once"))
        } else if name == "." {
            ApiError::invalid_parameter(format!("invalid query: {}", err.inner()))
        } else {
            ApiError::invalid_parameter(format!("{name}: {}", err.inner()))
        }
    })
}

/// A term of a controlled vocabulary in a query parameter: its machine value, its Chinese
/// label or a known alias (`resource_type=图书` is `book`), as [`schemas`] parses them. It is
/// documented as the vocabulary's machine values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term<T>(pub T);

impl<'de, T> serde::Deserialize<'de> for Term<T>
where
    T: std::str::FromStr<Err = schemas::UnknownTerm>,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse().map(Term).map_err(serde::de::Error::custom)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Term<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// A yes/no query parameter: `true` or `1`, `false` or `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl<'de> serde::Deserialize<'de> for Flag {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        match text.as_ref() {
            "true" | "1" => Ok(Flag(true)),
            "false" | "0" => Ok(Flag(false)),
            _ => Err(serde::de::Error::custom("must be true or false")),
        }
    }
}

impl serde::Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.0)
    }
}

impl schemars::JsonSchema for Flag {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Flag".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "boolean"})
    }

    fn inline_schema() -> bool {
        true
    }
}

/// A whole-number parameter checked against its range: `name must be a whole number from
/// {min} to {max}` (400 `invalid_parameter`) otherwise, the message every range check of the
/// API gives.
pub fn in_range<T>(name: &str, value: T, range: std::ops::RangeInclusive<T>) -> Result<T, ApiError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid_parameter(format!(
            "{name} must be a whole number from {} to {}",
            range.start(),
            range.end()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Example {
        #[serde(default)]
        institution: Vec<String>,
        limit: Option<usize>,
        #[serde(default)]
        wait: Flag,
        resource_type: Option<Term<schemas::ResourceType>>,
    }

    fn message(raw: &str) -> String {
        let err = parse_query::<Example>(Some(raw)).unwrap_err();
        assert_eq!(err.code().as_str(), "invalid_parameter");
        err.message().to_string()
    }

    #[test]
    fn repeated_keys_trimmed_values_and_unknown_parameters() {
        let q: Example = parse_query(Some(
            "institution=a&institution=%20b%20&limit=+7&utm=x&wait=1&resource_type=%E5%9B%BE%E4%B9%A6",
        ))
        .unwrap();
        assert_eq!(q.institution, ["a", "b"]);
        assert_eq!(q.limit, Some(7));
        assert!(q.wait.0);
        assert_eq!(q.resource_type, Some(Term(schemas::ResourceType::Book)));
        let empty: Example = parse_query(None).unwrap();
        assert!(empty.institution.is_empty() && empty.limit.is_none() && !empty.wait.0);
    }

    #[test]
    fn rejections_name_the_parameter() {
        assert!(
            message("limit=x").starts_with("limit: "),
            "{}",
            message("limit=x")
        );
        assert_eq!(message("limit=1&limit=2"), "limit may be given only once");
        assert!(message("wait=maybe").contains("wait: must be true or false"));
        assert!(message("resource_type=spoon").contains("resource_type: unknown"));
        assert_eq!(
            in_range("limit", 0, 1..=20).unwrap_err().message(),
            "limit must be a whole number from 1 to 20"
        );
    }
}
