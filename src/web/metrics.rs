//! `GET /metrics` in the Prometheus text format.

use actix_web::{HttpResponse, web};

use super::AppState;

pub async fn render(state: web::Data<AppState>) -> HttpResponse {
    let (in_use, idle) = state.store.pool_state();
    state.metrics.db_connections_in_use.set(i64::from(in_use));
    state.metrics.db_connections_idle.set(i64::from(idle));
    let max = i64::from(state.config.db_pool_size);
    state.metrics.db_connections_max.set(max);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
