//! Group commit for the webhook intake. Deliveries that arrive while a commit is
//! under way wait for the next one and are committed together, in one
//! transaction ([`events::accept_all`]); each request is answered only after the
//! commit that holds it, so "never 2xx before the commit" still holds. A lone
//! delivery is written at once — nothing waits to fill a batch — so batching
//! costs a quiet service nothing and lets a busy one pay one commit (one WAL
//! flush) for many deliveries instead of one each.
//!
//! Writing takes one of a few writer permits. When nothing is queued and a permit
//! is free, the request writes its own delivery from the handler, without handing
//! it to a writer task and back (two thread hand-offs, a quarter of a lone
//! delivery's time); otherwise it queues for the writer tasks, which batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};

use crate::store::events::{self, Accepted, NewIntake};
use crate::store::{Backend, Store, StoreError};

/// The most deliveries one commit holds.
const MAX_BATCH: usize = 64;

type Answer = oneshot::Sender<Result<Accepted, StoreError>>;

/// The handle the webhook handler hands deliveries to; cheap to clone.
#[derive(Clone)]
pub struct IntakeQueue {
    store: Store,
    waiting: mpsc::UnboundedSender<(NewIntake, Answer)>,
    shared: Arc<Shared>,
}

/// What the handlers and the writer tasks share.
struct Shared {
    /// One per concurrent write (a batch or a lone delivery).
    writers: Semaphore,
    /// Deliveries sent to the writer tasks and not yet taken into a batch.
    queued: AtomicUsize,
    /// Transactions committed.
    commits: AtomicU64,
}

impl IntakeQueue {
    /// Starts the writers on the current runtime: one on SQLite, whose writes are
    /// serialised anyway; two on PostgreSQL, so one batch is gathered and written
    /// while the other's commit is flushed (four let more deliveries go alone at
    /// concurrency 8 and batched less: 0.74 of the ceiling against 0.84).
    pub fn start(store: Store) -> Self {
        let (waiting, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        };
        let shared = Arc::new(Shared {
            writers: Semaphore::new(writers),
            queued: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
        });
        for _ in 0..writers {
            tokio::spawn(write_batches(
                store.clone(),
                receiver.clone(),
                shared.clone(),
            ));
        }
        IntakeQueue {
            store,
            waiting,
            shared,
        }
    }

    /// Transactions committed so far (each holding one or more deliveries).
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Commits `intake` (with whatever else is waiting) and answers once it is
    /// committed, or with the error that kept it from being committed.
    pub async fn accept(&self, intake: NewIntake) -> Result<Accepted, StoreError> {
        if self.shared.queued.load(Ordering::SeqCst) == 0
            && let Ok(_permit) = self.shared.writers.try_acquire()
        {
            let (answer, answered) = oneshot::channel();
            write(&self.store, &self.shared, vec![(intake, answer)]).await;
            return answered.await.unwrap_or_else(|_| Err(stopped()));
        }
        let (answer, answered) = oneshot::channel();
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        self.waiting.send((intake, answer)).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the intake writer has stopped".into())
}

type Receiver = Arc<Mutex<mpsc::UnboundedReceiver<(NewIntake, Answer)>>>;

async fn write_batches(store: Store, receiver: Receiver, shared: Arc<Shared>) {
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
            shared.queued.fetch_sub(batch.len(), Ordering::SeqCst);
            batch
        };
        let Ok(_permit) = shared.writers.acquire().await else {
            return;
        };
        write(&store, &shared, batch).await;
    }
}

/// Commits one batch and answers each of its requests. If the batch as a whole
/// fails for a reason other than the database being unreachable, each delivery is
/// tried alone, so one that cannot be stored does not fail the others.
async fn write(store: &Store, shared: &Shared, batch: Vec<(NewIntake, Answer)>) {
    let (intakes, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let intakes = Arc::new(intakes);
    let all = intakes.clone();
    match store.run(move |conn| events::accept_all(conn, &all)).await {
        Ok(accepted) => {
            shared.commits.fetch_add(1, Ordering::Relaxed);
            for (answer, accepted) in answers.into_iter().zip(accepted) {
                let _ = answer.send(Ok(accepted));
            }
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
        }
        Err(error) => {
            tracing::warn!(%error, deliveries = answers.len(), "intake batch failed; committing each delivery alone");
            for (n, answer) in answers.into_iter().enumerate() {
                let intakes = intakes.clone();
                let alone = store
                    .run(move |conn| events::accept(conn, &intakes[n]))
                    .await;
                if alone.is_ok() {
                    shared.commits.fetch_add(1, Ordering::Relaxed);
                }
                let _ = answer.send(alone);
            }
        }
    }
}
