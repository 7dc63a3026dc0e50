//! Running one test on every store backend: [`TestDatabase`] makes an empty database of
//! either kind, and [`backend_tests!`](crate::backend_tests) turns each test into one per
//! backend, so a behaviour that holds on SQLite and not on PostgreSQL (or the reverse)
//! fails by name.

use std::path::PathBuf;

/// An empty database for one test, removed when this is dropped: a SQLite file in a fresh
/// directory, or a fresh schema on the test PostgreSQL server (see [`crate::postgres`]).
pub struct TestDatabase {
    url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    Schema(#[allow(dead_code)] crate::postgres::SchemaGuard),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Directory(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl TestDatabase {
    /// `sqlite://<fresh directory>/db/brandpilot.db`: the directory of the file does not
    /// exist yet, as on a first start.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!(
            "brandpilot-test-sqlite-{}-{:016x}",
            std::process::id(),
            crate::postgres::random_u64()
        ));
        std::fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TestDatabase {
            url: format!("sqlite://{}", dir.join("db/brandpilot.db").display()),
            _cleanup: Cleanup::Directory(dir),
        }
    }

    /// A fresh schema on the test PostgreSQL server.
    pub async fn postgres() -> TestDatabase {
        let (url, guard) = crate::postgres::fresh_schema_url().await;
        TestDatabase {
            url,
            _cleanup: Cleanup::Schema(guard),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database a whole suite runs on, chosen by the environment: a fresh PostgreSQL
    /// schema when `BRANDPILOT_TEST_STORE=postgres` (the test command runs the job, app and
    /// server suites a second time so), else a fresh SQLite file.
    pub async fn from_env() -> TestDatabase {
        if on_postgres() {
            TestDatabase::postgres().await
        } else {
            TestDatabase::sqlite()
        }
    }
}

/// Whether `BRANDPILOT_TEST_STORE` asks for PostgreSQL. Any other value but `sqlite` (or
/// none) is refused, so a typo cannot silently test SQLite twice.
pub fn on_postgres() -> bool {
    match std::env::var("BRANDPILOT_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("BRANDPILOT_TEST_STORE is {other:?}; use postgres or sqlite"),
    }
}

/// Turns `async fn name(store: Store) { … }` items into `sqlite::name` and
/// `postgres::name` tests, each with a store opened on a fresh database of its backend. An
/// item may also name the URL, `async fn name(store: Store, url: &str)`, to open a second
/// store on the same database or reach it without the store.
///
/// The expansion is textual: `Store::open` and `#[tokio::test]` resolve in the calling
/// crate (through `use super::*`), so this crate never depends on the store.
#[macro_export]
macro_rules! backend_tests {
    ($(
        $(#[$meta:meta])*
        async fn $name:ident($store:ident : Store $(, $url:ident : &str)? $(,)?) $body:block
    )*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test]
                async fn $name() {
                    let database = $crate::TestDatabase::sqlite();
                    let $store = Store::open(database.url())
                        .await
                        .expect("the test store opens");
                    $(let $url: &str = database.url();)?
                    $body
                }
            )*
        }

        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test]
                async fn $name() {
                    let database = $crate::TestDatabase::postgres().await;
                    let $store = Store::open(database.url())
                        .await
                        .expect("the test store opens");
                    $(let $url: &str = database.url();)?
                    $body
                }
            )*
        }
    };
}
