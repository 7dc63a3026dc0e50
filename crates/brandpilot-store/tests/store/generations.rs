//! A generation and its variants are stored together and read back only through their
//! brand: another brand's id finds nothing, lists hold only the brand's own, newest first,
//! and paging with `before` walks them without gaps or repeats.

use brandpilot_core::{BrandId, GenerationId, VariantId};
use brandpilot_store::{
    NewBatch, NewFeedback, NewGeneration, NewVariant, PerformanceRecord, ReviewMove, Store,
    VariantEdit,
};
use brandpilot_testkit::backend_tests;

fn generation(brand: BrandId, topic: &str) -> NewGeneration {
    NewGeneration {
        brand,
        kind: "copy".into(),
        channel: "linkedin_post".into(),
        request_json: format!(r#"{{"goal":"{topic}"}}"#),
        provenance_json: r#"{"model":"local"}"#.into(),
        created_by: Some("ana@example.com".into()),
        variants: ["short_form", "long_form", "cta_focused"]
            .iter()
            .enumerate()
            .map(|(i, label)| NewVariant {
                label: (*label).into(),
                content_json: format!(r#"{{"post":"{topic} {i}"}}"#),
                report_json: "{}".into(),
                passed: i != 1,
            })
            .collect(),
    }
}

backend_tests! {
    async fn a_generation_comes_back_with_its_variants_in_order(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let created = store.create_generation(&generation(acme, "spring")).await.unwrap();
        assert_eq!(created.variants.len(), 3);
        let read = store.generation(acme, created.id).await.unwrap().unwrap();
        assert_eq!(read, created);
        let labels: Vec<_> = read.variants.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["short_form", "long_form", "cta_focused"]);
        let passed: Vec<_> = read.variants.iter().map(|v| v.passed).collect();
        assert_eq!(passed, [true, false, true]);
        assert!(read.variants.iter().all(|v| v.review_state == "draft" && v.generation == created.id));
        assert_eq!(read.variants[2].content_json, r#"{"post":"spring 2"}"#);
        assert_eq!(read.created_by.as_deref(), Some("ana@example.com"));
    }

    async fn another_brands_generation_id_finds_nothing(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let created = store.create_generation(&generation(acme, "secret plan")).await.unwrap();
        assert_eq!(store.generation(rival, created.id).await.unwrap(), None);
        assert!(store.generations(rival, None, 50).await.unwrap().is_empty());
        assert_eq!(store.generation(acme, GenerationId(created.id.0 + 1000)).await.unwrap(), None);
    }

    async fn lists_are_newest_first_and_page_without_gaps(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(store.create_generation(&generation(acme, &format!("t{i}"))).await.unwrap().id);
            store.create_generation(&generation(rival, "other")).await.unwrap();
        }
        let first = store.generations(acme, None, 2).await.unwrap();
        let second = store.generations(acme, Some(first[1].id), 2).await.unwrap();
        let third = store.generations(acme, Some(second[1].id), 2).await.unwrap();
        let walked: Vec<_> = first.iter().chain(&second).chain(&third).map(|g| g.id).collect();
        let mut newest_first = ids.clone();
        newest_first.reverse();
        assert_eq!(walked, newest_first);
        for listed in first.iter().chain(&second).chain(&third) {
            assert_eq!(listed.brand, acme);
            assert_eq!(listed.variants.len(), 3, "each listed generation carries its variants");
            assert!(listed.variants.iter().all(|v| v.generation == listed.id));
        }
    }

    async fn deleting_the_brand_deletes_its_generations(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap();
        let created = store.create_generation(&generation(acme.id, "gone")).await.unwrap();
        store.delete_brand(ws, acme.id).await.unwrap();
        assert_eq!(store.generation(acme.id, created.id).await.unwrap(), None);
    }

    async fn an_edit_is_the_next_version_and_sends_the_variant_back_to_draft(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let created = store.create_generation(&generation(acme, "spring")).await.unwrap();
        let variant = created.variants[1].id;
        assert_eq!(created.variants[1].version, 1);
        let moved = store.move_variant_review(&review(acme, variant, "draft", "in_review")).await.unwrap().unwrap();
        assert_eq!(moved.review_state, "in_review");

        let edited = store.save_variant_version(&VariantEdit {
            brand: acme,
            variant,
            content_json: r#"{"post":"better"}"#.into(),
            report_json: r#"{"passed":true}"#.into(),
            passed: true,
            by: "user:7".into(),
        }).await.unwrap().unwrap();
        assert_eq!((edited.version, edited.review_state.as_str(), edited.passed), (2, "draft", true));
        assert_eq!(edited.content_json, r#"{"post":"better"}"#);

        let activity = store.variant_activity(acme, variant).await.unwrap();
        let versions: Vec<_> = activity.versions.iter()
            .map(|v| (v.version, v.content_json.as_str(), v.passed, v.created_by.as_deref()))
            .collect();
        assert_eq!(versions, [
            (1, r#"{"post":"spring 1"}"#, false, Some("ana@example.com")),
            (2, r#"{"post":"better"}"#, true, Some("user:7")),
        ]);
        let moves: Vec<_> = activity.events.iter()
            .map(|e| (e.from_state.as_str(), e.to_state.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(moves, [("draft", "in_review", "user:1"), ("in_review", "draft", "user:7")]);
        // The other variants are untouched.
        let read = store.generation(acme, created.id).await.unwrap().unwrap();
        assert_eq!(read.variants[0], created.variants[0]);
    }

    async fn a_review_move_happens_only_from_the_state_it_expects(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let variant = store.create_generation(&generation(acme, "spring")).await.unwrap().variants[0].id;
        store.move_variant_review(&review(acme, variant, "draft", "in_review")).await.unwrap().unwrap();
        let approve = review(acme, variant, "in_review", "approved");
        let reject = review(acme, variant, "in_review", "rejected");
        assert!(store.move_variant_review(&approve).await.unwrap().is_some());
        // A second reviewer acting on the state they saw loses, and records nothing.
        assert!(store.move_variant_review(&reject).await.unwrap().is_none());
        assert_eq!(store.variant(acme, variant).await.unwrap().unwrap().review_state, "approved");
        assert_eq!(store.variant_activity(acme, variant).await.unwrap().events.len(), 2);
    }

    async fn feedback_and_performance_stay_with_their_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let variant = store.create_generation(&generation(acme, "spring")).await.unwrap().variants[0].id;
        let feedback = |brand| NewFeedback {
            brand,
            variant,
            rating: Some(4),
            thumb: Some("up".into()),
            comment: Some("good hook".into()),
            author: "user:1".into(),
        };
        let totals = |views| PerformanceRecord {
            views,
            likes: 40,
            shares: 5,
            clicks: 30,
            conversions: 3,
            recorded_by: "key:bpk_1".into(),
            updated_at_ms: 0,
        };
        assert!(store.add_variant_feedback(&feedback(rival)).await.unwrap().is_none());
        assert!(store.put_variant_performance(rival, variant, &totals(1)).await.unwrap().is_none());
        assert!(store.variant(rival, variant).await.unwrap().is_none());
        assert!(store.move_variant_review(&review(rival, variant, "draft", "in_review")).await.unwrap().is_none());
        assert_eq!(store.variant_activity(rival, variant).await.unwrap(), Default::default());

        let recorded = store.add_variant_feedback(&feedback(acme)).await.unwrap().unwrap();
        assert_eq!((recorded.rating, recorded.thumb.as_deref()), (Some(4), Some("up")));
        store.put_variant_performance(acme, variant, &totals(900)).await.unwrap().unwrap();
        let latest = store.put_variant_performance(acme, variant, &totals(1_200)).await.unwrap().unwrap();
        assert_eq!((latest.views, latest.clicks), (1_200, 30));
        let activity = store.variant_activity(acme, variant).await.unwrap();
        assert_eq!(activity.feedback, [recorded]);
        assert_eq!(activity.performance.map(|p| p.views), Some(1_200), "totals are replaced, not added");
        assert_eq!(activity.versions.len(), 1);
    }

    async fn a_batch_item_is_completed_exactly_once_and_a_repeated_key_finds_the_batch(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let new = NewBatch {
            brand: acme,
            idempotency_key: Some("briefs.csv:abc".into()),
            created_by: Some("cli".into()),
            requests: vec![r#"{"goal":"a"}"#.into(), r#"{"goal":"b"}"#.into()],
        };
        let (batch, created) = store.create_batch(&new).await.unwrap();
        assert!(created);
        assert_eq!(batch.items.iter().map(|i| (i.position, i.status.as_str())).collect::<Vec<_>>(),
                   [(0, "pending"), (1, "pending")]);
        let (again, created) = store.create_batch(&new).await.unwrap();
        assert!(!created, "the same key finds the first batch");
        assert_eq!(again, batch);
        let unqueued = store.unqueued_batch_items(10).await.unwrap();
        assert_eq!(unqueued.len(), 2);
        assert!(unqueued.iter().all(|(workspace, _)| *workspace == ws));

        let first = batch.items[0].id;
        store.set_batch_item_job(first, brandpilot_core::JobId(77)).await.unwrap();
        assert_eq!(store.unqueued_batch_items(10).await.unwrap().len(), 1);
        let stored = store.complete_batch_item(first, &generation(acme, "a")).await.unwrap().unwrap();
        // A job run again after a crash finds the item done and stores nothing.
        assert!(store.complete_batch_item(first, &generation(acme, "a")).await.unwrap().is_none());
        assert!(!store.fail_batch_item(first, "late failure").await.unwrap());
        assert_eq!(store.generations(acme, None, 50).await.unwrap().len(), 1);
        let item = store.batch_item(first).await.unwrap().unwrap();
        assert_eq!((item.status.as_str(), item.generation, item.job), ("done", Some(stored.id.0), Some(brandpilot_core::JobId(77))));

        assert!(store.fail_batch_item(batch.items[1].id, "the model is unreachable").await.unwrap());
        let read = store.batch(batch.id).await.unwrap().unwrap();
        assert_eq!(read.items[1].status, "failed");
        assert_eq!(read.items[1].error.as_deref(), Some("the model is unreachable"));
        // Without a key, every batch is new.
        let keyless = NewBatch { idempotency_key: None, ..new.clone() };
        let (one, _) = store.create_batch(&keyless).await.unwrap();
        let (two, created) = store.create_batch(&keyless).await.unwrap();
        assert!(created && one.id != two.id);
    }
}

fn review(brand: BrandId, variant: VariantId, from: &str, to: &str) -> ReviewMove {
    ReviewMove {
        brand,
        variant,
        from: from.into(),
        to: to.into(),
        actor: if to == "in_review" {
            "user:1".into()
        } else {
            "user:2".into()
        },
        note: None,
    }
}
