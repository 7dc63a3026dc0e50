//! LLM call records and the answer cache as their users rely on them: usage reports that add
//! up per day, model and brand; one workspace never seeing another's spend or answers; spend
//! history surviving a brand's deletion while its cached answers go; expiry and eviction.

use brandpilot_core::{BrandId, ContentHash, FaultKind, WorkspaceId};
use brandpilot_store::{
    CacheScope, LlmCallOutcome, NewCacheEntry, NewLlmCall, Store, UsageGroup, UsageQuery, UsageRow,
};
use brandpilot_testkit::backend_tests;

const DAY_MS: i64 = 86_400_000;
/// 2026-01-10T00:00:00Z.
const JAN_10: i64 = 1_768_003_200_000;

fn call(workspace: WorkspaceId, brand: Option<BrandId>, model: &str, at_ms: i64) -> NewLlmCall {
    NewLlmCall {
        workspace,
        brand,
        route: "answer".into(),
        provider: "openai".into(),
        model: model.into(),
        prompt_tokens: 100,
        completion_tokens: 20,
        tokens_estimated: false,
        cost_usd: Some(0.001),
        latency_ms: 850,
        outcome: LlmCallOutcome::Success,
        fault: None,
        fallback_depth: 0,
        retries: 0,
        streamed: false,
        created_at_ms: at_ms,
    }
}

fn grouped(by: &[UsageGroup]) -> UsageQuery {
    UsageQuery {
        group_by: by.to_vec(),
        ..UsageQuery::default()
    }
}

async fn usage(store: &Store, workspace: WorkspaceId, query: UsageQuery) -> Vec<UsageRow> {
    store.llm_usage(workspace, &query).await.unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

fn entry(scope: CacheScope, key: &str, context: &str, created_at_ms: i64) -> NewCacheEntry {
    NewCacheEntry {
        scope,
        route: "answer".into(),
        key_hash: ContentHash::of(key.as_bytes()),
        context_hash: ContentHash::of(context.as_bytes()),
        embedding: Some(vec![0.6, 0.8, 0.0]),
        response: format!("{{\"text\": \"answer to {key}\"}}"),
        created_at_ms,
        expires_at_ms: created_at_ms + DAY_MS,
    }
}

backend_tests! {
    async fn usage_adds_up_per_day_model_and_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let zeta = store.ensure_brand(ws, "zeta").await.unwrap().id;

        let mut failed = call(ws, Some(zeta), "gpt-4o-mini", JAN_10 + DAY_MS + 5);
        failed.outcome = LlmCallOutcome::Failed;
        failed.fault = Some(FaultKind::Transient);
        failed.prompt_tokens = 0;
        failed.completion_tokens = 0;
        failed.cost_usd = Some(0.0);
        let mut unpriced = call(ws, None, "llama-local", JAN_10 + DAY_MS + 9);
        unpriced.cost_usd = None;
        unpriced.tokens_estimated = true;
        unpriced.streamed = true;
        let calls = vec![
            call(ws, Some(acme), "gpt-4o-mini", JAN_10 + 1),
            call(ws, Some(acme), "gpt-4o", JAN_10 + DAY_MS - 1),
            call(ws, Some(zeta), "gpt-4o-mini", JAN_10 + DAY_MS),
            failed,
            unpriced,
        ];
        assert_eq!(store.record_llm_calls(&calls).await.unwrap(), 5);

        let total = usage(&store, ws, grouped(&[])).await;
        assert_eq!(total.len(), 1);
        let total = &total[0];
        assert_eq!((total.calls, total.failed, total.unpriced_calls), (5, 1, 1));
        assert_eq!((total.prompt_tokens, total.completion_tokens), (400, 80));
        assert!(close(total.cost_usd, 0.003), "{}", total.cost_usd);
        assert_eq!(
            (total.day_ms, &total.model, total.brand),
            (None, &None, None)
        );

        // Days are UTC calendar days: the call one millisecond before midnight is on the first.
        let days = usage(&store, ws, grouped(&[UsageGroup::Day])).await;
        let days: Vec<_> = days.iter().map(|r| (r.day_ms, r.calls)).collect();
        assert_eq!(days, [(Some(JAN_10), 2), (Some(JAN_10 + DAY_MS), 3)]);

        let models = usage(&store, ws, grouped(&[UsageGroup::Model])).await;
        let models: Vec<_> = models
            .iter()
            .map(|r| (r.model.as_deref().unwrap(), r.calls, r.unpriced_calls))
            .collect();
        assert_eq!(
            models,
            [
                ("gpt-4o", 1, 0),
                ("gpt-4o-mini", 3, 0),
                ("llama-local", 1, 1)
            ]
        );

        // By brand, the workspace-level call is its own group with no brand.
        let brands = usage(&store, ws, grouped(&[UsageGroup::Brand])).await;
        let brands: Vec<_> = brands
            .iter()
            .map(|r| (r.brand, r.calls, r.failed))
            .collect();
        assert_eq!(
            brands,
            [(None, 1, 0), (Some(acme), 2, 0), (Some(zeta), 2, 1)]
        );

        // Several dimensions at once.
        let by_day_and_model =
            usage(&store, ws, grouped(&[UsageGroup::Model, UsageGroup::Day])).await;
        let keys: Vec<_> = by_day_and_model
            .iter()
            .map(|r| (r.day_ms.unwrap(), r.model.clone().unwrap(), r.calls))
            .collect();
        assert_eq!(
            keys,
            [
                (JAN_10, "gpt-4o".to_string(), 1),
                (JAN_10, "gpt-4o-mini".to_string(), 1),
                (JAN_10 + DAY_MS, "gpt-4o-mini".to_string(), 2),
                (JAN_10 + DAY_MS, "llama-local".to_string(), 1),
            ]
        );
        let routes = usage(
            &store,
            ws,
            grouped(&[UsageGroup::Route, UsageGroup::Provider]),
        )
        .await;
        assert_eq!(routes.len(), 1);
        assert_eq!(
            (routes[0].route.as_deref(), routes[0].provider.as_deref()),
            (Some("answer"), Some("openai"))
        );

        // A time window (since inclusive, until exclusive) and a brand filter.
        let second_day = usage(
            &store,
            ws,
            UsageQuery {
                since_ms: Some(JAN_10 + DAY_MS),
                until_ms: Some(JAN_10 + 2 * DAY_MS),
                ..UsageQuery::default()
            },
        )
        .await;
        assert_eq!(second_day[0].calls, 3);
        let acme_only = usage(
            &store,
            ws,
            UsageQuery {
                brand: Some(acme),
                group_by: vec![UsageGroup::Model],
                ..UsageQuery::default()
            },
        )
        .await;
        let acme_models: Vec<_> = acme_only.iter().map(|r| r.model.clone().unwrap()).collect();
        assert_eq!(acme_models, ["gpt-4o", "gpt-4o-mini"]);
    }

    async fn recorded_calls_read_back_field_by_field_newest_first(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let first = call(ws, Some(acme), "gpt-4o-mini", JAN_10);
        let second = NewLlmCall {
            route: "classify".into(),
            provider: "groq".into(),
            prompt_tokens: 0,
            completion_tokens: 0,
            tokens_estimated: true,
            cost_usd: None,
            latency_ms: u64::MAX,
            outcome: LlmCallOutcome::Interrupted,
            fault: Some(FaultKind::Bug),
            fallback_depth: 2,
            retries: 3,
            streamed: true,
            ..call(ws, None, "llama-3.1-8b", JAN_10 + 1)
        };
        store
            .record_llm_calls(&[first.clone(), second.clone()])
            .await
            .unwrap();
        let stored = store.list_llm_calls(ws, 10).await.unwrap();
        let calls: Vec<_> = stored.iter().map(|row| row.call.clone()).collect();
        let clamped = NewLlmCall {
            latency_ms: i64::MAX as u64,
            ..second
        };
        assert_eq!(calls, [clamped, first]);
        assert!(stored[0].id > stored[1].id);
        assert_eq!(store.list_llm_calls(ws, 1).await.unwrap().len(), 1);
    }

    async fn another_workspaces_calls_never_appear(store: Store) {
        let mine = store.ensure_workspace("mine").await.unwrap();
        let theirs = store.ensure_workspace("theirs").await.unwrap();
        let my_brand = store.ensure_brand(mine, "acme").await.unwrap().id;
        let their_brand = store.ensure_brand(theirs, "rival").await.unwrap().id;

        let written = store
            .record_llm_calls(&[
                call(mine, Some(my_brand), "m", JAN_10),
                call(theirs, Some(their_brand), "their-model", JAN_10),
                call(theirs, None, "their-model", JAN_10),
                // A call that claims a brand of another workspace keeps its workspace and loses
                // the brand: the row must never point across workspaces.
                call(mine, Some(their_brand), "m", JAN_10),
                // A workspace that does not exist: skipped, the rest of the batch is written.
                call(WorkspaceId(9_999), None, "m", JAN_10),
            ])
            .await
            .unwrap();
        assert_eq!(written, 4);

        let rows = usage(
            &store,
            mine,
            grouped(&[UsageGroup::Brand, UsageGroup::Model]),
        )
        .await;
        let keys: Vec<_> = rows
            .iter()
            .map(|r| (r.brand, r.model.clone().unwrap(), r.calls))
            .collect();
        assert_eq!(
            keys,
            [
                (None, "m".to_string(), 1),
                (Some(my_brand), "m".to_string(), 1)
            ]
        );

        // Filtering by the other workspace's brand finds nothing in mine.
        let leaked = usage(
            &store,
            mine,
            UsageQuery {
                brand: Some(their_brand),
                ..UsageQuery::default()
            },
        )
        .await;
        assert!(leaked.is_empty(), "{leaked:?}");
        assert_eq!(usage(&store, theirs, grouped(&[])).await[0].calls, 2);
        let listed = store.list_llm_calls(mine, 100).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(
            listed
                .iter()
                .all(|row| row.call.workspace == mine && row.call.brand != Some(their_brand))
        );
    }

    async fn deleting_a_brand_keeps_its_spend_and_drops_its_cached_answers(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let other = store.ensure_brand(ws, "other").await.unwrap().id;
        store
            .record_llm_calls(&[
                call(ws, Some(acme), "m", JAN_10),
                call(ws, Some(other), "m", JAN_10),
            ])
            .await
            .unwrap();
        let acme_scope = CacheScope {
            workspace: ws,
            brand: Some(acme),
        };
        let other_scope = CacheScope {
            workspace: ws,
            brand: Some(other),
        };
        assert!(
            store
                .llm_cache_put(&entry(acme_scope, "q", "c", JAN_10))
                .await
                .unwrap()
        );
        assert!(
            store
                .llm_cache_put(&entry(other_scope, "q", "c", JAN_10))
                .await
                .unwrap()
        );

        // Deleting needs the brand's own workspace.
        let elsewhere = store.ensure_workspace("elsewhere").await.unwrap();
        assert!(!store.delete_brand(elsewhere, acme).await.unwrap());
        assert!(store.delete_brand(ws, acme).await.unwrap());
        assert!(store.find_brand(ws, "acme").await.unwrap().is_none());

        let brands = usage(&store, ws, grouped(&[UsageGroup::Brand])).await;
        let brands: Vec<_> = brands.iter().map(|r| (r.brand, r.calls)).collect();
        assert_eq!(brands, [(None, 1), (Some(other), 1)], "the spend is kept");

        let key = ContentHash::of(b"q");
        assert_eq!(
            store
                .llm_cache_get(acme_scope, "answer", &key, JAN_10)
                .await
                .unwrap(),
            None
        );
        assert!(
            store
                .llm_cache_get(other_scope, "answer", &key, JAN_10)
                .await
                .unwrap()
                .is_some(),
            "another brand's answers stay"
        );
        // A call recorded later for the deleted brand lands at the workspace level.
        store
            .record_llm_calls(&[call(ws, Some(acme), "m", JAN_10 + 1)])
            .await
            .unwrap();
        let brands = usage(&store, ws, grouped(&[UsageGroup::Brand])).await;
        assert_eq!((brands[0].brand, brands[0].calls), (None, 2));
    }

    async fn cached_answers_are_found_only_in_their_scope_and_until_they_expire(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let theirs = store.ensure_workspace("theirs").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let zeta = store.ensure_brand(ws, "zeta").await.unwrap().id;
        let their_brand = store.ensure_brand(theirs, "rival").await.unwrap().id;
        let scope = |workspace, brand| CacheScope { workspace, brand };
        let acme_scope = scope(ws, Some(acme));
        let key = ContentHash::of(b"refunds?");

        store
            .llm_cache_put(&entry(acme_scope, "refunds?", "ctx", JAN_10))
            .await
            .unwrap();
        let hit = store
            .llm_cache_get(acme_scope, "answer", &key, JAN_10 + 1)
            .await
            .unwrap()
            .expect("an exact hit");
        assert_eq!(hit.response, "{\"text\": \"answer to refunds?\"}");
        assert_eq!(
            store
                .llm_cache_entry(acme_scope, hit.id, JAN_10 + 1)
                .await
                .unwrap()
                .as_ref(),
            Some(&hit)
        );

        // Not in another brand, the workspace level, another workspace or another route.
        for other in [
            scope(ws, Some(zeta)),
            scope(ws, None),
            scope(theirs, None),
            scope(theirs, Some(their_brand)),
        ] {
            assert_eq!(
                store
                    .llm_cache_get(other, "answer", &key, JAN_10 + 1)
                    .await
                    .unwrap(),
                None,
                "{other:?}"
            );
            assert_eq!(
                store
                    .llm_cache_entry(other, hit.id, JAN_10 + 1)
                    .await
                    .unwrap(),
                None
            );
            assert!(
                store
                    .llm_cache_similar(other, "answer", &ContentHash::of(b"ctx"), JAN_10 + 1, 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(
            store
                .llm_cache_get(acme_scope, "classify", &key, JAN_10 + 1)
                .await
                .unwrap(),
            None
        );

        // Expired at its expiry time.
        assert_eq!(
            store
                .llm_cache_get(acme_scope, "answer", &key, JAN_10 + DAY_MS)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .llm_cache_entry(acme_scope, hit.id, JAN_10 + DAY_MS)
                .await
                .unwrap(),
            None
        );

        // Putting the same request again replaces the answer (one row per request), also at
        // the workspace level, where the brand is NULL.
        for put_scope in [acme_scope, scope(ws, None), scope(ws, None)] {
            let mut again = entry(put_scope, "refunds?", "ctx", JAN_10 + 10);
            again.response = "\"second\"".into();
            assert!(store.llm_cache_put(&again).await.unwrap());
        }
        for get_scope in [acme_scope, scope(ws, None)] {
            let replaced = store
                .llm_cache_get(get_scope, "answer", &key, JAN_10 + 11)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(replaced.response, "\"second\"");
            assert_eq!(replaced.created_at_ms, JAN_10 + 10);
        }
        let candidates = store
            .llm_cache_similar(scope(ws, None), "answer", &ContentHash::of(b"ctx"), 0, 10)
            .await
            .unwrap();
        assert_eq!(
            candidates.len(),
            1,
            "one row for the workspace-level request"
        );

        // An entry whose brand is in another workspace is refused.
        assert!(
            !store
                .llm_cache_put(&entry(scope(ws, Some(their_brand)), "x", "ctx", JAN_10))
                .await
                .unwrap()
        );
        assert!(
            !store
                .llm_cache_put(&entry(scope(WorkspaceId(9_999), None), "x", "ctx", JAN_10))
                .await
                .unwrap()
        );
    }

    async fn similar_candidates_share_the_context_and_eviction_keeps_the_newest(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let scope = CacheScope {
            workspace: ws,
            brand: Some(acme),
        };
        for i in 0..5 {
            store
                .llm_cache_put(&entry(scope, &format!("q{i}"), "ctx", JAN_10 + i))
                .await
                .unwrap();
        }
        let mut no_vector = entry(scope, "plain", "ctx", JAN_10 + 100);
        no_vector.embedding = None;
        store.llm_cache_put(&no_vector).await.unwrap();
        store
            .llm_cache_put(&entry(scope, "elsewhere", "other ctx", JAN_10))
            .await
            .unwrap();

        let context = ContentHash::of(b"ctx");
        let candidates = store
            .llm_cache_similar(scope, "answer", &context, JAN_10, 3)
            .await
            .unwrap();
        assert_eq!(candidates.len(), 3, "bounded by the limit");
        assert!(
            candidates
                .iter()
                .all(|(_, vector)| vector == &[0.6, 0.8, 0.0])
        );
        let newest = store
            .llm_cache_get(scope, "answer", &ContentHash::of(b"q4"), JAN_10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(candidates[0].0, newest.id, "newest first");
        let all = store
            .llm_cache_similar(scope, "answer", &context, JAN_10, 100)
            .await
            .unwrap();
        assert_eq!(all.len(), 5, "same context and an embedding only");

        // An entry of a second route, and one expired: eviction at max 2 keeps this route's two
        // newest, drops the expired one wherever it is, and leaves the other route alone.
        let mut other_route = entry(scope, "c", "ctx", JAN_10);
        other_route.route = "classify".into();
        store.llm_cache_put(&other_route).await.unwrap();
        let mut expired = entry(scope, "old", "ctx", JAN_10 - 2 * DAY_MS);
        expired.route = "summarize".into();
        store.llm_cache_put(&expired).await.unwrap();

        let evicted = store
            .llm_cache_evict(scope, "answer", 2, JAN_10 + 200)
            .await
            .unwrap();
        assert_eq!(evicted, 1 + 5, "the expired entry and the 5 oldest of 7");
        let kept = |key: &'static str, route: &'static str| {
            let store = store.clone();
            async move {
                store
                    .llm_cache_get(scope, route, &ContentHash::of(key.as_bytes()), JAN_10 + 200)
                    .await
                    .unwrap()
                    .is_some()
            }
        };
        assert!(kept("plain", "answer").await);
        assert!(kept("q4", "answer").await);
        assert!(!kept("q3", "answer").await);
        assert!(!kept("elsewhere", "answer").await);
        assert!(kept("c", "classify").await);
    }
}
