//! Pages of the partners area (filled in by its issue): its routes and their
//! access rules live here, joined to the core ones by `access::all_routes`.

use axum::Router;

use crate::AppState;
use crate::access::RouteRule;

/// This area's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[];

pub fn routes() -> Router<AppState> {
    Router::new()
}
