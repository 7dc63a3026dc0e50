//! The job runner: workers that take jobs from the durable queue in the store and run them
//! through a [`JobHandler`] the app provides.
//!
//! Each lane (fast, long) has its own workers, so a long ingestion never delays quick work.
//! A worker reaps jobs whose lease expired (their worker died), claims one due job, runs it
//! while renewing its lease, and records the outcome: success; a failure that is the
//! input's fault (`failed`, never retried); or a transient one, retried after an
//! exponential backoff with full jitter until its attempts are used up (`dead`). When the
//! lease cannot be renewed (it expired and another worker took the job), the handler is
//! cancelled and its result discarded; the store's attempt fence refuses it anyway. On
//! [`Runner::stop`], jobs in flight get a grace period to finish, then are cancelled and
//! released back to the queue without using up an attempt.
//!
//! This crate knows nothing of what jobs do: kinds and payloads belong to the handler.

use brandpilot_core::FaultKind;
use brandpilot_store::{ClaimedJob, JobLane, JobStatus, Store};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
pub use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Why a job did not succeed, as its handler reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailure {
    /// Shown to users: no paths, SQL or internals.
    pub message: String,
    /// `User`: retrying cannot help. `Transient` and `Bug`: retried with backoff.
    pub fault: FaultKind,
}

/// What a handler can do while it runs: report progress and notice cancellation.
#[derive(Clone)]
pub struct JobContext {
    progress: Arc<Progress>,
    cancel: CancellationToken,
}

#[derive(Default)]
struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    reported: AtomicU64,
}

impl JobContext {
    /// Records progress; it reaches the store with the next lease renewal.
    pub fn progress(&self, done: u64, total: u64) {
        self.progress.done.store(done, Ordering::Relaxed);
        self.progress.total.store(total, Ordering::Relaxed);
        self.progress.reported.store(1, Ordering::Relaxed);
    }

    /// Cancelled when the job must stop: the runner is stopping or the lease was lost.
    pub fn cancelled(&self) -> &CancellationToken {
        &self.cancel
    }

    fn snapshot(&self) -> Option<(u64, u64)> {
        (self.progress.reported.load(Ordering::Relaxed) == 1).then(|| {
            (
                self.progress.done.load(Ordering::Relaxed),
                self.progress.total.load(Ordering::Relaxed),
            )
        })
    }
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, JobFailure>> + Send>>;

/// How one attempt at a job ended, as the runner recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    /// Failed transiently; queued again after a backoff.
    Retry,
    /// Failed by the input's fault; never retried.
    Failed,
    /// Failed transiently on its last allowed attempt.
    Dead,
    /// Given back untried when the runner stopped.
    Released,
    /// Its lease moved to another worker (this one was too slow or partitioned); the
    /// result, if any, was discarded.
    Lost,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Succeeded => "succeeded",
            JobOutcome::Retry => "retry",
            JobOutcome::Failed => "failed",
            JobOutcome::Dead => "dead",
            JobOutcome::Released => "released",
            JobOutcome::Lost => "lost",
        }
    }
}

/// Runs jobs; the app implements it, dispatching on `job.kind`.
pub trait JobHandler: Send + Sync + 'static {
    fn run(&self, job: ClaimedJob, context: JobContext) -> JobFuture;

    /// Told how each attempt ended, once the store has recorded it (for metrics).
    fn finished(&self, _lane: JobLane, _kind: &str, _outcome: JobOutcome) {}
}

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Names this process in `job_runs` (host and process id by default).
    pub worker_name: String,
    pub fast_workers: usize,
    pub long_workers: usize,
    /// Workers writing Studio batch items: how many generations run at once.
    pub generate_workers: usize,
    /// A claimed job's lease; renewed every third of it while the job runs.
    pub lease: Duration,
    /// How long an idle worker waits before looking again (an enqueue in this process
    /// wakes it at once through [`Runner::notify`]).
    pub poll: Duration,
    /// First retry delay; doubles per attempt, capped by `max_backoff`, fully jittered.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How long [`Runner::stop`] lets jobs in flight finish before releasing them.
    pub grace: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            worker_name: format!("pid-{}", std::process::id()),
            fast_workers: 4,
            long_workers: 1,
            generate_workers: 2,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            grace: Duration::from_secs(20),
        }
    }
}

/// What a failed attempt's status in the store means.
fn failure_outcome(left: JobStatus) -> JobOutcome {
    match left {
        JobStatus::Queued => JobOutcome::Retry,
        JobStatus::Dead => JobOutcome::Dead,
        _ => JobOutcome::Failed,
    }
}

/// The running workers.
pub struct Runner {
    workers: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    wake: Arc<Notify>,
}

impl Runner {
    pub fn start(store: Store, handler: Arc<dyn JobHandler>, config: RunnerConfig) -> Self {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let config = Arc::new(config);
        let lanes = [
            (JobLane::Fast, config.fast_workers),
            (JobLane::Long, config.long_workers),
            (JobLane::Generate, config.generate_workers),
        ];
        let workers = lanes
            .into_iter()
            .flat_map(|(lane, count)| (0..count).map(move |index| (lane, index)))
            .map(|(lane, index)| {
                let worker = Worker {
                    store: store.clone(),
                    handler: handler.clone(),
                    config: config.clone(),
                    lane,
                    name: format!("{}/{}-{index}", config.worker_name, lane.as_str()),
                    stopped: stopped.clone(),
                    wake: wake.clone(),
                };
                tokio::spawn(worker.run())
            })
            .collect();
        Self {
            workers,
            stop,
            wake,
        }
    }

    /// Wakes idle workers: call after queueing a job in this process.
    pub fn notify(&self) {
        self.wake.notify_waiters();
    }

    /// A handle that wakes the workers, for code that queues jobs.
    pub fn waker(&self) -> Waker {
        Waker(self.wake.clone())
    }

    /// Stops claiming, gives jobs in flight the grace period, releases the rest, and
    /// returns when every worker has ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}

/// Wakes a [`Runner`]'s idle workers (cheap to clone).
#[derive(Clone)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn notify(&self) {
        self.0.notify_waiters();
    }
}

struct Worker {
    store: Store,
    handler: Arc<dyn JobHandler>,
    config: Arc<RunnerConfig>,
    lane: JobLane,
    name: String,
    stopped: watch::Receiver<bool>,
    wake: Arc<Notify>,
}

impl Worker {
    async fn run(mut self) {
        while !*self.stopped.borrow() {
            let now = now_ms();
            if let Err(error) = self
                .store
                .reap_expired_jobs(self.lane, now, now + self.backoff_ms(1))
                .await
            {
                tracing::warn!(%error, lane = self.lane.as_str(), "cannot reap expired jobs");
            }
            let lease_ms = self.config.lease.as_millis() as i64;
            let claimed = match self
                .store
                .claim_jobs(self.lane, &self.name, 1, lease_ms, now)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, lane = self.lane.as_str(), "cannot claim jobs");
                    Vec::new()
                }
            };
            let Some(job) = claimed.into_iter().next() else {
                let wake = self.wake.notified();
                tokio::select! {
                    () = wake => {}
                    () = tokio::time::sleep(self.config.poll) => {}
                    _ = self.stopped.changed() => {}
                }
                continue;
            };
            let span =
                tracing::info_span!("job", job = job.id.0, kind = %job.kind, attempt = job.attempt);
            self.execute(job).instrument(span).await;
        }
    }

    async fn execute(&mut self, job: ClaimedJob) {
        let (id, attempt) = (job.id, job.attempt);
        let kind = job.kind.clone();
        let context = JobContext {
            progress: Arc::default(),
            cancel: CancellationToken::new(),
        };
        let mut running = tokio::spawn(self.handler.run(job, context.clone()));
        let renew_every = (self.config.lease / 3).max(Duration::from_millis(10));
        let mut renew = tokio::time::interval(renew_every);
        renew.tick().await;
        let mut stopping_since: Option<tokio::time::Instant> = None;
        let outcome = loop {
            let grace_left =
                stopping_since.map(|since| self.config.grace.saturating_sub(since.elapsed()));
            tokio::select! {
                finished = &mut running => break Some(finished),
                _ = renew.tick() => {
                    let until = now_ms() + self.config.lease.as_millis() as i64;
                    match self.store.heartbeat_job(id, attempt, until, context.snapshot()).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("lease lost: another worker has this job now");
                            context.cancel.cancel();
                            running.abort();
                            self.handler.finished(self.lane, &kind, JobOutcome::Lost);
                            return;
                        }
                        Err(error) => tracing::warn!(%error, "cannot renew the lease"),
                    }
                }
                _ = self.stopped.changed(), if stopping_since.is_none() => {
                    stopping_since = Some(tokio::time::Instant::now());
                }
                () = tokio::time::sleep(grace_left.unwrap_or(Duration::MAX)), if grace_left.is_some() => {
                    break None;
                }
            }
        };
        let now = now_ms();
        if outcome.is_some()
            && let Some(progress) = context.snapshot()
        {
            // The last progress reaches the store even when the job ended between renewals.
            let until = now + self.config.lease.as_millis() as i64;
            let _ = self
                .store
                .heartbeat_job(id, attempt, until, Some(progress))
                .await;
        }
        let recorded = match outcome {
            None => {
                context.cancel.cancel();
                running.abort();
                tracing::info!("stopping: job released back to the queue");
                let released = self.store.release_job(id, attempt, now).await;
                released.map(|done| done.then_some(JobOutcome::Released))
            }
            Some(Ok(Ok(result))) => {
                let completed = self.store.complete_job(id, attempt, &result, now).await;
                completed.map(|done| done.then_some(JobOutcome::Succeeded))
            }
            Some(Ok(Err(failure))) => {
                let retry_at =
                    (failure.fault != FaultKind::User).then(|| now + self.backoff_ms(attempt));
                tracing::warn!(error = %failure.message, fault = ?failure.fault, "job failed");
                let left = self
                    .store
                    .fail_job(id, attempt, &failure.message, retry_at, now)
                    .await;
                left.map(|left| left.map(failure_outcome))
            }
            Some(Err(panicked)) => {
                tracing::error!(error = %panicked, "job handler panicked");
                let left = self
                    .store
                    .fail_job(
                        id,
                        attempt,
                        "the job failed unexpectedly; it will be retried",
                        Some(now + self.backoff_ms(attempt)),
                        now,
                    )
                    .await;
                left.map(|left| left.map(failure_outcome))
            }
        };
        match recorded {
            Ok(Some(outcome)) => self.handler.finished(self.lane, &kind, outcome),
            Ok(None) => {
                tracing::warn!("the outcome was refused: the lease had moved on");
                self.handler.finished(self.lane, &kind, JobOutcome::Lost);
            }
            Err(error) => tracing::warn!(%error, "cannot record the job's outcome"),
        }
    }

    /// Full jitter over `min(max, base · 2^(attempt−1))`.
    fn backoff_ms(&self, attempt: u32) -> i64 {
        let base = self.config.base_backoff.as_millis() as u64;
        let cap = self.config.max_backoff.as_millis() as u64;
        let ceiling = base
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
            .min(cap)
            .max(1);
        fastrand::u64(0..=ceiling) as i64
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
