//! Studio's examples library and voice profiles stay inside their brand: another brand's
//! example id finds, changes and deletes nothing; the same text is in a library once; a
//! promoted variant's example reads the variant's live performance; a voice profile is one
//! document per brand.

use brandpilot_core::{BrandId, ContentHash, ExampleId, VariantId};
use brandpilot_store::{
    ExampleFilter, ExampleTotals, ExampleUpdate, NewExample, NewGeneration, NewVariant,
    PerformanceRecord, Store, StoreError, VoiceRecord,
};
use brandpilot_testkit::backend_tests;

fn example(brand: BrandId, channel: &str, text: &str) -> NewExample {
    NewExample {
        brand,
        channel: channel.into(),
        sector: Some("education".into()),
        title: None,
        text: text.into(),
        content_hash: ContentHash::of(text.as_bytes()),
        variant: None,
        performance: None,
        created_by: "user:1".into(),
    }
}

fn totals(views: i64) -> ExampleTotals {
    ExampleTotals {
        views,
        likes: 10,
        shares: 2,
        clicks: 7,
        conversions: 1,
    }
}

async fn variant_of(store: &Store, brand: BrandId) -> VariantId {
    let generation = NewGeneration {
        brand,
        kind: "copy".into(),
        channel: "linkedin_post".into(),
        request_json: "{}".into(),
        provenance_json: "{}".into(),
        created_by: None,
        variants: vec![NewVariant {
            label: "short_form".into(),
            content_json: "{}".into(),
            report_json: "{}".into(),
            passed: true,
        }],
    };
    store.create_generation(&generation).await.unwrap().variants[0].id
}

backend_tests! {
    async fn examples_are_the_brands_own_and_listed_newest_first_by_tag(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let mut recorded = example(acme, "linkedin_post", "Paint every morning.");
        recorded.performance = Some(totals(500));
        recorded.title = Some("Morning habit".into());
        let first = store.create_example(&recorded).await.unwrap();
        assert_eq!(first.performance(), Some(totals(500)));
        assert_eq!(first.title.as_deref(), Some("Morning habit"));
        let second = store.create_example(&example(acme, "email", "Our spring course opens.")).await.unwrap();
        assert_eq!(second.performance(), None);
        store.create_example(&example(rival, "email", "A rival's secret.")).await.unwrap();

        let all = store.examples(acme, &ExampleFilter { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [second.id, first.id]);
        let emails = ExampleFilter { channel: Some("email".into()), limit: 10, ..Default::default() };
        assert_eq!(store.examples(acme, &emails).await.unwrap(), std::slice::from_ref(&second));
        let older = ExampleFilter { before: Some(second.id), limit: 10, ..Default::default() };
        assert_eq!(store.examples(acme, &older).await.unwrap(), std::slice::from_ref(&first));
        let finance = ExampleFilter { sector: Some("finance".into()), limit: 10, ..Default::default() };
        assert!(store.examples(acme, &finance).await.unwrap().is_empty());
        assert_eq!(store.example_count(acme).await.unwrap(), 2);

        assert_eq!(store.example(rival, first.id).await.unwrap(), None);
        let retag = |brand| ExampleUpdate {
            brand,
            id: first.id,
            channel: "x_post".into(),
            sector: None,
            title: None,
            performance: Some(totals(900)),
        };
        assert_eq!(store.update_example(&retag(rival)).await.unwrap(), None);
        assert!(!store.delete_example(rival, first.id).await.unwrap());
        let updated = store.update_example(&retag(acme)).await.unwrap().unwrap();
        assert_eq!((updated.channel.as_str(), updated.sector.as_deref()), ("x_post", None));
        assert_eq!(updated.performance(), Some(totals(900)));
        assert_eq!(updated.text, "Paint every morning.", "the text never changes");
        assert!(store.delete_example(acme, first.id).await.unwrap());
        assert_eq!(store.example(acme, first.id).await.unwrap(), None);
        assert_eq!(store.example(acme, ExampleId(second.id.0 + 1000)).await.unwrap(), None);
    }

    async fn the_same_text_is_in_a_library_once(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        store.create_example(&example(acme, "email", "Same words.")).await.unwrap();
        let again = store.create_example(&example(acme, "x_post", "Same words.")).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        store.create_example(&example(rival, "email", "Same words.")).await.unwrap();
        assert_eq!(store.example_count(acme).await.unwrap(), 1);
    }

    async fn a_promoted_variant_reads_its_live_performance(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let variant = variant_of(&store, acme).await;
        let mut promoted = example(acme, "linkedin_post", "Promoted words.");
        promoted.variant = Some(variant);
        let created = store.create_example(&promoted).await.unwrap();
        assert_eq!(created.performance(), None);
        assert_eq!(store.example_of_variant(acme, variant).await.unwrap(), Some(created.clone()));
        let mut twice = example(acme, "linkedin_post", "Other words.");
        twice.variant = Some(variant);
        assert!(matches!(store.create_example(&twice).await, Err(StoreError::Conflict(_))));

        let live = PerformanceRecord {
            views: 2_000,
            likes: 90,
            shares: 10,
            clicks: 40,
            conversions: 4,
            recorded_by: "user:1".into(),
            updated_at_ms: 0,
        };
        store.put_variant_performance(acme, variant, &live).await.unwrap().unwrap();
        let read = store.example(acme, created.id).await.unwrap().unwrap();
        assert_eq!(
            read.performance(),
            Some(ExampleTotals { views: 2_000, likes: 90, shares: 10, clicks: 40, conversions: 4 })
        );

        assert!(store.delete_brand(ws, acme).await.unwrap());
        assert_eq!(store.example(acme, created.id).await.unwrap(), None, "gone with its brand");
    }

    async fn a_voice_profile_is_one_document_per_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        assert_eq!(store.studio_voice(acme).await.unwrap(), None);
        let voice = |origin: &str, json: &str| VoiceRecord {
            profile_json: json.into(),
            origin: origin.into(),
            updated_by: "user:1".into(),
            updated_at_ms: 7,
        };
        store.put_studio_voice(acme, &voice("learned", r#"{"a":1}"#)).await.unwrap();
        store.put_studio_voice(acme, &voice("edited", r#"{"a":2}"#)).await.unwrap();
        assert_eq!(store.studio_voice(acme).await.unwrap(), Some(voice("edited", r#"{"a":2}"#)));
        assert_eq!(store.studio_voice(rival).await.unwrap(), None);
    }
}
