//! A PostgreSQL server for tests, and a schema of its own for each test.
//!
//! [`admin_url`] is `BRANDPILOT_TEST_POSTGRES_URL` when set (the test command starts one
//! server for the whole run and sets it). Otherwise the first call starts a cluster for this
//! test process from the binaries `scripts/setup-postgres.sh` unpacks into
//! `target/pgserver` (or `BRANDPILOT_PG_BIN`), listening on a Unix socket only, so there is
//! no port to race for. Without either it panics and says how to get one: a backend that
//! is silently skipped is a backend nobody tests.
//!
//! [`fresh_schema_url`] gives each test a schema `t_<random>` and a URL whose `search_path`
//! is that schema, so every test migrates and fills a database of its own in a few
//! milliseconds (a database per test costs ~85 ms and 7 MB). This module never depends on
//! the store: it only creates and drops schemas.

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The variable naming a running server to use instead of starting one.
pub const URL_VARIABLE: &str = "BRANDPILOT_TEST_POSTGRES_URL";
/// The variable naming the directory with `initdb`, `postgres` and `pg_isready`.
pub const BIN_VARIABLE: &str = "BRANDPILOT_PG_BIN";

/// The uid and gid PostgreSQL runs as when the tests run as root (it refuses root):
/// `nobody` on Debian.
const UNPRIVILEGED: u32 = 65534;

/// How long a fresh cluster may take to accept connections before the tests give up. Not a
/// measurement: `initdb --no-sync` and start-up take well under a second here.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A URL for a superuser connection to the test server's `postgres` database.
pub fn admin_url() -> String {
    if let Ok(url) = std::env::var(URL_VARIABLE)
        && !url.is_empty()
    {
        return url;
    }
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER
        .get_or_init(|| Cluster::start(&Listen::SocketOnly))
        .url
        .clone()
}

/// A PostgreSQL of its own that speaks TLS on a loopback port, with a certificate for
/// `localhost` signed by a certificate authority made for it (by the `openssl` command),
/// for the store's TLS tests. It stops when dropped. The PyPI build the other tests use has
/// no TLS, so this one is Debian's (`scripts/setup-system.sh` installs it), or the
/// binaries in `BRANDPILOT_PG_TLS_BIN`.
pub struct TlsCluster {
    /// `postgres://postgres@localhost:<port>/postgres`, without TLS parameters.
    pub url: String,
    /// The authority's certificate, for `sslrootcert`.
    pub ca_file: PathBuf,
    _certificates: tempfile::TempDir,
    _cluster: Cluster,
}

pub fn start_tls_cluster() -> TlsCluster {
    let certificates = tempfile::tempdir().expect("a temporary directory");
    let dir = certificates.path();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run openssl (scripts/setup-system.sh installs it): {e}")
            });
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=brandpilot test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"],
            &ec[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write server.ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let cluster = Cluster::start_with(
        &tls_binaries(),
        &Listen::Tls {
            port,
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        },
    );
    TlsCluster {
        url: format!("postgres://postgres@localhost:{port}/postgres"),
        ca_file: dir.join("ca.pem"),
        _certificates: certificates,
        _cluster: cluster,
    }
}

/// Where a cluster listens.
enum Listen {
    /// A Unix socket in its run directory only: no port to race for.
    SocketOnly,
    /// Also TCP on 127.0.0.1:`port`, TLS on, with this certificate and key (copied into
    /// the run directory, where the server's user can read them).
    Tls {
        port: u16,
        cert: PathBuf,
        key: PathBuf,
    },
}

/// Creates a schema `t_<random>` and returns a URL whose `search_path` is only that schema
/// (sqlx passes `options[search_path]=…` to the server as `-c search_path=…`), with a guard
/// that drops the schema and everything in it.
pub async fn fresh_schema_url() -> (String, SchemaGuard) {
    let admin = admin_url();
    let schema = format!("t_{:016x}", random_u64());
    let mut connection = PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {admin}: {e}"));
    connection
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap_or_else(|e| panic!("CREATE SCHEMA {schema}: {e}"));
    let _ = connection.close().await;
    let separator = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{separator}options[search_path]={schema}");
    (url, SchemaGuard { admin, schema })
}

/// Drops its schema when dropped. Dropping blocks for a moment (a connection on a thread of
/// its own, since `Drop` cannot await), and gives up after a short lock timeout rather than
/// wait for a connection a failed test left inside a transaction.
#[must_use = "the schema is dropped when the guard is"]
pub struct SchemaGuard {
    admin: String,
    schema: String,
}

impl SchemaGuard {
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let schema = self.schema.clone();
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut connection = PgConnection::connect(&admin).await.ok()?;
                connection.execute("SET lock_timeout = '2s'").await.ok()?;
                connection
                    .execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .await
                    .ok()?;
                connection.close().await.ok()
            })
        });
        // A schema left behind costs a little disk on a server the tests do not own; the
        // test's own outcome matters more, so failures here are not reported.
        let _ = dropping.join();
    }
}

/// A cluster this test process started. It lives until the process exits: the server is
/// run by a small shell that holds the read end of a pipe whose write end only this
/// process has. However the process ends (even killed), the pipe closes, and the shell
/// stops PostgreSQL and deletes the data directory.
struct Cluster {
    url: String,
    _shell: Mutex<(Child, ChildStdin)>,
}

impl Cluster {
    fn start(listen: &Listen) -> Cluster {
        Self::start_with(&binaries(), listen)
    }

    fn start_with(bin: &Path, listen: &Listen) -> Cluster {
        let run = std::env::temp_dir().join(format!(
            "brandpilot-test-pg-{}-{:08x}",
            std::process::id(),
            random_u64() as u32
        ));
        fs_create_private_dir(&run);
        let as_root = is_root(&run);
        if as_root {
            std::os::unix::fs::chown(&run, Some(UNPRIVILEGED), Some(UNPRIVILEGED))
                .unwrap_or_else(|e| panic!("chown {}: {e}", run.display()));
        }

        let initdb = unprivileged(as_root, &bin.join("initdb"))
            .args(["-D"])
            .arg(run.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.join("initdb").display()));
        assert!(
            initdb.status.success(),
            "initdb failed ({}):\n{}{}",
            initdb.status,
            String::from_utf8_lossy(&initdb.stdout),
            String::from_utf8_lossy(&initdb.stderr)
        );

        // The server's own arguments: where it listens.
        let (server_args, port) = match listen {
            Listen::SocketOnly => (vec!["-c".to_owned(), "listen_addresses=".to_owned()], 5432),
            Listen::Tls { port, cert, key } => {
                for (from, to) in [(cert, "server.pem"), (key, "server.key")] {
                    let to = run.join(to);
                    std::fs::copy(from, &to).unwrap_or_else(|e| {
                        panic!("copy {} to {}: {e}", from.display(), to.display())
                    });
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                        .unwrap_or_else(|e| panic!("chmod {}: {e}", to.display()));
                    if as_root {
                        std::os::unix::fs::chown(&to, Some(UNPRIVILEGED), Some(UNPRIVILEGED))
                            .unwrap_or_else(|e| panic!("chown {}: {e}", to.display()));
                    }
                }
                let args = [
                    "-p".to_owned(),
                    port.to_string(),
                    "-c".to_owned(),
                    "listen_addresses=127.0.0.1".to_owned(),
                    "-c".to_owned(),
                    "ssl=on".to_owned(),
                    "-c".to_owned(),
                    format!("ssl_cert_file={}", run.join("server.pem").display()),
                    "-c".to_owned(),
                    format!("ssl_key_file={}", run.join("server.key").display()),
                ];
                (args.to_vec(), *port)
            }
        };
        // $1: the binaries, $2: the run directory (data, socket, log); the rest are the
        // server's own arguments. The server always listens on a socket in $2.
        // `cat` returns when this process's end of stdin closes. The shell ignores ^C and
        // hang-ups meant for the test run, so that it lives to clean up after them.
        let script = r#"
trap '' INT HUP
bin=$1
run=$2
shift 2
"$bin/postgres" -D "$run/data" -k "$run" -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "$@" \
    >"$run/postgres.log" 2>&1 &
server=$!
cat >/dev/null
kill -INT "$server"
wait "$server"
rm -rf "$run"
"#;
        let mut shell = unprivileged(as_root, Path::new("/bin/sh"))
            .args(["-c", script, "brandpilot-test-pg"])
            .arg(bin)
            .arg(&run)
            .args(&server_args)
            .stdin(Stdio::piped())
            // Nothing inherits the test's output: a runner waiting for it to close (nextest)
            // would otherwise wait for the server too.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start PostgreSQL: {e}"));
        let stdin = shell.stdin.take().expect("piped stdin");

        let started = Instant::now();
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .arg("-q")
                .arg("-h")
                .arg(&run)
                .arg("-p")
                .arg(port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                break;
            }
            // A server that cannot start (no TLS in its build, a bad certificate) says FATAL
            // and exits, while the shell around it lives on: fail now rather than at the
            // deadline. The readiness probe's own "starting up" refusal is not that.
            let log = std::fs::read_to_string(run.join("postgres.log")).unwrap_or_default();
            if log
                .lines()
                .any(|line| line.contains("FATAL") && !line.contains("is starting up"))
            {
                panic!("PostgreSQL stopped at start-up:\n{log}");
            }
            if let Ok(Some(status)) = shell.try_wait() {
                panic!(
                    "PostgreSQL stopped at start-up ({status}):\n{}",
                    std::fs::read_to_string(run.join("postgres.log")).unwrap_or_default()
                );
            }
            if started.elapsed() > START_DEADLINE {
                panic!(
                    "PostgreSQL did not accept connections within {START_DEADLINE:?}:\n{}",
                    std::fs::read_to_string(run.join("postgres.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Cluster {
            url: format!(
                "postgres://postgres@localhost:{port}/postgres?host={}",
                run.display()
            ),
            _shell: Mutex::new((shell, stdin)),
        }
    }
}

/// `BRANDPILOT_PG_BIN`, else `target/pgserver/pgserver/pginstall/bin` of this workspace.
fn binaries() -> PathBuf {
    let bin = std::env::var_os(BIN_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/pgserver/pgserver/pginstall/bin")
        });
    if !bin.join("postgres").is_file() {
        panic!(
            "the store's tests run on PostgreSQL too, and none was found: run \
             scripts/setup-postgres.sh (it unpacks PostgreSQL 18 into target/pgserver), set \
             {BIN_VARIABLE} to a directory with initdb and postgres, or set {URL_VARIABLE} to \
             a server's URL (looked for {})",
            bin.display()
        );
    }
    bin
}

/// `BRANDPILOT_PG_TLS_BIN`, else the newest of Debian's `/usr/lib/postgresql/<n>/bin`.
fn tls_binaries() -> PathBuf {
    if let Some(bin) = std::env::var_os("BRANDPILOT_PG_TLS_BIN") {
        return PathBuf::from(bin);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max();
    match newest {
        Some((_, bin)) => bin,
        None => panic!(
            "the TLS test needs a PostgreSQL built with TLS: run scripts/setup-system.sh \
             (it installs Debian's) or set BRANDPILOT_PG_TLS_BIN to its bin directory"
        ),
    }
}

/// A command run as [`UNPRIVILEGED`] when the tests run as root.
fn unprivileged(as_root: bool, program: &Path) -> Command {
    if !as_root {
        return Command::new(program);
    }
    let mut command = Command::new("setpriv");
    command
        .arg(format!("--reuid={UNPRIVILEGED}"))
        .arg(format!("--regid={UNPRIVILEGED}"))
        .arg("--clear-groups")
        .arg(program);
    command
}

fn fs_create_private_dir(path: &Path) {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
}

/// Whether this process runs as root: the directory it just created is owned by uid 0.
fn is_root(created: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(created).is_ok_and(|meta| meta.uid() == 0)
}

/// Enough randomness for names that must not collide between concurrent tests: the
/// standard library's randomly keyed hasher over a counter, the time and the process id.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}
