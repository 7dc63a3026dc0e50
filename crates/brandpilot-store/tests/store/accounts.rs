//! Users, their sessions and the audit trail: one account per email, refresh tokens that
//! are good once (a replay revokes the session), and an audit log nobody can rewrite.

use brandpilot_core::WorkspaceId;
use brandpilot_store::{
    InvitationAcceptance, MembershipChange, NewAuditEntry, NewInvitation, NewUser, RefreshRotation,
    Store, StoreError,
};
use brandpilot_testkit::backend_tests;

/// Runs `sql` on a connection of its own to the database at `url`, past the store, as
/// someone holding the database's credentials could.
async fn execute_directly(url: &str, sql: &'static str) -> Result<(), String> {
    let result = if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let result = sqlx::query(sql).execute(&pool).await.map(drop);
        pool.close().await;
        result
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let result = sqlx::query(sql).execute(&pool).await.map(drop);
        pool.close().await;
        result
    };
    result.map_err(|e| e.to_string())
}

fn new_user(email: &str, workspace: &str) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: "Ada".into(),
        password_hash: "$argon2id$fake".into(),
        workspace_name: workspace.into(),
    }
}

backend_tests! {
    async fn a_user_owns_their_new_workspace_and_an_email_is_one_account(store: Store) {
        let (ada, workspace) = store
            .create_user(&new_user("ada@example.com", "Ada's"))
            .await
            .unwrap();
        let memberships = store.memberships(ada.id).await.unwrap();
        assert_eq!(memberships.len(), 1);
        assert_eq!(memberships[0].workspace, workspace);
        assert_eq!(memberships[0].workspace_name, "Ada's");
        assert_eq!(memberships[0].role, "owner");
        assert_eq!(
            store.membership_role(workspace, ada.id).await.unwrap(),
            Some("owner".into())
        );
        let other = store.ensure_workspace("other").await.unwrap();
        assert_eq!(store.membership_role(other, ada.id).await.unwrap(), None);
        store.put_membership(other, ada.id, "viewer").await.unwrap();
        store.put_membership(other, ada.id, "editor").await.unwrap();
        assert_eq!(
            store.membership_role(other, ada.id).await.unwrap(),
            Some("editor".into())
        );
        assert!(
            store.put_membership(other, ada.id, "admin").await.is_err(),
            "roles are checked by the schema"
        );
        let all = store.memberships(ada.id).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].workspace, workspace,
            "the personal workspace comes first"
        );

        let found = store
            .user_credentials("ada@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.user, ada);
        assert_eq!(found.password_hash, "$argon2id$fake");
        assert_eq!(store.get_user(ada.id).await.unwrap(), Some(ada.clone()));

        // The same email again: refused, and the failed attempt leaves no workspace behind.
        let again = store
            .create_user(&new_user("ada@example.com", "Second"))
            .await;
        assert!(
            matches!(&again, Err(StoreError::Conflict(c)) if c.contains("users.email")),
            "{again:?}"
        );
        assert_eq!(store.find_workspace("Second").await.unwrap(), None);
        // A taken workspace name is a conflict naming the workspace, not the email.
        let clash = store
            .create_user(&new_user("bob@example.com", "other"))
            .await;
        assert!(
            matches!(&clash, Err(StoreError::Conflict(c)) if c.contains("workspaces.name")),
            "{clash:?}"
        );
        assert!(
            store
                .user_credentials("bob@example.com")
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn a_refresh_token_is_good_once_and_a_replay_revokes_the_session(store: Store) {
        let (ada, _) = store
            .create_user(&new_user("ada@example.com", "w"))
            .await
            .unwrap();
        let far = i64::MAX / 2;
        let family = store
            .start_refresh_family(ada.id, &[1; 32], far)
            .await
            .unwrap();

        assert_eq!(
            store
                .rotate_refresh_token(&[1; 32], &[2; 32], 10, far)
                .await
                .unwrap(),
            RefreshRotation::Rotated {
                user: ada.id,
                family
            }
        );
        assert_eq!(
            store
                .rotate_refresh_token(&[2; 32], &[3; 32], 20, far)
                .await
                .unwrap(),
            RefreshRotation::Rotated {
                user: ada.id,
                family
            }
        );
        // Token 1 again: a replay. The family is revoked, so the live token 3 dies with it.
        assert_eq!(
            store
                .rotate_refresh_token(&[1; 32], &[4; 32], 30, far)
                .await
                .unwrap(),
            RefreshRotation::Reused {
                user: ada.id,
                family
            }
        );
        assert_eq!(
            store
                .rotate_refresh_token(&[3; 32], &[5; 32], 40, far)
                .await
                .unwrap(),
            RefreshRotation::Ended
        );
        assert_eq!(
            store
                .rotate_refresh_token(&[9; 32], &[6; 32], 40, far)
                .await
                .unwrap(),
            RefreshRotation::Unknown
        );
    }

    async fn expired_and_logged_out_tokens_end_and_other_sessions_live_on(store: Store) {
        let (ada, _) = store
            .create_user(&new_user("ada@example.com", "w"))
            .await
            .unwrap();
        store
            .start_refresh_family(ada.id, &[1; 32], 100)
            .await
            .unwrap();
        assert_eq!(
            store
                .rotate_refresh_token(&[1; 32], &[2; 32], 100, 1_000)
                .await
                .unwrap(),
            RefreshRotation::Ended,
            "a token is dead at its expiry time"
        );

        let far = i64::MAX / 2;
        store
            .start_refresh_family(ada.id, &[7; 32], far)
            .await
            .unwrap();
        store
            .start_refresh_family(ada.id, &[8; 32], far)
            .await
            .unwrap();
        assert_eq!(
            store.revoke_refresh_family(&[7; 32]).await.unwrap(),
            Some(ada.id)
        );
        assert_eq!(store.revoke_refresh_family(&[7; 32]).await.unwrap(), None);
        assert_eq!(
            store
                .rotate_refresh_token(&[7; 32], &[9; 32], 10, far)
                .await
                .unwrap(),
            RefreshRotation::Ended
        );
        assert!(matches!(
            store
                .rotate_refresh_token(&[8; 32], &[10; 32], 10, far)
                .await
                .unwrap(),
            RefreshRotation::Rotated { .. }
        ));
    }

    async fn the_audit_log_lists_per_workspace_and_refuses_updates_and_deletes(
        store: Store,
        url: &str,
    ) {
        let a = store.ensure_workspace("a").await.unwrap();
        let b = store.ensure_workspace("b").await.unwrap();
        for (workspace, action) in [
            (Some(a), "login"),
            (Some(b), "login"),
            (Some(a), "brand.delete"),
            (None, "login_failed"),
        ] {
            store
                .append_audit(&NewAuditEntry {
                    workspace,
                    actor: "user:1".into(),
                    action: action.into(),
                    target: Some("brand:3".into()),
                    detail: serde_json::json!({"name": "Acme"}),
                    ip: Some("127.0.0.1".into()),
                    request_id: Some("req-1".into()),
                })
                .await
                .unwrap();
        }
        let listed = store.list_audit(a, None, 10).await.unwrap();
        let actions: Vec<_> = listed.iter().map(|e| e.entry.action.as_str()).collect();
        assert_eq!(
            actions,
            ["brand.delete", "login"],
            "newest first, workspace a only"
        );
        assert_eq!(listed[0].entry.detail["name"], "Acme");
        assert_eq!(listed[0].entry.workspace, Some(a));
        let older = store.list_audit(a, Some(listed[0].id), 10).await.unwrap();
        assert_eq!(older.len(), 1);
        assert_eq!(older[0].entry.action, "login");
        assert!(
            store
                .list_audit(WorkspaceId(999), None, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // Whoever holds a connection to the database still cannot rewrite history.
        let update = execute_directly(url, "UPDATE audit_log SET action = 'nothing'").await;
        assert!(
            update.as_ref().is_err_and(|e| e.contains("append-only")),
            "{update:?}"
        );
        let delete = execute_directly(url, "DELETE FROM audit_log").await;
        assert!(
            delete.as_ref().is_err_and(|e| e.contains("append-only")),
            "{delete:?}"
        );
        assert_eq!(store.list_audit(a, None, 10).await.unwrap().len(), 2);
    }

    async fn a_server_secret_is_made_once_and_then_kept(store: Store) {
        let first = store.server_secret("token", &[1; 32]).await.unwrap();
        assert_eq!(first, vec![1; 32]);
        let second = store.server_secret("token", &[2; 32]).await.unwrap();
        assert_eq!(second, first, "a later candidate never replaces the secret");
        assert_eq!(
            store.server_secret("other", &[3; 4]).await.unwrap(),
            vec![3; 4]
        );
    }

    async fn a_workspace_never_loses_its_last_owner(store: Store) {
        let (ada, _) = store
            .create_user(&new_user("ada@example.com", "ada"))
            .await
            .unwrap();
        let (bob, _) = store
            .create_user(&new_user("bob@example.com", "bob"))
            .await
            .unwrap();
        let shared = store
            .create_owned_workspace("shared", ada.id)
            .await
            .unwrap();
        assert!(matches!(
            store.create_owned_workspace("shared", bob.id).await,
            Err(StoreError::Conflict(_))
        ));
        store
            .put_membership(shared, bob.id, "editor")
            .await
            .unwrap();
        let members = store.list_members(shared).await.unwrap();
        let roles: Vec<_> = members
            .iter()
            .map(|m| (m.user.email.as_str(), m.role.as_str()))
            .collect();
        assert_eq!(
            roles,
            [("ada@example.com", "owner"), ("bob@example.com", "editor")]
        );

        // The only owner can neither step down nor leave.
        assert_eq!(
            store
                .change_member_role(shared, ada.id, "editor")
                .await
                .unwrap(),
            MembershipChange::LastOwner
        );
        assert_eq!(
            store.remove_member(shared, ada.id).await.unwrap(),
            MembershipChange::LastOwner
        );
        assert_eq!(
            store.membership_role(shared, ada.id).await.unwrap(),
            Some("owner".into()),
            "a refused change changes nothing"
        );
        // With a second owner, either may go.
        assert_eq!(
            store
                .change_member_role(shared, bob.id, "owner")
                .await
                .unwrap(),
            MembershipChange::Done
        );
        assert_eq!(
            store.remove_member(shared, ada.id).await.unwrap(),
            MembershipChange::Done
        );
        assert_eq!(store.membership_role(shared, ada.id).await.unwrap(), None);
        assert_eq!(
            store.remove_member(shared, ada.id).await.unwrap(),
            MembershipChange::NotMember
        );
        assert_eq!(
            store
                .change_member_role(shared, ada.id, "viewer")
                .await
                .unwrap(),
            MembershipChange::NotMember
        );
    }

    async fn an_invitation_is_good_once_for_its_email_until_it_expires(store: Store) {
        let (ada, home) = store
            .create_user(&new_user("ada@example.com", "ada"))
            .await
            .unwrap();
        let (bob, _) = store
            .create_user(&new_user("bob@example.com", "bob"))
            .await
            .unwrap();
        let invite = |hash: u8, expires_at_ms: i64| NewInvitation {
            workspace: home,
            email: "bob@example.com".into(),
            role: "viewer".into(),
            token_hash: [hash; 32],
            invited_by: Some(ada.id),
            expires_at_ms,
        };
        let far = i64::MAX / 2;
        let first = store.create_invitation(&invite(1, far)).await.unwrap();
        store.create_invitation(&invite(2, 500)).await.unwrap();
        let revoked = store.create_invitation(&invite(3, far)).await.unwrap();
        let pending = store.pending_invitations(home, 1_000).await.unwrap();
        assert_eq!(pending.len(), 2, "the expired one is not pending");
        assert!(store.revoke_invitation(home, revoked.id).await.unwrap());
        assert!(!store.revoke_invitation(home, revoked.id).await.unwrap());
        let other = store.ensure_workspace("other").await.unwrap();
        assert!(!store.revoke_invitation(other, first.id).await.unwrap());
        assert_eq!(
            store.pending_invitations(home, 1_000).await.unwrap(),
            vec![first.clone()]
        );

        // Someone else signed in cannot use Bob's invitation.
        assert_eq!(
            store
                .accept_invitation(&[1; 32], ada.id, "ada@example.com", 1_000)
                .await
                .unwrap(),
            InvitationAcceptance::WrongEmail
        );
        for (hash, expected) in [
            (2, InvitationAcceptance::Ended),
            (3, InvitationAcceptance::Ended),
            (9, InvitationAcceptance::Unknown),
        ] {
            assert_eq!(
                store
                    .accept_invitation(&[hash; 32], bob.id, "bob@example.com", 1_000)
                    .await
                    .unwrap(),
                expected
            );
        }
        assert_eq!(
            store
                .accept_invitation(&[1; 32], bob.id, "bob@example.com", 1_000)
                .await
                .unwrap(),
            InvitationAcceptance::Joined {
                workspace: home,
                role: "viewer".into()
            }
        );
        assert_eq!(
            store.membership_role(home, bob.id).await.unwrap(),
            Some("viewer".into())
        );
        assert_eq!(
            store
                .accept_invitation(&[1; 32], bob.id, "bob@example.com", 1_000)
                .await
                .unwrap(),
            InvitationAcceptance::Ended,
            "good once"
        );
        assert!(
            store
                .pending_invitations(home, 1_000)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
