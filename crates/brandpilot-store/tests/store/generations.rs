//! A generation and its variants are stored together and read back only through their
//! brand: another brand's id finds nothing, lists hold only the brand's own, newest first,
//! and paging with `before` walks them without gaps or repeats.

use brandpilot_core::{BrandId, GenerationId};
use brandpilot_store::{NewGeneration, NewVariant, Store};
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
}
