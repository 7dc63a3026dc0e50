//! The assistant's memory: conversations, messages and their ratings, brand profiles and
//! customer records (tickets in `tickets.rs`, which shares the helpers here). Each belongs
//! to one brand, and nothing of one brand can be read or changed through another's scope.

use brandpilot_core::{BrandId, ConversationId, MessageId};
use brandpilot_store::{
    ConversationRecord, Feedback, MessageRecord, NewMessage, NewTicket, Store, StoreError,
};
use brandpilot_testkit::backend_tests;

fn message(role: &str, content: &str) -> NewMessage {
    NewMessage {
        role: role.into(),
        content: content.into(),
        citations_json: "[]".into(),
        confidence: None,
        escalated: false,
        trace_json: None,
        token_count: 0,
    }
}

fn answer(content: &str) -> NewMessage {
    NewMessage {
        citations_json: r#"[{"chunk":7,"title":"Returns"}]"#.into(),
        confidence: Some(0.82),
        trace_json: Some(r#"{"route":"answer"}"#.into()),
        token_count: 42,
        ..message("assistant", content)
    }
}

pub(crate) fn ticket(brand: BrandId, conversation: ConversationId, question: &str) -> NewTicket {
    NewTicket {
        brand,
        conversation,
        message: None,
        question: question.into(),
        reason: "low confidence".into(),
    }
}

fn contents(messages: &[MessageRecord]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

/// A conversation of `brand` with the messages `texts`, alternating end user and assistant.
pub(crate) async fn conversation_with(
    store: &Store,
    brand: BrandId,
    texts: &[&str],
) -> (ConversationId, Vec<MessageId>) {
    let conversation = store.create_conversation(brand, "visitor-1").await.unwrap();
    let mut ids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let new = if i % 2 == 0 {
            message("user", text)
        } else {
            answer(text)
        };
        let stored = store
            .append_message(brand, conversation.id, &new)
            .await
            .unwrap()
            .expect("the brand's own conversation");
        ids.push(stored.id);
    }
    (conversation.id, ids)
}

/// How many rows `table` has, read past the store on a connection of its own.
async fn count_rows(url: &str, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        count
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        count
    }
}

backend_tests! {
    async fn a_conversation_is_invisible_and_unchangeable_through_another_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;
        let (conversation, messages) =
            conversation_with(&store, acme, &["Where is my order?", "On its way."]).await;
        let mine = store
            .conversation(acme, conversation)
            .await
            .unwrap()
            .unwrap();

        assert_eq!(store.conversation(rival, conversation).await.unwrap(), None);
        assert!(
            store
                .conversations(rival, None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .messages(rival, conversation, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .recent_messages(rival, conversation, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .append_message(rival, conversation, &message("user", "injected"))
                .await
                .unwrap(),
            None
        );
        assert!(
            !store
                .set_conversation_summary(rival, conversation, "stolen", messages[1])
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_feedback(rival, messages[1], "down", None)
                .await
                .unwrap()
        );
        let refused = store
            .create_ticket(&ticket(rival, conversation, "injected"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Database(_)), "{refused:?}");
        assert_eq!(
            store
                .open_ticket_for_conversation(rival, conversation)
                .await
                .unwrap(),
            None
        );

        // Nothing reached the conversation through the other brand.
        assert_eq!(
            store.conversation(acme, conversation).await.unwrap(),
            Some(mine)
        );
        let stored = store.messages(acme, conversation, None, 10).await.unwrap();
        assert_eq!(contents(&stored), ["Where is my order?", "On its way."]);
        assert_eq!(stored[1].feedback, None);
        assert_eq!(
            store
                .open_ticket_for_conversation(acme, conversation)
                .await
                .unwrap(),
            None
        );
    }

    async fn messages_come_back_in_order_with_their_feedback(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let created = store.create_conversation(brand, "visitor-9").await.unwrap();
        assert_eq!(created.summary, "");
        assert_eq!(created.summarized_through, MessageId(0));
        assert_eq!(created.created_at_ms, created.updated_at_ms);

        let question = store
            .append_message(brand, created.id, &message("user", "Can I return shoes?"))
            .await
            .unwrap()
            .unwrap();
        let reply = store
            .append_message(brand, created.id, &answer("Yes, within 30 days."))
            .await
            .unwrap()
            .unwrap();
        let handed_over = NewMessage {
            escalated: true,
            // Not a number: stored as no score, alike on both databases.
            confidence: Some(f64::NAN),
            ..answer("A colleague will follow up.")
        };
        let escalation = store
            .append_message(brand, created.id, &handed_over)
            .await
            .unwrap()
            .unwrap();
        let agent = store
            .append_message(brand, created.id, &message("agent", "Hi, Sam here."))
            .await
            .unwrap()
            .unwrap();
        assert!(question.id < reply.id && reply.id < escalation.id && escalation.id < agent.id);

        assert!(
            store
                .put_feedback(brand, reply.id, "up", Some("clear"))
                .await
                .unwrap()
        );
        assert!(
            store
                .put_feedback(brand, agent.id, "down", None)
                .await
                .unwrap()
        );

        let all = store.messages(brand, created.id, None, 10).await.unwrap();
        assert_eq!(
            contents(&all),
            [
                "Can I return shoes?",
                "Yes, within 30 days.",
                "A colleague will follow up.",
                "Hi, Sam here."
            ]
        );
        assert_eq!(all[0], question);
        assert_eq!(
            (all[1].role.as_str(), all[1].confidence, all[1].token_count),
            ("assistant", Some(0.82), 42)
        );
        assert_eq!(all[1].citations_json, r#"[{"chunk":7,"title":"Returns"}]"#);
        assert_eq!(all[1].trace_json.as_deref(), Some(r#"{"route":"answer"}"#));
        let feedback = all[1].feedback.clone().unwrap();
        assert_eq!(
            (feedback.rating.as_str(), feedback.comment.as_deref()),
            ("up", Some("clear"))
        );
        assert!(all[2].escalated);
        assert_eq!(all[2].confidence, None);
        assert_eq!(escalation.confidence, None);
        assert_eq!(all[2].feedback, None);
        assert_eq!(
            all[3].feedback.as_ref().map(|f| f.rating.as_str()),
            Some("down")
        );

        // Paging: after a message, and at most `limit`.
        let after = store
            .messages(brand, created.id, Some(reply.id), 1)
            .await
            .unwrap();
        assert_eq!(contents(&after), ["A colleague will follow up."]);
        assert!(
            store
                .messages(brand, created.id, Some(agent.id), 10)
                .await
                .unwrap()
                .is_empty()
        );

        // Each message marks the conversation updated.
        let now = store
            .conversation(brand, created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.updated_at_ms, agent.created_at_ms);
        assert!(now.updated_at_ms >= created.updated_at_ms);
    }

    async fn recent_messages_are_the_last_ones_oldest_first(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let texts = ["one", "two", "three", "four", "five"];
        let (conversation, _) = conversation_with(&store, brand, &texts).await;
        let (other, _) = conversation_with(&store, brand, &["elsewhere"]).await;

        let recent = store.recent_messages(brand, conversation, 3).await.unwrap();
        assert_eq!(contents(&recent), ["three", "four", "five"]);
        let everything = store
            .recent_messages(brand, conversation, 50)
            .await
            .unwrap();
        assert_eq!(contents(&everything), texts);
        assert!(
            store
                .recent_messages(brand, conversation, 0)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            contents(&store.recent_messages(brand, other, 3).await.unwrap()),
            ["elsewhere"]
        );
    }

    async fn feedback_replaces_the_earlier_rating_and_user_messages_cannot_be_rated(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let (conversation, ids) = conversation_with(&store, brand, &["Hi", "Hello!"]).await;
        let feedback_of = |messages: Vec<MessageRecord>| -> Vec<Option<Feedback>> {
            messages.into_iter().map(|m| m.feedback).collect()
        };

        assert!(
            store
                .put_feedback(brand, ids[1], "down", Some("rude"))
                .await
                .unwrap()
        );
        assert!(store.put_feedback(brand, ids[1], "up", None).await.unwrap());
        let rated = feedback_of(store.messages(brand, conversation, None, 10).await.unwrap());
        assert_eq!(rated[0], None);
        let rating = rated[1].clone().unwrap();
        assert_eq!((rating.rating.as_str(), rating.comment), ("up", None));

        // The end user's own message is not an answer to rate; an unknown id is nothing.
        assert!(!store.put_feedback(brand, ids[0], "up", None).await.unwrap());
        assert!(
            !store
                .put_feedback(brand, MessageId(ids[1].0 + 100), "up", None)
                .await
                .unwrap()
        );

        // Values outside the schema's lists are refused by it, as a database error (the
        // application checks them first).
        let bad_rating = store
            .put_feedback(brand, ids[1], "meh", None)
            .await
            .unwrap_err();
        assert!(
            matches!(bad_rating, StoreError::Database(_)),
            "{bad_rating:?}"
        );
        let bad_role = store
            .append_message(brand, conversation, &message("system", "x"))
            .await
            .unwrap_err();
        assert!(matches!(bad_role, StoreError::Database(_)), "{bad_role:?}");
        let unchanged = feedback_of(store.messages(brand, conversation, None, 10).await.unwrap());
        assert_eq!(unchanged, rated);
    }

    async fn conversations_list_newest_first_per_end_user_and_page_with_before(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let mut made = Vec::new();
        for end_user in ["ann", "bob", "ann", "ann"] {
            made.push(store.create_conversation(brand, end_user).await.unwrap().id);
        }
        let listed = |list: Vec<ConversationRecord>| -> Vec<ConversationId> {
            list.into_iter().map(|c| c.id).collect()
        };

        let all = store.conversations(brand, None, None, 10).await.unwrap();
        assert_eq!(listed(all), [made[3], made[2], made[1], made[0]]);
        let anns = store
            .conversations(brand, Some("ann"), None, 2)
            .await
            .unwrap();
        assert_eq!(anns[0].end_user, "ann");
        assert_eq!(listed(anns), [made[3], made[2]]);
        let older = store
            .conversations(brand, Some("ann"), Some(made[2]), 2)
            .await
            .unwrap();
        assert_eq!(listed(older), [made[0]]);
        let before_bob = store
            .conversations(brand, None, Some(made[1]), 10)
            .await
            .unwrap();
        assert_eq!(listed(before_bob), [made[0]]);
        assert!(
            store
                .conversations(brand, Some("cy"), None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    async fn the_summary_only_moves_forward_through_the_conversations_own_messages(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap().id;
        let (conversation, ids) = conversation_with(&store, brand, &["a", "b", "c", "d"]).await;
        let (_, elsewhere) = conversation_with(&store, brand, &["x"]).await;
        let summary_of = |record: Option<ConversationRecord>| {
            let record = record.unwrap();
            (record.summary, record.summarized_through)
        };

        assert!(
            store
                .set_conversation_summary(brand, conversation, "asked a, told b", ids[1])
                .await
                .unwrap()
        );
        assert_eq!(
            summary_of(store.conversation(brand, conversation).await.unwrap()),
            ("asked a, told b".to_owned(), ids[1])
        );
        assert!(
            store
                .set_conversation_summary(brand, conversation, "a to d", ids[3])
                .await
                .unwrap()
        );
        // A slower summariser that covered less does not undo the newer summary, and a
        // message of another conversation is not a place in this one.
        assert!(
            !store
                .set_conversation_summary(brand, conversation, "a to c", ids[2])
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_conversation_summary(brand, conversation, "wrong", elsewhere[0])
                .await
                .unwrap()
        );
        assert_eq!(
            summary_of(store.conversation(brand, conversation).await.unwrap()),
            ("a to d".to_owned(), ids[3])
        );
    }

    async fn profiles_and_customer_records_are_replaced_and_kept_per_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap().id;
        let rival = store.ensure_brand(ws, "rival").await.unwrap().id;

        assert_eq!(store.brand_profile(acme).await.unwrap(), None);
        store
            .put_brand_profile(acme, r#"{"voice":"warm"}"#)
            .await
            .unwrap();
        store
            .put_brand_profile(acme, r#"{"voice":"crisp"}"#)
            .await
            .unwrap();
        assert_eq!(
            store.brand_profile(acme).await.unwrap().as_deref(),
            Some(r#"{"voice":"crisp"}"#)
        );
        assert_eq!(store.brand_profile(rival).await.unwrap(), None);

        store
            .put_customer_record(acme, "c-1", r#"{"plan":"free"}"#)
            .await
            .unwrap();
        store
            .put_customer_record(acme, "c-1", r#"{"plan":"pro"}"#)
            .await
            .unwrap();
        store
            .put_customer_record(rival, "c-1", r#"{"plan":"rival"}"#)
            .await
            .unwrap();
        assert_eq!(
            store.customer_record(acme, "c-1").await.unwrap().as_deref(),
            Some(r#"{"plan":"pro"}"#)
        );
        assert_eq!(store.customer_record(acme, "c-2").await.unwrap(), None);

        // The same customer id in another brand is another customer: deleting one through
        // the wrong brand touches nothing of the other.
        assert!(!store.delete_customer_record(rival, "c-2").await.unwrap());
        assert!(store.delete_customer_record(rival, "c-1").await.unwrap());
        assert!(!store.delete_customer_record(rival, "c-1").await.unwrap());
        assert_eq!(store.customer_record(rival, "c-1").await.unwrap(), None);
        assert_eq!(
            store.customer_record(acme, "c-1").await.unwrap().as_deref(),
            Some(r#"{"plan":"pro"}"#)
        );
    }

    async fn deleting_a_brand_removes_its_conversations_tickets_and_records(
        store: Store,
        url: &str,
    ) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let doomed = store.ensure_brand(ws, "doomed").await.unwrap().id;
        let kept = store.ensure_brand(ws, "kept").await.unwrap().id;
        let mut conversations = Vec::new();
        for brand in [doomed, kept] {
            let (conversation, ids) = conversation_with(&store, brand, &["q", "a"]).await;
            assert!(store.put_feedback(brand, ids[1], "up", None).await.unwrap());
            store
                .create_ticket(&NewTicket {
                    message: Some(ids[1]),
                    ..ticket(brand, conversation, "q")
                })
                .await
                .unwrap();
            store.put_brand_profile(brand, "{}").await.unwrap();
            store.put_customer_record(brand, "c-1", "{}").await.unwrap();
            conversations.push(conversation);
        }
        let tables = [
            "conversations",
            "conversation_messages",
            "message_feedback",
            "tickets",
            "brand_profiles",
            "customer_records",
        ];
        for table in tables {
            assert_eq!(
                count_rows(url, table).await,
                if table.ends_with("messages") { 4 } else { 2 },
                "{table}"
            );
        }

        assert!(store.delete_brand(ws, doomed).await.unwrap());

        for table in tables {
            let expected = if table.ends_with("messages") { 2 } else { 1 };
            assert_eq!(
                count_rows(url, table).await,
                expected,
                "{table} after the delete"
            );
        }
        assert!(
            store
                .tickets(ws, None, None, None, 10)
                .await
                .unwrap()
                .iter()
                .all(|t| t.brand == kept)
        );
        assert_eq!(
            store
                .messages(kept, conversations[1], None, 10)
                .await
                .unwrap()
                .len(),
            2
        );
        assert!(store.brand_profile(kept).await.unwrap().is_some());
        assert!(store.customer_record(kept, "c-1").await.unwrap().is_some());
    }
}
