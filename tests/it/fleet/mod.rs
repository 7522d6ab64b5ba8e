//! Several processes on one PostgreSQL database: the providers' quotas shared
//! through leases (`budget`; `burst` in one process, `process_burst` across real
//! ones), and a rolling deploy behind a real reverse proxy that drops no webhook
//! (`rolling`).

mod budget;
mod burst;
mod process_burst;
mod rolling;
