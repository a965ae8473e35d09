//! Requests to the app's router in process (no socket), for the tests of the API and the
//! pages: send one, sign in, and check an answer against the OpenAPI document.

#![allow(dead_code)] // each test binary uses a different part of it

use axum::body::Body;
use axum::http::{Request, Response, header};
use jincheng::Instance;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends `request` through the router: the response's head, and its body read whole.
pub async fn send(instance: &Instance, request: Request<Body>) -> (Response<Body>, Vec<u8>) {
    let response = instance.router().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

/// GET `uri`: the status and the body as JSON (`Null` when it is not JSON).
pub async fn get_json(instance: &Instance, uri: &str) -> (u16, Value) {
    let (response, body) = send(instance, Request::get(uri).body(Body::empty()).unwrap()).await;
    (
        response.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// Validates `value` against what the document says `method path` answers with `status`.
pub fn check_response(doc: &Value, method: &str, path: &str, status: u16, value: &Value) {
    let schema =
        &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} does not document a JSON {status}"
    );
    let root = json!({"allOf": [schema], "components": doc["components"]});
    let validator = jsonschema::validator_for(&root).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:#?}\n{value}"
    );
}

/// A new account of `role` for the institutions `of`, signed in over the API: its session
/// cookie and CSRF token.
pub async fn session(
    instance: &Instance,
    username: &str,
    role: services::auth::Role,
    of: &[&str],
) -> (String, String) {
    use services::auth::accounts::create_user;
    use services::auth::{NewUser, Password};
    let password = "correct horse battery staple";
    let user = NewUser {
        username: username.into(),
        password: Password::new(password),
        role,
        institutions: of.iter().map(|s| s.to_string()).collect(),
    };
    create_user(&instance.store, &user).unwrap();
    let login = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap();
    let (response, body) = send(instance, login).await;
    assert_eq!(response.status(), 200);
    let csrf = serde_json::from_slice::<Value>(&body).unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("jincheng_session="))
        .unwrap();
    (cookie, csrf)
}
