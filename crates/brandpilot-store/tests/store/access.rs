//! Brands by id and API keys: each is found only inside its own workspace.

use brandpilot_core::BrandId;
use brandpilot_store::{NewApiKey, Store, StoreError};
use brandpilot_testkit::backend_tests;

fn key(workspace: brandpilot_core::WorkspaceId, prefix: &str, hash: u8) -> NewApiKey {
    NewApiKey {
        workspace,
        name: format!("key {prefix}"),
        prefix: prefix.to_owned(),
        secret_hash: [hash; 32],
        scopes: vec!["search".into(), "brands:read".into()],
    }
}

backend_tests! {
    async fn a_workspace_plan_is_its_own_and_clears_back_to_the_default(store: Store) {
        let a = store.ensure_workspace("a").await.unwrap();
        let b = store.ensure_workspace("b").await.unwrap();
        assert_eq!(store.workspace_plan(a).await.unwrap(), None);
        assert!(store.set_workspace_plan(a, Some("pro")).await.unwrap());
        assert_eq!(store.workspace_plan(a).await.unwrap().as_deref(), Some("pro"));
        assert_eq!(store.workspace_plan(b).await.unwrap(), None, "b is untouched");
        let listed: Vec<_> = store
            .list_workspaces()
            .await
            .unwrap()
            .into_iter()
            .map(|w| (w.id, w.name, w.plan))
            .collect();
        assert_eq!(
            listed,
            [(a, "a".to_owned(), Some("pro".to_owned())), (b, "b".to_owned(), None)]
        );
        assert!(store.set_workspace_plan(a, None).await.unwrap());
        assert_eq!(store.workspace_plan(a).await.unwrap(), None);
        let missing = brandpilot_core::WorkspaceId(a.0 + b.0 + 100);
        assert!(!store.set_workspace_plan(missing, Some("pro")).await.unwrap());
    }

    async fn a_brand_id_resolves_only_inside_its_workspace_and_names_are_unique(store: Store) {
        let a = store.ensure_workspace("a").await.unwrap();
        let b = store.ensure_workspace("b").await.unwrap();
        let brand = store.create_brand(a, "Acme").await.unwrap();
        assert_eq!(
            store.get_brand(a, brand.id).await.unwrap(),
            Some(brand.clone())
        );
        assert_eq!(store.get_brand(b, brand.id).await.unwrap(), None);
        assert_eq!(
            store.get_brand(a, BrandId(brand.id.0 + 1)).await.unwrap(),
            None
        );

        let again = store.create_brand(a, "Acme").await.unwrap_err();
        assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
        // The same name in another workspace is a different brand.
        let other = store.create_brand(b, "Acme").await.unwrap();
        assert_ne!(other.id, brand.id);
        assert_eq!(store.find_workspace("b").await.unwrap(), Some(b));
        assert_eq!(store.find_workspace("nope").await.unwrap(), None);
    }

    async fn api_keys_are_found_by_hash_listed_per_workspace_and_revoked_once(store: Store) {
        let a = store.ensure_workspace("a").await.unwrap();
        let b = store.ensure_workspace("b").await.unwrap();
        let first = store.insert_api_key(&key(a, "aaaa1111", 1)).await.unwrap();
        let second = store.insert_api_key(&key(a, "aaaa2222", 2)).await.unwrap();
        let foreign = store.insert_api_key(&key(b, "bbbb1111", 3)).await.unwrap();

        let found = store.api_key_by_hash(&[2; 32]).await.unwrap().unwrap();
        assert_eq!(found, second);
        assert_eq!(found.scopes, vec!["search", "brands:read"]);
        assert_eq!(store.api_key_by_hash(&[9; 32]).await.unwrap(), None);

        let listed: Vec<_> = store.list_api_keys(a).await.unwrap();
        assert_eq!(listed, vec![first.clone(), second]);

        // Another workspace cannot revoke a key it does not own.
        assert!(!store.revoke_api_key(b, first.id).await.unwrap());
        assert!(store.revoke_api_key(a, first.id).await.unwrap());
        assert!(!store.revoke_api_key(a, first.id).await.unwrap());
        let revoked = store.api_key_by_hash(&[1; 32]).await.unwrap().unwrap();
        assert!(revoked.revoked_at_ms.is_some());
        assert_eq!(store.list_api_keys(b).await.unwrap(), vec![foreign]);

        // A prefix or secret can never be stored twice.
        let duplicate = store
            .insert_api_key(&key(b, "aaaa1111", 7))
            .await
            .unwrap_err();
        assert!(
            matches!(duplicate, StoreError::Conflict(_)),
            "{duplicate:?}"
        );
    }
}
