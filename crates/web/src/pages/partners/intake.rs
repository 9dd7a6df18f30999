//! Public proposal intake against published themes, the themes' administration and the public page of published decisions (issue 6).

use axum::Router;

use crate::AppState;
use crate::access::RouteRule;

/// This part's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[];

/// API documentation of this part, in `api::API_DOCS`'s shape.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[];

pub fn routes() -> Router<AppState> {
    Router::new()
}
