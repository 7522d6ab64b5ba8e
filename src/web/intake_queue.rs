//! Group commit for the webhook intake. Deliveries that arrive while a commit is
//! under way wait for the next one and are committed together, in one
//! transaction ([`events::accept_all`]); each request is answered only after the
//! commit that holds it, so "never 2xx before the commit" still holds. A lone
//! delivery is written at once — nothing waits to fill a batch — so batching
//! costs a quiet service nothing and lets a busy one pay one commit (one WAL
//! flush) for many deliveries instead of one each.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::store::events::{self, Accepted, NewIntake};
use crate::store::{Backend, Store, StoreError};

/// The most deliveries one commit holds.
const MAX_BATCH: usize = 64;

type Answer = oneshot::Sender<Result<Accepted, StoreError>>;

/// The handle the webhook handler hands deliveries to; cheap to clone.
#[derive(Clone)]
pub struct IntakeQueue {
    waiting: mpsc::UnboundedSender<(NewIntake, Answer)>,
    commits: Arc<AtomicU64>,
}

impl IntakeQueue {
    /// Starts the writers on the current runtime: one on SQLite, whose writes are
    /// serialised anyway; four on PostgreSQL, which flushes several transactions'
    /// commits at once, so batches are written while others are being flushed.
    pub fn start(store: Store) -> Self {
        let (waiting, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let commits = Arc::new(AtomicU64::new(0));
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(write_batches(
                store.clone(),
                receiver.clone(),
                commits.clone(),
            ));
        }
        IntakeQueue { waiting, commits }
    }

    /// Batches committed so far (each holding one or more deliveries).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Commits `intake` (with whatever else is waiting) and answers once it is
    /// committed, or with the error that kept it from being committed.
    pub async fn accept(&self, intake: NewIntake) -> Result<Accepted, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.waiting
            .send((intake, answer))
            .map_err(|_| StoreError::Unavailable("the intake writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the intake writer has stopped".into()))?
    }
}

type Receiver = Arc<Mutex<mpsc::UnboundedReceiver<(NewIntake, Answer)>>>;

async fn write_batches(store: Store, receiver: Receiver, commits: Arc<AtomicU64>) {
    loop {
        let batch = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        if write(&store, batch).await {
            commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Commits one batch and answers each of its requests. If the batch as a whole
/// fails for a reason other than the database being unreachable, each delivery is
/// tried alone, so one that cannot be stored does not fail the others. True when
/// the batch was committed as one.
async fn write(store: &Store, batch: Vec<(NewIntake, Answer)>) -> bool {
    let (intakes, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let intakes = Arc::new(intakes);
    let shared = intakes.clone();
    match store
        .run(move |conn| events::accept_all(conn, &shared))
        .await
    {
        Ok(accepted) => {
            for (answer, accepted) in answers.into_iter().zip(accepted) {
                let _ = answer.send(Ok(accepted));
            }
            true
        }
        Err(error) if error.is_unavailable() || answers.len() == 1 => {
            let message = error.to_string();
            let mut error = Some(error);
            for answer in answers {
                let _ = answer.send(Err(match error.take() {
                    Some(first) => first,
                    None => StoreError::Unavailable(message.clone()),
                }));
            }
            false
        }
        Err(error) => {
            tracing::warn!(%error, deliveries = answers.len(), "intake batch failed; committing each delivery alone");
            for (n, answer) in answers.into_iter().enumerate() {
                let intakes = intakes.clone();
                let alone = store
                    .run(move |conn| events::accept(conn, &intakes[n]))
                    .await;
                let _ = answer.send(alone);
            }
            false
        }
    }
}
