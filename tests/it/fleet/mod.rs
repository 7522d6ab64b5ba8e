//! Several processes on one PostgreSQL database: the providers' quotas shared
//! through leases (`budget`, `burst`), and a rolling deploy behind a real
//! reverse proxy that drops no webhook (`rolling`).

mod budget;
mod burst;
mod rolling;
