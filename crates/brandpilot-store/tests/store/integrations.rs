//! Webhook endpoints stay inside their workspace (another workspace's id finds and deletes
//! nothing), and a brand's widget is one row per brand, found by the brand or by its
//! public key, whose key no other brand can take.

use brandpilot_store::{NewWebhook, Store, StoreError, WidgetRecord};
use brandpilot_testkit::backend_tests;

fn webhook(workspace: brandpilot_core::WorkspaceId, url: &str) -> NewWebhook {
    NewWebhook {
        workspace,
        url: url.into(),
        secret: "whsec_c2VjcmV0".into(),
        events_json: r#"["ticket.opened"]"#.into(),
        description: "support desk".into(),
    }
}

fn widget(brand: brandpilot_core::BrandId, key: &str) -> WidgetRecord {
    WidgetRecord {
        brand,
        public_key: key.into(),
        allowed_origins_json: r#"["https://shop.example"]"#.into(),
        theme_json: "{}".into(),
        enabled: true,
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

backend_tests! {
    async fn webhooks_are_listed_found_and_deleted_only_in_their_workspace(store: Store) {
        let ours = store.ensure_workspace("ours").await.unwrap();
        let theirs = store.ensure_workspace("theirs").await.unwrap();
        let first = store.create_webhook(&webhook(ours, "https://a.example/hook")).await.unwrap();
        let second = store.create_webhook(&webhook(ours, "https://b.example/hook")).await.unwrap();
        let other = store.create_webhook(&webhook(theirs, "https://c.example/hook")).await.unwrap();
        assert_eq!(first.url, "https://a.example/hook");
        assert_eq!(first.secret, "whsec_c2VjcmV0");
        assert_eq!(first.events_json, r#"["ticket.opened"]"#);
        assert_eq!(first.description, "support desk");

        let listed = store.webhooks(ours).await.unwrap();
        assert_eq!(listed, vec![first.clone(), second.clone()]);
        assert_eq!(store.webhook(ours, first.id).await.unwrap(), Some(first.clone()));
        assert_eq!(store.webhook(ours, other.id).await.unwrap(), None);

        assert!(!store.delete_webhook(ours, other.id).await.unwrap());
        assert_eq!(store.webhooks(theirs).await.unwrap(), vec![other]);
        assert!(store.delete_webhook(ours, first.id).await.unwrap());
        assert!(!store.delete_webhook(ours, first.id).await.unwrap());
        assert_eq!(store.webhooks(ours).await.unwrap(), vec![second]);
    }

    async fn a_brand_has_one_widget_found_by_brand_or_key_and_keys_are_unique(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        assert_eq!(store.widget(acme).await.unwrap(), None);

        let stored = store.put_widget(&widget(acme, "bpk_one")).await.unwrap();
        assert_eq!((stored.brand, stored.public_key.as_str(), stored.enabled), (acme, "bpk_one", true));
        assert!(stored.created_at_ms > 0);
        let mut changed = widget(acme, "bpk_two");
        changed.enabled = false;
        changed.allowed_origins_json = r#"["http://127.0.0.1:9"]"#.into();
        let replaced = store.put_widget(&changed).await.unwrap();
        assert_eq!(replaced.created_at_ms, stored.created_at_ms, "replacing keeps its birth");
        assert!(!replaced.enabled);
        assert_eq!(replaced.allowed_origins_json, r#"["http://127.0.0.1:9"]"#);
        assert_eq!(store.widget(acme).await.unwrap(), Some(replaced.clone()));
        assert_eq!(store.widget_by_key("bpk_two").await.unwrap(), Some((replaced, ws)));
        assert_eq!(store.widget_by_key("bpk_one").await.unwrap(), None, "a rotated key is gone");

        let taken = store.put_widget(&widget(rival, "bpk_two")).await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
        assert_eq!(store.widget(rival).await.unwrap(), None);
    }
}
