//! TLS to PostgreSQL, as a managed database (RDS, Cloud SQL, Supabase) requires: the URL's
//! `sslmode` and `sslrootcert` decide, and `verify-full` checks the server's certificate
//! against the given authority and its name.

use brandpilot_store::Store;
use sqlx::Connection;

#[tokio::test]
async fn the_store_speaks_tls_to_postgresql_and_verifies_the_certificate() {
    let cluster = tokio::task::spawn_blocking(brandpilot_testkit::postgres::start_tls_cluster)
        .await
        .unwrap();
    let ca = cluster.ca_file.display();
    let verified = format!("{}?sslmode=verify-full&sslrootcert={ca}", cluster.url);
    let store = Store::open(&verified).await.unwrap();
    let workspace = store.ensure_workspace("tls").await.unwrap();
    assert_eq!(store.find_workspace("tls").await.unwrap(), Some(workspace));
    store.close().await;

    // The session really is encrypted.
    let mut connection = sqlx::PgConnection::connect(&verified).await.unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert!(encrypted, "the connection is not encrypted");
    connection.close().await.unwrap();

    // Without its authority the certificate is not trusted (it is not in the public
    // roots), and the store says so instead of connecting.
    let unverified = Store::open(&format!("{}?sslmode=verify-full", cluster.url))
        .await
        .err()
        .expect("a certificate nobody vouches for was accepted");
    let message = unverified.to_string().to_lowercase();
    assert!(
        message.contains("certificate") || message.contains("issuer"),
        "{message}"
    );
}
