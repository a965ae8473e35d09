//! One API route with its description: the unit the route table ([`super::groups`]) is made
//! of, so that the router and the OpenAPI document are built from the same list.
//!
//! An [`Endpoint`] is a method, a path, its handler and what [`super::openapi`] needs to
//! describe it: the query type (a `JsonSchema` struct, the same one the handler extracts
//! with [`crate::extract::ApiQuery`]), the body type, the response types and the error codes
//! the handler itself can answer. What the route's *group* adds (API keys and rate limits,
//! ETags, the body limit) is described by the group, not repeated here.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use crate::error::ErrorCode;
use crate::state::AppState;

/// Makes the schema of a type, registering what it refers to in the generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`, as a reference to a component when `T` is a named type.
pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The schema of `T` itself (never a reference): for query structs, whose properties become
/// parameters.
fn inline_schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// How a response may be cached, which decides its ETag layer ([`super::caching`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Not cacheable by shared caches (or cached by the handler itself).
    None,
    /// Answered from the index: tagged by request and index watermark, so a revalidation is
    /// answered `304` without running the handler.
    IndexState,
    /// Answered from the store: tagged by a hash of the body.
    Body,
}

/// Who must be signed in to call a route (checked by the handler's extractors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    Anyone,
    /// An account: a session cookie (with `X-CSRF-Token` on unsafe methods) or a bearer
    /// token; the handler may further require an admin or an institution.
    Account,
    /// An admin account, or any valid `X-API-Key`.
    AccountOrKey,
}

/// A request body.
#[derive(Clone)]
pub enum RequestBody {
    /// `application/json` of this schema.
    Json(SchemaFn),
    /// `application/json`: a record without its server-set members (`id`, `images`).
    RecordInput,
    /// `application/json` of this schema, or a text body of this media type (`text/csv`).
    JsonOrText(SchemaFn, &'static str),
    /// `multipart/form-data` with these fields (name, type, description).
    Multipart(&'static [(&'static str, &'static str, &'static str)]),
}

/// A path parameter that is not a plain string: name, schema, description.
#[derive(Clone, Copy)]
pub struct PathParam {
    /// Its name in the path.
    pub name: &'static str,
    /// Its schema.
    pub schema: fn() -> Value,
    /// What it is.
    pub description: &'static str,
}

/// The content of a response.
#[derive(Clone)]
pub enum Content {
    /// `application/json` of this schema.
    Json(SchemaFn),
    /// Another media type, with an inline schema.
    Other(&'static str, fn() -> Value),
    /// No body.
    Empty,
}

/// One documented success response.
#[derive(Clone)]
pub struct Success {
    /// HTTP status.
    pub status: u16,
    /// What it is.
    pub description: &'static str,
    /// Its media types.
    pub content: Vec<Content>,
    /// Response headers it sets (name, description).
    pub headers: Vec<(&'static str, &'static str)>,
}

/// One route: method, path (axum's and OpenAPI's `{param}` syntax), handler and description.
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// The absolute path.
    pub path: &'static str,
    /// The handler for this method only.
    pub handler: MethodRouter<AppState>,
    /// Its ETag layer.
    pub cache: Cache,
    /// Who may call it.
    pub auth: Auth,
    /// One line.
    pub summary: &'static str,
    /// More, when one line is not enough.
    pub description: Option<&'static str>,
    /// The query struct, whose properties are the query parameters.
    pub query: Option<SchemaFn>,
    /// Path parameters that are not plain strings (name, schema, description).
    pub path_params: Vec<PathParam>,
    /// Request headers it reads (name, description).
    pub headers: Vec<(&'static str, &'static str)>,
    /// The body.
    pub body: Option<RequestBody>,
    /// Success responses.
    pub responses: Vec<Success>,
    /// Error codes the handler (and its extractors) can answer.
    pub errors: Vec<ErrorCode>,
}

macro_rules! constructor {
    ($name:ident, $method:ident, $routing:ident) => {
        /// A route for this method.
        pub fn $name<H, T>(path: &'static str, handler: H) -> Endpoint
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            Endpoint::new(Method::$method, path, routing::$routing(handler))
        }
    };
}

impl Endpoint {
    fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Endpoint {
        Endpoint {
            method,
            path,
            handler,
            cache: Cache::None,
            auth: Auth::Anyone,
            summary: "",
            description: None,
            query: None,
            path_params: Vec::new(),
            headers: Vec::new(),
            body: None,
            responses: Vec::new(),
            errors: Vec::new(),
        }
    }

    constructor!(get, GET, get);
    constructor!(post, POST, post);
    constructor!(put, PUT, put);
    constructor!(delete, DELETE, delete);

    /// Its one-line summary.
    pub fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    /// A longer description.
    pub fn description(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// Its query struct (it may answer `invalid_parameter`).
    pub fn query<Q: JsonSchema>(mut self) -> Self {
        self.query = Some(inline_schema_of::<Q>);
        self.errors(&[ErrorCode::InvalidParameter])
    }

    /// A path parameter that is not a plain string.
    pub fn path_param(
        mut self,
        name: &'static str,
        schema: fn() -> Value,
        description: &'static str,
    ) -> Self {
        self.path_params.push(PathParam {
            name,
            schema,
            description,
        });
        self
    }

    /// A request header it reads.
    pub fn header(mut self, name: &'static str, description: &'static str) -> Self {
        self.headers.push((name, description));
        self
    }

    /// A JSON body of type `B` (it may answer `invalid_body`, `unsupported_media_type` and
    /// `payload_too_large`).
    pub fn json_body<B: JsonSchema>(self) -> Self {
        self.body(RequestBody::Json(schema_of::<B>))
    }

    /// A body of another kind.
    pub fn body(mut self, body: RequestBody) -> Self {
        self.body = Some(body);
        self.errors(&[
            ErrorCode::InvalidBody,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::PayloadTooLarge,
        ])
    }

    /// A JSON success response of type `R`.
    pub fn json<R: JsonSchema>(self, status: u16, description: &'static str) -> Self {
        self.respond(Success {
            status,
            description,
            content: vec![Content::Json(schema_of::<R>)],
            headers: Vec::new(),
        })
    }

    /// A success response.
    pub fn respond(mut self, success: Success) -> Self {
        self.responses.push(success);
        self
    }

    /// Error codes the handler can answer.
    pub fn errors(mut self, codes: &[ErrorCode]) -> Self {
        for code in codes {
            if !self.errors.contains(code) {
                self.errors.push(*code);
            }
        }
        self
    }

    /// Its ETag layer.
    pub fn cache(mut self, cache: Cache) -> Self {
        self.cache = cache;
        self
    }

    /// It needs an account (it may answer `unauthorized`, and `csrf_failed` on an unsafe
    /// method called with a session cookie).
    pub fn signed_in(mut self) -> Self {
        self.auth = Auth::Account;
        let unsafe_method = !matches!(self.method, Method::GET | Method::HEAD);
        self = self.errors(&[ErrorCode::Unauthorized]);
        if unsafe_method {
            self = self.errors(&[ErrorCode::CsrfFailed]);
        }
        self
    }

    /// It needs an admin (403 `forbidden` for other accounts).
    pub fn admin(self) -> Self {
        self.signed_in().errors(&[ErrorCode::Forbidden])
    }

    /// It needs an admin or any valid API key.
    pub fn admin_or_key(mut self) -> Self {
        self.auth = Auth::AccountOrKey;
        self.errors(&[ErrorCode::Unauthorized, ErrorCode::Forbidden])
    }
}
