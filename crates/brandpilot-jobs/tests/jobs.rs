//! The runner over a real SQLite store with a scripted handler: jobs run once, transient
//! failures retry with backoff, user faults do not, a dead worker's job is taken over after
//! its lease, and stopping releases what is still running.

use brandpilot_core::{FaultKind, JobId, WorkspaceId};
use brandpilot_jobs::{
    JobContext, JobFailure, JobFuture, JobHandler, JobOutcome, Runner, RunnerConfig,
};
use brandpilot_store::{ClaimedJob, JobLane, JobStatus, NewJob, Store};
use brandpilot_testkit::TestDatabase;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the scripted handler does for a job, by its payload's `script`.
struct Scripted {
    runs: Mutex<HashMap<i64, u32>>,
    /// What the runner reported of each attempt, in order.
    outcomes: Mutex<Vec<(JobLane, JobOutcome)>>,
}

impl Scripted {
    fn outcomes(&self) -> Vec<(JobLane, JobOutcome)> {
        self.outcomes.lock().unwrap().clone()
    }
}

impl JobHandler for Scripted {
    fn run(&self, job: ClaimedJob, context: JobContext) -> JobFuture {
        let runs = {
            let mut runs = self.runs.lock().unwrap();
            let count = runs.entry(job.id.0).or_default();
            *count += 1;
            *count
        };
        let script = job.payload["script"].as_str().unwrap_or("ok").to_owned();
        Box::pin(async move {
            match script.as_str() {
                "ok" => Ok(json!({ "run": runs })),
                "flaky" if runs < 3 => Err(JobFailure {
                    message: "the model server is busy".into(),
                    fault: FaultKind::Transient,
                }),
                "flaky" => Ok(json!({ "run": runs })),
                "bad input" => Err(JobFailure {
                    message: "the file is encrypted".into(),
                    fault: FaultKind::User,
                }),
                "progress" => {
                    context.progress(2, 5);
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Ok(json!(null))
                }
                "forever" => {
                    context.cancelled().cancelled().await;
                    Err(JobFailure {
                        message: "cancelled".into(),
                        fault: FaultKind::Transient,
                    })
                }
                other => panic!("unknown script {other}"),
            }
        })
    }

    fn finished(&self, lane: JobLane, kind: &str, outcome: JobOutcome) {
        assert_eq!(kind, "scripted");
        self.outcomes.lock().unwrap().push((lane, outcome));
    }
}

fn handler() -> Arc<Scripted> {
    Arc::new(Scripted {
        runs: Mutex::new(HashMap::new()),
        outcomes: Mutex::new(Vec::new()),
    })
}

fn config(name: &str) -> RunnerConfig {
    RunnerConfig {
        worker_name: name.into(),
        fast_workers: 2,
        long_workers: 1,
        generate_workers: 1,
        lease: Duration::from_millis(600),
        poll: Duration::from_millis(20),
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        grace: Duration::from_millis(200),
    }
}

/// A store on a fresh database: SQLite, or PostgreSQL when `BRANDPILOT_TEST_STORE`
/// says so (the test command runs this suite on both).
async fn store() -> (TestDatabase, Store, WorkspaceId) {
    let database = TestDatabase::from_env().await;
    let store = Store::open(database.url()).await.unwrap();
    let workspace = store.ensure_workspace("jobs").await.unwrap();
    (database, store, workspace)
}

async fn enqueue(store: &Store, workspace: WorkspaceId, lane: JobLane, script: &str) -> JobId {
    store
        .enqueue_job(&NewJob {
            workspace: Some(workspace),
            lane,
            kind: "scripted".into(),
            payload: json!({ "script": script }),
            idempotency_key: None,
            max_attempts: 3,
            run_at_ms: 0,
        })
        .await
        .unwrap()
        .id()
}

/// Polls until the job reaches a status, for at most ten seconds.
async fn wait_for(store: &Store, job: JobId, status: JobStatus) -> brandpilot_store::JobRecord {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let record = store.get_job(job).await.unwrap().unwrap();
        if record.status == status {
            return record;
        }
        assert!(
            Instant::now() < deadline,
            "job {job:?} stuck at {:?}",
            record.status
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn jobs_on_both_lanes_run_once_and_record_their_results() {
    let (_dir, store, ws) = store().await;
    let scripted = handler();
    let runner = Runner::start(store.clone(), scripted.clone(), config("a"));
    let mut jobs = Vec::new();
    for i in 0..20 {
        let lane = if i % 2 == 0 {
            JobLane::Fast
        } else {
            JobLane::Long
        };
        jobs.push(enqueue(&store, ws, lane, "ok").await);
    }
    runner.notify();
    for job in &jobs {
        let record = wait_for(&store, *job, JobStatus::Succeeded).await;
        assert_eq!(record.result, Some(json!({ "run": 1 })));
        assert_eq!(store.job_runs(*job).await.unwrap().len(), 1);
    }
    runner.stop().await;
    assert!(
        scripted
            .runs
            .lock()
            .unwrap()
            .values()
            .all(|runs| *runs == 1)
    );
}

#[tokio::test]
async fn transient_failures_are_retried_and_user_faults_are_not() {
    let (_dir, store, ws) = store().await;
    let scripted = handler();
    let runner = Runner::start(store.clone(), scripted.clone(), config("a"));
    let flaky = enqueue(&store, ws, JobLane::Fast, "flaky").await;
    let bad = enqueue(&store, ws, JobLane::Fast, "bad input").await;
    let record = wait_for(&store, flaky, JobStatus::Succeeded).await;
    assert_eq!(record.attempts, 3);
    let outcomes: Vec<_> = store
        .job_runs(flaky)
        .await
        .unwrap()
        .into_iter()
        .map(|run| run.outcome.unwrap())
        .collect();
    assert_eq!(outcomes, ["retry", "retry", "succeeded"]);
    let record = wait_for(&store, bad, JobStatus::Failed).await;
    assert_eq!(record.attempts, 1);
    assert_eq!(record.error.as_deref(), Some("the file is encrypted"));
    runner.stop().await;
    // The runner reports each attempt as the store recorded it (for the metrics).
    let mut reported: Vec<_> = scripted.outcomes().into_iter().map(|(_, o)| o).collect();
    reported.sort_by_key(|outcome| outcome.as_str());
    assert_eq!(
        reported,
        [
            JobOutcome::Failed,
            JobOutcome::Retry,
            JobOutcome::Retry,
            JobOutcome::Succeeded
        ]
    );
}

#[tokio::test]
async fn a_dead_workers_job_is_taken_over_after_its_lease_and_completed_once() {
    let (_dir, store, ws) = store().await;
    let job = enqueue(&store, ws, JobLane::Long, "ok").await;
    // A worker claims the job and dies without a word.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ghost = store
        .claim_jobs(JobLane::Long, "ghost", 1, 300, now)
        .await
        .unwrap();
    assert_eq!(ghost.len(), 1);
    let runner = Runner::start(store.clone(), handler(), config("b"));
    let record = wait_for(&store, job, JobStatus::Succeeded).await;
    assert_eq!(record.attempts, 2);
    // The ghost comes back: its attempt is fenced off.
    assert!(
        !store
            .complete_job(job, 1, &json!("late"), now + 10_000)
            .await
            .unwrap()
    );
    let runs = store.job_runs(job).await.unwrap();
    let summary: Vec<_> = runs
        .iter()
        .map(|r| (r.worker.as_str(), r.outcome.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [("ghost", Some("lost")), ("b/long-0", Some("succeeded"))]
    );
    runner.stop().await;
}

#[tokio::test]
async fn progress_reaches_the_store_while_a_job_runs() {
    let (_dir, store, ws) = store().await;
    let mut fast = config("p");
    fast.lease = Duration::from_millis(300);
    let runner = Runner::start(store.clone(), handler(), fast);
    let job = enqueue(&store, ws, JobLane::Fast, "progress").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let record = store.get_job(job).await.unwrap().unwrap();
        if (record.progress_done, record.progress_total) == (2, 5) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "progress never reached the store"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wait_for(&store, job, JobStatus::Succeeded).await;
    runner.stop().await;
}

#[tokio::test]
async fn stopping_releases_a_job_that_outlives_the_grace_period() {
    let (_dir, store, ws) = store().await;
    let scripted = handler();
    let runner = Runner::start(store.clone(), scripted.clone(), config("first"));
    let job = enqueue(&store, ws, JobLane::Long, "forever").await;
    wait_for(&store, job, JobStatus::Running).await;
    runner.stop().await;
    let record = store.get_job(job).await.unwrap().unwrap();
    assert_eq!(record.status, JobStatus::Queued, "released, not failed");
    assert_eq!(record.attempts, 0, "a release does not use up an attempt");
    assert!(store.job_runs(job).await.unwrap().is_empty());
    assert_eq!(scripted.outcomes(), [(JobLane::Long, JobOutcome::Released)]);
}
