//! The job queue: claims are exclusive and in due order, lanes are separate, leases expire
//! and are reaped, stale workers are fenced off, failures retry or end, idempotency keys
//! return the first job.

use brandpilot_core::WorkspaceId;
use brandpilot_store::{Enqueued, JobLane, JobStatus, NewJob, Store};
use brandpilot_testkit::backend_tests;
use serde_json::json;

const SECOND: i64 = 1_000;

fn job(workspace: WorkspaceId, lane: JobLane, n: u32, run_at_ms: i64) -> NewJob {
    NewJob {
        workspace: Some(workspace),
        lane,
        kind: "test".into(),
        payload: json!({ "n": n }),
        idempotency_key: None,
        max_attempts: 3,
        run_at_ms,
    }
}

async fn queue(store: &Store) -> WorkspaceId {
    store.ensure_workspace("jobs").await.unwrap()
}

backend_tests! {
    async fn claims_take_due_jobs_of_one_lane_in_order_and_never_twice(store: Store) {
        let ws = queue(&store).await;
        let t0 = 1_000_000;
        let later = store
            .enqueue_job(&job(ws, JobLane::Long, 1, t0 + 5 * SECOND))
            .await
            .unwrap();
        let first = store
            .enqueue_job(&job(ws, JobLane::Long, 2, t0 - SECOND))
            .await
            .unwrap();
        let second = store
            .enqueue_job(&job(ws, JobLane::Long, 3, t0))
            .await
            .unwrap();
        let fast = store
            .enqueue_job(&job(ws, JobLane::Fast, 4, t0))
            .await
            .unwrap();

        let claimed = store
            .claim_jobs(JobLane::Long, "w1", 10, 30 * SECOND, t0)
            .await
            .unwrap();
        let ids: Vec<_> = claimed.iter().map(|j| j.id).collect();
        assert_eq!(
            ids,
            [first.id(), second.id()],
            "due jobs of the lane, oldest first"
        );
        assert_eq!(claimed[0].payload["n"], 2);
        assert_eq!(claimed[0].attempt, 1);
        // Nothing left for another worker until the later job is due.
        assert!(
            store
                .claim_jobs(JobLane::Long, "w2", 10, 30 * SECOND, t0)
                .await
                .unwrap()
                .is_empty()
        );
        let due = store
            .claim_jobs(JobLane::Long, "w2", 10, 30 * SECOND, t0 + 5 * SECOND)
            .await
            .unwrap();
        assert_eq!(due.iter().map(|j| j.id).collect::<Vec<_>>(), [later.id()]);
        let fast_claim = store
            .claim_jobs(JobLane::Fast, "w3", 10, 30 * SECOND, t0)
            .await
            .unwrap();
        assert_eq!(fast_claim[0].id, fast.id());
        let record = store.get_job(first.id()).await.unwrap().unwrap();
        assert_eq!((record.status, record.attempts), (JobStatus::Running, 1));
    }

    async fn an_expired_lease_is_reaped_and_the_first_workers_late_completion_is_refused(
        store: Store,
    ) {
        let ws = queue(&store).await;
        let t0 = 5_000_000;
        let id = store
            .enqueue_job(&job(ws, JobLane::Long, 1, t0))
            .await
            .unwrap()
            .id();
        let first = store
            .claim_jobs(JobLane::Long, "dies", 1, 10 * SECOND, t0)
            .await
            .unwrap();
        // A heartbeat extends the lease: nothing to reap at t0 + 15 s.
        assert!(
            store
                .heartbeat_job(id, 1, t0 + 20 * SECOND, Some((3, 10)))
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .reap_expired_jobs(JobLane::Long, t0 + 15 * SECOND, t0)
                .await
                .unwrap(),
            0
        );
        // Then the worker goes silent.
        let reaped = store
            .reap_expired_jobs(JobLane::Long, t0 + 25 * SECOND, t0 + 27 * SECOND)
            .await
            .unwrap();
        assert_eq!(reaped, 1);
        let record = store.get_job(id).await.unwrap().unwrap();
        assert_eq!(record.status, JobStatus::Queued);
        assert_eq!(record.progress_done, 3);
        assert!(record.error.unwrap().contains("stopped responding"));
        assert!(
            store
                .claim_jobs(JobLane::Long, "w2", 1, 10 * SECOND, t0 + 26 * SECOND)
                .await
                .unwrap()
                .is_empty(),
            "due again only after the backoff"
        );
        let second = store
            .claim_jobs(JobLane::Long, "w2", 1, 10 * SECOND, t0 + 27 * SECOND)
            .await
            .unwrap();
        assert_eq!(second[0].attempt, 2);

        // The first worker wakes up: every write of its stale attempt is refused.
        assert!(
            !store
                .heartbeat_job(id, first[0].attempt, t0 + 99 * SECOND, None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_job(id, first[0].attempt, &json!("late"), t0 + 28 * SECOND)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .fail_job(id, first[0].attempt, "late", None, t0 + 28 * SECOND)
                .await
                .unwrap(),
            None
        );
        assert!(
            store
                .complete_job(id, 2, &json!({ "chunks": 7 }), t0 + 29 * SECOND)
                .await
                .unwrap()
        );
        let record = store.get_job(id).await.unwrap().unwrap();
        assert_eq!(record.status, JobStatus::Succeeded);
        assert_eq!(record.result, Some(json!({ "chunks": 7 })));
        let runs = store.job_runs(id).await.unwrap();
        let outcomes: Vec<_> = runs
            .iter()
            .map(|r| (r.attempt, r.worker.as_str(), r.outcome.as_deref()))
            .collect();
        assert_eq!(
            outcomes,
            [(1, "dies", Some("lost")), (2, "w2", Some("succeeded"))]
        );
    }

    async fn transient_failures_retry_until_dead_and_user_faults_fail_at_once(store: Store) {
        let ws = queue(&store).await;
        let t0 = 9_000_000;
        let id = store
            .enqueue_job(&job(ws, JobLane::Fast, 1, t0))
            .await
            .unwrap()
            .id();
        for attempt in 1..=3u32 {
            let now = t0 + i64::from(attempt) * 100 * SECOND;
            let claimed = store
                .claim_jobs(JobLane::Fast, "w", 1, 30 * SECOND, now)
                .await
                .unwrap();
            assert_eq!(claimed[0].attempt, attempt);
            let left = store
                .fail_job(
                    id,
                    attempt,
                    "the model server is down",
                    Some(now + SECOND),
                    now,
                )
                .await
                .unwrap();
            let expected = if attempt < 3 {
                JobStatus::Queued
            } else {
                JobStatus::Dead
            };
            assert_eq!(left, Some(expected), "attempt {attempt}");
        }
        let record = store.get_job(id).await.unwrap().unwrap();
        assert_eq!(
            record.status,
            JobStatus::Dead,
            "three attempts were allowed"
        );
        assert_eq!(record.error.as_deref(), Some("the model server is down"));
        assert!(
            store
                .claim_jobs(JobLane::Fast, "w", 1, 30 * SECOND, t0 + 999 * SECOND)
                .await
                .unwrap()
                .is_empty()
        );

        let bad = store
            .enqueue_job(&job(ws, JobLane::Fast, 2, t0))
            .await
            .unwrap()
            .id();
        let claimed = store
            .claim_jobs(JobLane::Fast, "w", 1, 30 * SECOND, t0)
            .await
            .unwrap();
        assert_eq!(
            store
                .fail_job(bad, claimed[0].attempt, "the file is encrypted", None, t0)
                .await
                .unwrap(),
            Some(JobStatus::Failed)
        );
        assert_eq!(
            store.get_job(bad).await.unwrap().unwrap().status,
            JobStatus::Failed
        );
    }

    async fn an_idempotency_key_returns_the_first_job_and_a_release_requeues_without_counting(
        store: Store,
    ) {
        let ws = queue(&store).await;
        let other = store.ensure_workspace("other").await.unwrap();
        let keyed = |workspace| NewJob {
            idempotency_key: Some("upload-42".into()),
            ..job(workspace, JobLane::Long, 1, 0)
        };
        let first = store.enqueue_job(&keyed(ws)).await.unwrap();
        assert!(matches!(first, Enqueued::New(_)));
        assert_eq!(
            store.enqueue_job(&keyed(ws)).await.unwrap(),
            Enqueued::Existing(first.id())
        );
        // Keys are per workspace.
        assert!(matches!(
            store.enqueue_job(&keyed(other)).await.unwrap(),
            Enqueued::New(_)
        ));

        let claimed = store
            .claim_jobs(JobLane::Long, "stopping", 1, 30 * SECOND, 10)
            .await
            .unwrap();
        assert!(
            store
                .release_job(claimed[0].id, claimed[0].attempt, 20)
                .await
                .unwrap()
        );
        let again = store
            .claim_jobs(JobLane::Long, "next", 10, 30 * SECOND, 20)
            .await
            .unwrap();
        let released = again
            .iter()
            .find(|j| j.id == claimed[0].id)
            .expect("released job is due");
        assert_eq!(released.attempt, 1, "a release does not use up an attempt");
    }

    async fn two_stores_on_one_database_claim_each_job_exactly_once(store: Store, url: &str) {
        let ws = queue(&store).await;
        for n in 0..200 {
            store
                .enqueue_job(&job(ws, JobLane::Long, n, 0))
                .await
                .unwrap();
        }
        let other = Store::open(url).await.unwrap();
        let worker = |store: Store, name: &'static str| async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store
                    .claim_jobs(JobLane::Long, name, 3, 30 * SECOND, 1)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                for job in claimed {
                    assert!(
                        store
                            .complete_job(job.id, job.attempt, &json!(null), 2)
                            .await
                            .unwrap()
                    );
                    mine.push(job.id);
                }
            }
        };
        let (a, b) = tokio::join!(worker(store.clone(), "a"), worker(other, "b"));
        let mut all: Vec<_> = a.iter().chain(&b).copied().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 200);
        assert_eq!(a.len() + b.len(), 200, "a job was run twice");
    }

    async fn queue_stats_count_waiting_and_running_jobs_per_lane(store: Store) {
        let ws = queue(&store).await;
        let t0 = 100 * SECOND;
        store
            .enqueue_job(&job(ws, JobLane::Long, 1, t0 - 30 * SECOND))
            .await
            .unwrap();
        store
            .enqueue_job(&job(ws, JobLane::Long, 2, t0 - 10 * SECOND))
            .await
            .unwrap();
        store
            .enqueue_job(&job(ws, JobLane::Long, 3, t0 + 60 * SECOND))
            .await
            .unwrap();
        store
            .enqueue_job(&job(ws, JobLane::Fast, 4, t0))
            .await
            .unwrap();
        store
            .claim_jobs(JobLane::Fast, "w", 1, 30 * SECOND, t0)
            .await
            .unwrap();
        let stats = store.queue_stats(t0).await.unwrap();
        let long = stats.iter().find(|s| s.lane == JobLane::Long).unwrap();
        assert_eq!((long.queued, long.running), (3, 0));
        assert_eq!(
            long.oldest_due_ms,
            Some(t0 - 30 * SECOND),
            "not-yet-due jobs do not count"
        );
        let fast = stats.iter().find(|s| s.lane == JobLane::Fast).unwrap();
        assert_eq!(
            (fast.queued, fast.running, fast.oldest_due_ms),
            (0, 1, None)
        );
    }

    async fn uploads_left_behind_are_swept_by_age_and_newer_ones_kept(store: Store) {
        let ws = queue(&store).await;
        let brand = store.create_brand(ws, "Acme").await.unwrap();
        let old = store
            .put_upload(brand.id, "old.md", &[1; 32], b"left by a dead job")
            .await
            .unwrap();
        // Uploads are stamped in milliseconds: step past the old one's stamp.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let cutoff = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        std::thread::sleep(std::time::Duration::from_millis(5));
        let new = store
            .put_upload(brand.id, "new.md", &[2; 32], b"waiting for its job")
            .await
            .unwrap();
        assert_eq!(store.delete_uploads_before(0).await.unwrap(), 0);
        assert_eq!(store.delete_uploads_before(cutoff).await.unwrap(), 1);
        let left: Vec<i64> = store
            .uploads(brand.id, &[old, new])
            .await
            .unwrap()
            .into_iter()
            .map(|upload| upload.id)
            .collect();
        assert_eq!(left, [new]);
    }
}
