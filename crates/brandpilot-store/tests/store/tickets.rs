//! Tickets, the assistant's hand-overs to people: listed per workspace (by brand and status,
//! newest first, in pages), found and changed only inside their workspace, assigned only to
//! its members, and at most one unresolved at a time is what a conversation reports.

use crate::assistant::{conversation_with, ticket};
use brandpilot_core::{TicketId, UserId};
use brandpilot_store::{NewTicket, NewUser, Store, StoreError, TicketRecord, TicketUpdate};
use brandpilot_testkit::backend_tests;

fn ids(tickets: &[TicketRecord]) -> Vec<TicketId> {
    tickets.iter().map(|t| t.id).collect()
}

backend_tests! {
    async fn tickets_filter_by_status_and_brand_and_page_with_before(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let (acme_talk, acme_messages) = conversation_with(&store, acme, &["q", "a"]).await;
        let (rival_talk, _) = conversation_with(&store, rival, &["q"]).await;

        let first = store
            .create_ticket(&NewTicket {
                message: Some(acme_messages[1]),
                ..ticket(acme, acme_talk, "refund?")
            })
            .await
            .unwrap();
        assert_eq!(
            (first.status.as_str(), first.message, first.assignee),
            ("open", Some(acme_messages[1]), None)
        );
        assert_eq!((first.brand, first.conversation), (acme, acme_talk));
        assert_eq!(first.question, "refund?");
        assert_eq!(first.reason, "low confidence");
        let second = store
            .create_ticket(&ticket(rival, rival_talk, "r1"))
            .await
            .unwrap();
        let third = store
            .create_ticket(&ticket(acme, acme_talk, "a2"))
            .await
            .unwrap();
        let fourth = store
            .create_ticket(&ticket(acme, acme_talk, "a3"))
            .await
            .unwrap();
        let resolved = TicketUpdate {
            status: Some("resolved".into()),
            assignee: None,
        };
        store
            .update_ticket(ws, third.id, &resolved)
            .await
            .unwrap()
            .unwrap();

        let all = store.tickets(ws, None, None, None, 10).await.unwrap();
        assert_eq!(ids(&all), [fourth.id, third.id, second.id, first.id]);
        assert_eq!(all[3], first);
        let acme_only = store.tickets(ws, Some(acme), None, None, 10).await.unwrap();
        assert_eq!(ids(&acme_only), [fourth.id, third.id, first.id]);
        let open = store
            .tickets(ws, None, Some("open"), None, 10)
            .await
            .unwrap();
        assert_eq!(ids(&open), [fourth.id, second.id, first.id]);
        let acme_open = store
            .tickets(ws, Some(acme), Some("open"), None, 10)
            .await
            .unwrap();
        assert_eq!(ids(&acme_open), [fourth.id, first.id]);
        let done = store
            .tickets(ws, None, Some("resolved"), None, 10)
            .await
            .unwrap();
        assert_eq!(ids(&done), [third.id]);

        // Pages: two at a time, each before the last one seen.
        let page = store.tickets(ws, None, None, None, 2).await.unwrap();
        assert_eq!(ids(&page), [fourth.id, third.id]);
        let next = store
            .tickets(ws, None, None, Some(third.id), 2)
            .await
            .unwrap();
        assert_eq!(ids(&next), [second.id, first.id]);
        assert!(
            store
                .tickets(ws, None, None, Some(first.id), 2)
                .await
                .unwrap()
                .is_empty()
        );

        // A message of another conversation cannot be attached, and nothing is written.
        let (_, other_messages) = conversation_with(&store, acme, &["elsewhere"]).await;
        let refused = store
            .create_ticket(&NewTicket {
                message: Some(other_messages[0]),
                ..ticket(acme, acme_talk, "mismatched")
            })
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Database(_)), "{refused:?}");
        assert_eq!(
            store.tickets(ws, None, None, None, 10).await.unwrap().len(),
            4
        );
    }

    async fn tickets_are_invisible_and_unchangeable_from_another_workspace(store: Store) {
        let (owner, ws) = store
            .create_user(&NewUser {
                email: "owner@example.com".into(),
                display_name: "Owner".into(),
                password_hash: "$argon2id$fake".into(),
                workspace_name: "Owner's".into(),
            })
            .await
            .unwrap();
        let (stranger, other_ws) = store
            .create_user(&NewUser {
                email: "stranger@example.com".into(),
                display_name: "Stranger".into(),
                password_hash: "$argon2id$fake".into(),
                workspace_name: "Stranger's".into(),
            })
            .await
            .unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let other_brand = store.ensure_brand(other_ws, "acme").await.unwrap().id;
        let (conversation, _) = conversation_with(&store, brand, &["help"]).await;
        let opened = store
            .create_ticket(&ticket(brand, conversation, "help"))
            .await
            .unwrap();
        let assign = |user: UserId| TicketUpdate {
            status: None,
            assignee: Some(Some(user)),
        };

        assert_eq!(store.ticket(other_ws, opened.id).await.unwrap(), None);
        assert!(
            store
                .tickets(other_ws, None, None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .tickets(other_ws, Some(brand), None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .tickets(ws, Some(other_brand), None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .update_ticket(other_ws, opened.id, &assign(stranger.id))
                .await
                .unwrap(),
            None
        );
        // Nor can a ticket be given to someone outside its workspace.
        assert_eq!(
            store
                .update_ticket(ws, opened.id, &assign(stranger.id))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.ticket(ws, opened.id).await.unwrap(),
            Some(opened.clone())
        );

        // Assigning while the status stays open is the application's call, not the store's.
        let assigned = store
            .update_ticket(ws, opened.id, &assign(owner.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (assigned.status.as_str(), assigned.assignee),
            ("open", Some(owner.id))
        );
        assert!(assigned.updated_at_ms >= opened.updated_at_ms);
        assert_eq!(assigned.created_at_ms, opened.created_at_ms);
        let unassigned = store
            .update_ticket(
                ws,
                opened.id,
                &TicketUpdate {
                    status: Some("assigned".into()),
                    assignee: Some(None),
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (unassigned.status.as_str(), unassigned.assignee),
            ("assigned", None)
        );
        let bad_status = store
            .update_ticket(
                ws,
                opened.id,
                &TicketUpdate {
                    status: Some("closed".into()),
                    assignee: None,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(bad_status, StoreError::Database(_)),
            "{bad_status:?}"
        );
        assert_eq!(store.ticket(ws, opened.id).await.unwrap(), Some(unassigned));
        assert_eq!(
            store.ticket(ws, TicketId(opened.id.0 + 100)).await.unwrap(),
            None
        );
    }

    async fn a_conversation_has_at_most_the_newest_unresolved_ticket_open(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let (conversation, _) = conversation_with(&store, brand, &["q"]).await;
        let (quiet, _) = conversation_with(&store, brand, &["q"]).await;
        let resolve = TicketUpdate {
            status: Some("resolved".into()),
            assignee: None,
        };

        assert_eq!(
            store
                .open_ticket_for_conversation(brand, conversation)
                .await
                .unwrap(),
            None
        );
        let first = store
            .create_ticket(&ticket(brand, conversation, "one"))
            .await
            .unwrap();
        let assigned = store
            .update_ticket(
                ws,
                first.id,
                &TicketUpdate {
                    status: Some("assigned".into()),
                    assignee: None,
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .open_ticket_for_conversation(brand, conversation)
                .await
                .unwrap(),
            Some(assigned)
        );
        assert_eq!(
            store
                .open_ticket_for_conversation(brand, quiet)
                .await
                .unwrap(),
            None
        );

        store
            .update_ticket(ws, first.id, &resolve)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .open_ticket_for_conversation(brand, conversation)
                .await
                .unwrap(),
            None
        );
        let second = store
            .create_ticket(&ticket(brand, conversation, "two"))
            .await
            .unwrap();
        assert_eq!(
            store
                .open_ticket_for_conversation(brand, conversation)
                .await
                .unwrap(),
            Some(second)
        );
    }
}
