//! The workflow driver, above the steps: it walks one claimed workflow through the
//! step graph, starting each step once the steps it needs have committed, running
//! independent steps side by side, committing each result under the workflow's
//! lease and applying each step's failure policy; and the watcher of drafts
//! left for reps (`stale`). The actors
//! (`actors::supervisor`, `actors::workflow`) only schedule this.

pub mod booking;
mod commit;
pub mod runner;
pub mod stale;
