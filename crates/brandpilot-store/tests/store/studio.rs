//! Studio's state stays inside its brand: rules are one document per brand, a brand's chunk
//! texts are its own, and another brand's experiment id finds, counts and stops nothing.
//! Counts grow by atomic increments, so concurrent reports lose nothing, and a conversion is
//! never counted beyond the arm's impressions.

use brandpilot_core::{BrandId, ExperimentId};
use brandpilot_store::{ArmCounts, ExperimentEvent, NewExperiment, Store};
use brandpilot_testkit::backend_tests;

fn experiment(brand: BrandId, arms: usize) -> NewExperiment {
    let names: Vec<serde_json::Value> = (0..arms)
        .map(|i| serde_json::json!({ "name": format!("arm {i}"), "variant": "text" }))
        .collect();
    NewExperiment {
        brand,
        name: "Spring subject line".into(),
        arms_json: serde_json::to_string(&names).unwrap(),
        arm_count: arms,
        weights_json: serde_json::to_string(&vec![1; arms]).unwrap(),
        mode: "ab".into(),
        significance: 0.05,
        min_sample: 100,
    }
}

backend_tests! {
    async fn rules_are_one_document_per_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        assert_eq!(store.studio_rules(acme).await.unwrap(), None);
        store.put_studio_rules(acme, r#"{"banned_words":["cheap"]}"#).await.unwrap();
        store.put_studio_rules(acme, r#"{"banned_words":["free"]}"#).await.unwrap();
        assert_eq!(
            store.studio_rules(acme).await.unwrap().as_deref(),
            Some(r#"{"banned_words":["free"]}"#)
        );
        assert_eq!(store.studio_rules(rival).await.unwrap(), None);
    }

    async fn brand_chunk_texts_are_the_brands_own_and_bounded(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        for (brand, texts) in [(acme, vec!["one", "two", "three"]), (rival, vec!["secret"])] {
            let source = store.begin_source(brand, &crate::new_source("/a.txt")).await.unwrap();
            let chunks: Vec<_> = texts.iter().map(|t| crate::chunk(t)).collect();
            store.replace_chunks(source, &crate::update("v"), &chunks).await.unwrap();
        }
        assert_eq!(store.brand_chunk_texts(acme, 10).await.unwrap(), ["one", "two", "three"]);
        assert_eq!(store.brand_chunk_texts(acme, 2).await.unwrap(), ["one", "two"]);
        assert_eq!(store.brand_chunk_texts(rival, 10).await.unwrap(), ["secret"]);
    }

    async fn another_brands_experiment_id_finds_counts_and_stops_nothing(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let created = store.create_experiment(&experiment(acme, 3)).await.unwrap();
        assert_eq!(created.status, "running");
        assert_eq!(created.counts, vec![ArmCounts::default(); 3]);
        assert_eq!((created.mode.as_str(), created.min_sample), ("ab", 100));
        assert!((created.significance - 0.05).abs() < 1e-12);
        let theirs = store.create_experiment(&experiment(rival, 2)).await.unwrap();

        assert_eq!(store.experiment(acme, created.id).await.unwrap(), Some(created.clone()));
        assert_eq!(store.experiment(rival, created.id).await.unwrap(), None);
        assert_eq!(store.experiment(acme, ExperimentId(created.id.0 + 100)).await.unwrap(), None);
        assert_eq!(store.experiments(acme).await.unwrap(), vec![created.clone()]);
        assert_eq!(store.experiments(rival).await.unwrap(), vec![theirs]);

        let impression = ExperimentEvent::Impression;
        assert!(!store.record_experiment_event(rival, created.id, 0, impression).await.unwrap());
        assert!(!store.stop_experiment(rival, created.id, None).await.unwrap());
        assert!(!store.record_experiment_event(acme, created.id, 3, impression).await.unwrap());
        let untouched = store.experiment(acme, created.id).await.unwrap().unwrap();
        assert_eq!((untouched.status.as_str(), untouched.counts), ("running", vec![ArmCounts::default(); 3]));

        // A conversion needs an unconverted impression of its arm.
        let conversion = ExperimentEvent::Conversion;
        assert!(!store.record_experiment_event(acme, created.id, 1, conversion).await.unwrap());
        assert!(store.record_experiment_event(acme, created.id, 1, impression).await.unwrap());
        assert!(store.record_experiment_event(acme, created.id, 1, conversion).await.unwrap());
        assert!(!store.record_experiment_event(acme, created.id, 1, conversion).await.unwrap());

        assert!(store.stop_experiment(acme, created.id, Some("arm 1")).await.unwrap());
        assert!(!store.stop_experiment(acme, created.id, None).await.unwrap(), "stopped once");
        let stopped = store.experiment(acme, created.id).await.unwrap().unwrap();
        assert_eq!((stopped.status.as_str(), stopped.winner.as_deref()), ("stopped", Some("arm 1")));
        assert_eq!(stopped.counts[1], ArmCounts { impressions: 1, conversions: 1 });
        // A stopped experiment counts nothing more.
        assert!(!store.record_experiment_event(acme, created.id, 0, impression).await.unwrap());

        // Deleting the brand takes its experiments with it.
        assert!(store.delete_brand(ws, acme).await.unwrap());
        assert!(store.experiments(acme).await.unwrap().is_empty());
    }

    async fn concurrent_increments_lose_nothing(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let created = store.create_experiment(&experiment(acme, 2)).await.unwrap();
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let arm = i % 2;
                    assert!(store
                        .record_experiment_event(acme, created.id, arm, ExperimentEvent::Impression)
                        .await
                        .unwrap());
                    // Conversions race with the other arm's impressions, never with their own.
                    if i % 4 < 2 {
                        assert!(store
                            .record_experiment_event(acme, created.id, arm, ExperimentEvent::Conversion)
                            .await
                            .unwrap());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let counted = store.experiment(acme, created.id).await.unwrap().unwrap();
        assert_eq!(
            counted.counts,
            vec![ArmCounts { impressions: 20, conversions: 10 }; 2]
        );
    }
}
