//! The command line as a user (or a crash) meets it, driving the real binary.

use brandpilot_app::settings::EmbedderKind;
use brandpilot_app::{Brandpilot, Settings};
use brandpilot_extract::PdfRunner;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_brandpilot");

fn brandpilot(data: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(data)
        .arg("--models-dir")
        .arg(data.join("no-models"))
        .env("BRANDPILOT__EMBEDDER__KIND", "hashing")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn corpus(dir: &Path, files: usize) -> PathBuf {
    let root = dir.join("corpus");
    for i in 0..files {
        let sub = root.join(format!("part{}", i % 7));
        std::fs::create_dir_all(&sub).unwrap();
        let text: String = (0..6)
            .map(|p| {
                format!(
                    "Document {i} paragraph {p} mentions roast profile {} and grind size {}.\n\n",
                    i * 7 + p,
                    p * 3
                )
            })
            .collect();
        std::fs::write(
            sub.join(format!("doc{i}.md")),
            format!("# Document {i}\n\n{text}"),
        )
        .unwrap();
    }
    root
}

/// Starts `brandpilot serve` on a free port; returns the child and the address it printed
/// (checking the line also points at the docs page).
fn spawn_server(data: &Path, stderr: Stdio) -> (std::process::Child, String) {
    let mut command = brandpilot(data);
    command.stderr(stderr);
    spawn_serve(command)
}

/// Runs `command` as `… serve` on a free port; returns the child and the address it printed.
fn spawn_serve(mut command: Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut server = command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let address = first_line
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first_line:?}"))
        .to_owned();
    assert!(first_line.contains("/api/v1/docs"), "{first_line}");
    (server, address)
}

async fn open(data: &Path) -> Brandpilot {
    let mut settings = Settings {
        data_dir: data.to_path_buf(),
        ..Settings::default()
    };
    settings.embedder.kind = EmbedderKind::Hashing;
    Brandpilot::open(settings, PdfRunner::InProcess)
        .await
        .unwrap()
}

/// Chunk count, index sizes and every source's status.
async fn state(data: &Path) -> (u64, (u64, usize), Vec<String>) {
    let app = open(data).await;
    let brand = app.brand("crash", false).await.unwrap();
    let chunks = app.store.count_chunks().await.unwrap();
    let sizes = app.index_sizes().unwrap();
    let statuses = app
        .list_sources(&brand)
        .await
        .unwrap()
        .iter()
        .map(|s| s.status.to_string())
        .collect();
    app.close().await;
    (chunks, sizes, statuses)
}

#[tokio::test]
async fn ingestion_killed_mid_way_resumes_without_duplicates_or_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus(dir.path(), 400);
    let data = dir.path().join("data");
    let ingest = |data: &Path| {
        let mut command = brandpilot(data);
        command
            .env("BRANDPILOT__INGEST__SYNC_EVERY_CHUNKS", "40")
            .args(["ingest", "--brand", "crash"])
            .arg(&files);
        command
    };

    // Kill the first run once a good part (but not all) of the corpus is stored.
    let mut child = ingest(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let database = data.join("brandpilot.db");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut observed = 0;
    while Instant::now() < deadline {
        let url = format!("sqlite://{}", database.display());
        if database.exists()
            && let Ok(store) = brandpilot_store::Store::open(&url).await
        {
            observed = store.count_chunks().await.unwrap_or(0);
            store.close().await;
        }
        if observed >= 200 || child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no flushes.
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the run finished before it could be killed; make the corpus bigger"
    );
    assert!(
        observed >= 200,
        "only {observed} chunks stored before the kill"
    );

    // Run again to completion, and once more in a fresh directory as the reference.
    run(&mut ingest(&data));
    let reference = dir.path().join("reference");
    run(&mut ingest(&reference));

    let (chunks, sizes, statuses) = state(&data).await;
    let (expected, _, _) = state(&reference).await;
    assert_eq!(
        chunks, expected,
        "duplicate or missing chunks after the crash"
    );
    assert_eq!(
        sizes,
        (chunks, chunks as usize),
        "indexes disagree with the store"
    );
    assert_eq!(statuses.len(), 400);
    assert!(statuses.iter().all(|s| s == "ready"), "{statuses:?}");

    // A third run is a no-op.
    let out = run(&mut ingest(&data));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0 added, 0 updated, 400 unchanged, 0 failed"),
        "{text}"
    );
}

#[test]
fn search_prints_citations_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("policy.md"),
        "# Policy\n\n## Refunds\n\nOpened bags cannot be refunded.\n\n## Shipping\n\nWe ship on weekdays.",
    )
    .unwrap();
    run(brandpilot(&data)
        .args(["ingest", "--brand", "acme"])
        .arg(&docs));

    let out =
        run(brandpilot(&data).args(["search", "refund opened bags", "--brand", "acme", "-k", "1"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[1] Policy — Policy › Refunds"), "{text}");
    assert!(
        text.contains("lexical matching only"),
        "the fallback embedder must be named: {text}"
    );

    let out = run(brandpilot(&data).args([
        "search", "weekdays", "--brand", "acme", "--json", "--mode", "bm25",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passage = &json["passages"][0];
    assert_eq!(
        passage["locator"]["heading_path"],
        serde_json::json!(["Policy", "Shipping"])
    );
    assert!(
        passage["source_origin"]
            .as_str()
            .unwrap()
            .ends_with("policy.md")
    );
    assert_eq!(json["semantic"], false);

    // Unknown brand and bad mode are clear errors, not panics.
    let out = brandpilot(&data)
        .args(["search", "x", "--brand", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no brand named \"nobody\""));
    let out = brandpilot(&data)
        .args(["search", "x", "--brand", "acme", "--mode", "fuzzy"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The README's server walk-through: ingest, create a key, serve, call the API with the
/// key, manage keys while it runs, and stop it with SIGTERM.
#[test]
fn serve_answers_with_a_key_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("refunds.md"),
        "# Refunds\n\nDamaged parcels are refunded in full within fourteen days.",
    )
    .unwrap();
    run(brandpilot(&data)
        .args(["ingest", "--brand", "acme"])
        .arg(&docs));
    let out = run(brandpilot(&data).args(["keys", "create", "--name", "readme"]));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("bpk_"), "{key}");

    let (server, address) = spawn_server(&data, Stdio::piped());

    let client = reqwest::blocking::Client::new();
    let health = client.get(format!("{address}/healthz")).send().unwrap();
    assert_eq!(health.status(), 200);
    let brands: serde_json::Value = client
        .get(format!("{address}/api/v1/brands"))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(brands["brands"][0]["name"], "acme", "{brands}");
    let id = brands["brands"][0]["id"].as_i64().unwrap();
    let found: serde_json::Value = client
        .post(format!("{address}/api/v1/brands/{id}/search"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "query": "damaged parcel refund" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let passage = &found["passages"][0];
    assert!(
        passage["text"]
            .as_str()
            .unwrap()
            .contains("refunded in full"),
        "{found}"
    );
    assert_eq!(passage["citation"], "Refunds");

    // A person signs up, fails once, logs in and refreshes; none of their secrets may
    // reach the log.
    let password = "a password nobody logs";
    let signup: serde_json::Value = client
        .post(format!("{address}/api/v1/auth/signup"))
        .json(&serde_json::json!({ "email": "ada@example.com", "password": password }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let wrong = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": "ada@example.com", "password": "guess-the-pass" }))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let refreshed: serde_json::Value = client
        .post(format!("{address}/api/v1/auth/refresh"))
        .json(&serde_json::json!({ "refresh_token": signup["refresh_token"] }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let me = client
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(me.status(), 200);
    let secrets: Vec<String> = [
        password,
        "guess-the-pass",
        signup["access_token"].as_str().unwrap(),
        signup["refresh_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
    ]
    .map(str::to_owned)
    .into();

    // Keys are managed while the server holds the indexes; a revoked key stops at once.
    let out = run(brandpilot(&data).args(["keys", "create", "--name", "temp", "--json"]));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let temp = created["key"].as_str().unwrap();
    let listed = run(brandpilot(&data).args(["keys", "ls"]));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("temp"));
    run(brandpilot(&data).args(["keys", "revoke", &created["id"].to_string()]));
    let refused = client
        .get(format!("{address}/api/v1/brands"))
        .bearer_auth(temp)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);

    // A second writer on the same indexes is refused with a reason, not a crash.
    let clash = brandpilot(&data)
        .args(["ingest", "--brand", "acme"])
        .arg(&docs)
        .output()
        .unwrap();
    assert!(!clash.status.success());
    let message = String::from_utf8_lossy(&clash.stderr);
    assert!(
        message.contains("in use by another Brandpilot process"),
        "{message}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = server.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {log}", output.status);
    assert!(log.contains("Brandpilot stopped"), "{log}");
    assert!(!log.contains(&key), "a key reached the log");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret:?} reached the log");
    }
    assert!(
        log.contains("/api/v1/auth/login"),
        "requests are logged: {log}"
    );
}

/// A backup taken while the server runs restores into a new data directory with the same
/// chunks and the same search results; a damaged archive and a non-empty target are refused.
#[test]
fn a_backup_taken_while_serving_restores_to_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let docs = corpus(dir.path(), 40);
    run(brandpilot(&data)
        .args(["ingest", "--brand", "acme"])
        .arg(&docs));
    let search = |data: &Path| {
        let out = run(brandpilot(data).args([
            "search",
            "roast profile 71",
            "--brand",
            "acme",
            "--json",
            "-k",
            "3",
        ]));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["passages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["source_origin"].clone(), p["text"].clone()))
            .collect::<Vec<_>>()
    };
    let before = search(&data);
    assert!(!before.is_empty());

    let (mut server, _address) = spawn_server(&data, Stdio::null());
    let archive = dir.path().join("backup.zip");
    let out = run(brandpilot(&data).arg("backup").arg(&archive));
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up"));
    // Restoring over the live data directory is refused while its server runs.
    let refused = brandpilot(&data)
        .args(["restore", "--force"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());

    let restored = dir.path().join("restored");
    let out = run(brandpilot(&restored).arg("restore").arg(&archive));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(0 embedded anew)"),
        "embeddings come from the store: {text}"
    );
    assert_eq!(search(&restored), before);

    let again = brandpilot(&restored)
        .arg("restore")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a data directory with a database needs --force"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    let mut damaged = std::fs::read(&archive).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    let broken = dir.path().join("broken.zip");
    std::fs::write(&broken, damaged).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    let out = brandpilot(&elsewhere)
        .arg("restore")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("not a Brandpilot backup"), "{message}");
    assert!(
        !elsewhere.join("brandpilot.db").exists(),
        "a damaged backup left a database"
    );
}

/// A server killed in the middle of an upload's ingestion: the next server takes the job
/// over once its lease expires, finishes it, and every file ends up stored exactly once.
#[test]
fn a_job_whose_server_is_killed_is_finished_once_by_the_next_server() {
    // reqwest's blocking client runs its own runtime; the store calls get this one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = 600;
    let key = {
        let out = run(brandpilot(&data).args(["keys", "create", "--name", "upload"]));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let start = || {
        let mut command = brandpilot(&data);
        command
            .env("BRANDPILOT__JOBS__LEASE_SECS", "1")
            .env("BRANDPILOT__SERVER__MAX_UPLOAD_FILES", "1000")
            .stderr(Stdio::null());
        spawn_serve(command)
    };
    let (mut first, address) = start();
    let client = reqwest::blocking::Client::new();
    let brand: serde_json::Value = client
        .post(format!("{address}/api/v1/brands"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "name": "acme" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut form = reqwest::blocking::multipart::Form::new();
    for i in 0..files {
        let text: String = (0..400)
            .map(|w| format!("word{} ", (i * 31 + w * 7) % 997))
            .collect();
        form = form.part(
            "file",
            reqwest::blocking::multipart::Part::bytes(format!("# Doc {i}\n\n{text}").into_bytes())
                .file_name(format!("doc{i}.md")),
        );
    }
    let accepted: serde_json::Value = client
        .post(format!("{address}/api/v1/brands/{}/uploads", brand["id"]))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let job = brandpilot_core::JobId(accepted["job"]["id"].as_i64().unwrap());

    // Kill the server once the job has reported progress, i.e. mid-way.
    let store = runtime
        .block_on(brandpilot_store::Store::open(&format!(
            "sqlite://{}",
            data.join("brandpilot.db").display()
        )))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let record = runtime.block_on(store.get_job(job)).unwrap().unwrap();
        assert!(
            !record.status.is_final(),
            "the job ended before it could be interrupted"
        );
        if record.progress_done > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the job never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, _) = start();
    let deadline = Instant::now() + Duration::from_secs(120);
    let record = loop {
        let record = runtime.block_on(store.get_job(job)).unwrap().unwrap();
        if record.status.is_final() {
            break record;
        }
        assert!(
            Instant::now() < deadline,
            "the job was never finished: {record:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(second.wait().unwrap().success());

    assert_eq!(
        record.status,
        brandpilot_store::JobStatus::Succeeded,
        "{record:?}"
    );
    assert_eq!(record.attempts, 2);
    let runs: Vec<_> = runtime
        .block_on(store.job_runs(job))
        .unwrap()
        .into_iter()
        .map(|run| (run.attempt, run.outcome))
        .collect();
    assert_eq!(
        runs,
        [(1, Some("lost".into())), (2, Some("succeeded".into()))]
    );
    let workspace = runtime
        .block_on(store.find_workspace("default"))
        .unwrap()
        .unwrap();
    let acme = runtime
        .block_on(store.find_brand(workspace, "acme"))
        .unwrap()
        .unwrap();
    let sources = runtime.block_on(store.list_sources(acme.id)).unwrap();
    assert_eq!(sources.len(), files, "every file stored exactly once");
    assert!(
        sources
            .iter()
            .all(|s| s.status == brandpilot_core::SourceStatus::Ready)
    );
    runtime.block_on(store.close());
}

/// Two servers with their own data directories on one PostgreSQL: a fleet. Uploads sent to
/// either are ingested once each, by whichever server claims them first, and both servers
/// find every document (each indexes what the store holds).
#[test]
fn two_servers_on_one_postgresql_share_the_work_and_the_data() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let database = runtime.block_on(brandpilot_testkit::TestDatabase::postgres());
    let dir = tempfile::tempdir().unwrap();
    let on_postgres = |data: &Path| {
        let mut command = brandpilot(data);
        command
            .env("BRANDPILOT__STORE__URL", database.url())
            .env("BRANDPILOT__SERVER__INDEX_FOLLOW_MS", "100");
        command
    };
    let start = |data: &Path| {
        let mut command = on_postgres(data);
        command.stderr(Stdio::null());
        spawn_serve(command)
    };
    let key = {
        let out =
            run(on_postgres(&dir.path().join("a")).args(["keys", "create", "--name", "fleet"]));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let servers = [start(&dir.path().join("a")), start(&dir.path().join("b"))];
    let addresses: Vec<&str> = servers
        .iter()
        .map(|(_, address)| address.as_str())
        .collect();
    let client = reqwest::blocking::Client::new();
    let brand: serde_json::Value = client
        .post(format!("{}/api/v1/brands", addresses[0]))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "name": "acme" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let brand = brand["id"].as_i64().unwrap();

    // Eight uploads, alternating between the servers, each its own job.
    let mut jobs = Vec::new();
    for i in 0..8 {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(
                format!("# Note {i}\n\nThe fleet keyword is zebra{i}.").into_bytes(),
            )
            .file_name(format!("note{i}.md")),
        );
        let accepted: serde_json::Value = client
            .post(format!(
                "{}/api/v1/brands/{brand}/uploads",
                addresses[i % 2]
            ))
            .bearer_auth(&key)
            .multipart(form)
            .send()
            .unwrap()
            .json()
            .unwrap();
        jobs.push(brandpilot_core::JobId(
            accepted["job"]["id"].as_i64().unwrap(),
        ));
    }

    let store = runtime
        .block_on(brandpilot_store::Store::open(database.url()))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    for job in &jobs {
        let record = loop {
            let record = runtime.block_on(store.get_job(*job)).unwrap().unwrap();
            if record.status.is_final() {
                break record;
            }
            assert!(
                Instant::now() < deadline,
                "job {job:?} never finished: {record:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(
            record.status,
            brandpilot_store::JobStatus::Succeeded,
            "{record:?}"
        );
        assert_eq!(record.attempts, 1, "{record:?}");
        let runs = runtime.block_on(store.job_runs(*job)).unwrap();
        assert_eq!(runs.len(), 1, "job {job:?} ran {} times", runs.len());
    }

    // Each server finds every note, whichever server ingested it.
    for address in &addresses {
        for i in 0..8 {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let found: serde_json::Value = client
                    .post(format!("{address}/api/v1/brands/{brand}/search"))
                    .bearer_auth(&key)
                    .json(&serde_json::json!({ "query": format!("zebra{i}"), "mode": "bm25" }))
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                let hit = found["passages"][0]["text"]
                    .as_str()
                    .is_some_and(|text| text.contains(&format!("zebra{i}")));
                if hit {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{address} never found zebra{i}: {found}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    for (mut child, _) in servers {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(child.wait().unwrap().success());
    }
    runtime.block_on(store.close());
}

#[test]
fn generate_writes_variants_from_the_command_line_and_the_exit_code_says_if_all_passed() {
    use brandpilot_testkit::openai_chat_server::{ChatReply, OpenAiChatOptions, OpenAiChatServer};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let model = OpenAiChatServer::start(OpenAiChatOptions::default());
    let config = dir.path().join("brandpilot.toml");
    std::fs::write(
        &config,
        format!(
            "[llm.providers.hosted]\nkind = \"openai\"\nmodel = \"cli-test-model\"\n\
             base_url = \"{}\"\n",
            model.base_url()
        ),
    )
    .unwrap();
    let material = dir.path().join("shop.md");
    std::fs::write(
        &material,
        "# Roastery\n\nOur single-origin beans are roasted every Tuesday in small batches.\n",
    )
    .unwrap();
    run(brandpilot(&data)
        .arg("ingest")
        .arg("--brand")
        .arg("roastery")
        .arg(&material));
    let generate = |extra: &[&str]| {
        let mut command = brandpilot(&data);
        command
            .arg("--config")
            .arg(&config)
            .args([
                "generate",
                "copy",
                "--brand",
                "roastery",
                "--channel",
                "x_post",
            ])
            .args(["--goal", "Sell the Tuesday roast", "--variants", "1"])
            .args(extra);
        command.output().unwrap()
    };

    model.script([ChatReply::text(
        r#"{"post": "Fresh single-origin beans, roasted every Tuesday in small batches. Order a bag of the Tuesday roast.", "sources": [1]}"#,
    )]);
    let output = generate(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("=== short_form · passed"), "{stdout}");
    assert!(stdout.contains("roasted every Tuesday"), "{stdout}");
    assert!(stdout.contains("[1] Roastery"), "{stdout}");
    assert!(stderr.contains("1 of 1 passed"), "{stderr}");
    assert!(stderr.contains("hosted (cli-test-model)"), "{stderr}");

    // A draft promising a discount nobody offered in its only sentence, every time: nothing
    // can be taken out without emptying it, so it is returned failing, exit code 3, and the
    // JSON names the figure.
    let unbacked = r#"{"post": "Tuesday roast: 30% off single-origin beans, so order a bag of the Tuesday roast.", "sources": [1]}"#;
    model.script([
        ChatReply::text(unbacked),
        ChatReply::text(unbacked),
        ChatReply::text(unbacked),
    ]);
    let output = generate(&["--json"]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generation: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(generation["variants"][0]["passed"], false);
    assert_eq!(
        generation["variants"][0]["content"]["unbacked_figures"],
        serde_json::json!(["30"])
    );
}

#[test]
fn studio_examples_voice_and_rules_from_the_command_line_shape_the_next_generation() {
    use brandpilot_testkit::openai_chat_server::ChatReply;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (model, config) = model_config(dir.path(), None);
    let material = dir.path().join("shop.md");
    std::fs::write(
        &material,
        "# Roastery\n\nOur single-origin beans are roasted every Tuesday in small batches.\n",
    )
    .unwrap();
    run(brandpilot(&data)
        .args(["ingest", "--brand", "roastery"])
        .arg(&material));
    let studio = |args: &[&str]| {
        let mut command = brandpilot(&data);
        command
            .arg("--config")
            .arg(&config)
            .arg("studio")
            .args(args);
        run(&mut command)
    };

    let posts = dir.path().join("posts.csv");
    std::fs::write(
        &posts,
        "channel,text,views,likes,clicks\n\
         x_post,\"Tuesday means fresh beans. You taste the difference, we promise.\",1000,150,50\n\
         x_post,Our roastery opens early on Saturdays. Come say hello.,,,\n\
         x_post,\"Tuesday means fresh beans. You taste the difference, we promise.\",,,\n",
    )
    .unwrap();
    let imported = studio(&[
        "examples",
        "import",
        "--brand",
        "roastery",
        posts.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(
        stderr.contains("added 2 examples to roastery, skipped 1"),
        "{stderr}"
    );
    assert!(stderr.contains("row 3: skipped"), "{stderr}");
    let listed = studio(&["examples", "list", "--brand", "roastery"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.lines().nth(1).unwrap().contains("20.0%"), "{listed}");

    let learned = studio(&["voice", "learn", "--brand", "roastery"]);
    let profile: serde_json::Value = serde_json::from_slice(&learned.stdout).unwrap();
    assert_eq!(profile["example_count"], 2);
    assert_eq!(profile["language"], "en");

    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, r#"{"banned_words": ["cheap"]}"#).unwrap();
    studio(&[
        "rules",
        "set",
        "--brand",
        "roastery",
        "--file",
        rules.to_str().unwrap(),
    ]);
    let shown = studio(&["rules", "show", "--brand", "roastery"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["banned_words"], serde_json::json!(["cheap"]));
    let judged = brandpilot(&data)
        .args([
            "studio",
            "validate",
            "--brand",
            "roastery",
            "--channel",
            "x_post",
        ])
        .args([
            "--field",
            "post=Cheap beans every Tuesday. Order a bag today.",
        ])
        .output()
        .unwrap();
    assert_eq!(
        judged.status.code(),
        Some(3),
        "a banned word fails the variant"
    );
    let judged: serde_json::Value = serde_json::from_slice(&judged.stdout).unwrap();
    let failed: Vec<&str> = judged["report"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"banned_word"), "{judged}");
    let seo = studio(&[
        "seo",
        "--brand",
        "roastery",
        "--topic",
        "Single-origin beans roasted every Tuesday",
        "--keyword",
        "fresh coffee beans",
    ]);
    let seo: serde_json::Value = serde_json::from_slice(&seo.stdout).unwrap();
    assert!(
        seo["title"].as_str().unwrap().chars().count() <= 60,
        "{seo}"
    );
    assert!(seo["slug"].as_str().unwrap().contains("tuesday"), "{seo}");

    model.script([ChatReply::text(TUESDAY_POST)]);
    let output = brandpilot(&data)
        .arg("--config")
        .arg(&config)
        .args([
            "generate",
            "copy",
            "--brand",
            "roastery",
            "--channel",
            "x_post",
        ])
        .args(["--goal", "Sell the Tuesday roast", "--variants", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("  voice 0."), "{stdout}");
    assert!(
        stdout.contains("example 1 (x_post) · similarity"),
        "{stdout}"
    );
    let system = model.requests()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.contains("Never use these words: cheap"), "{system}");
    assert!(system.contains("Tuesday means fresh beans"), "{system}");
}

/// A fake hosted model for a child process, and the config file that points at it.
fn model_config(
    dir: &Path,
    latency: Option<Duration>,
) -> (
    brandpilot_testkit::openai_chat_server::OpenAiChatServer,
    PathBuf,
) {
    use brandpilot_testkit::openai_chat_server::{OpenAiChatOptions, OpenAiChatServer};
    let model = OpenAiChatServer::start(OpenAiChatOptions {
        latency,
        ..OpenAiChatOptions::default()
    });
    let config = dir.join("brandpilot.toml");
    std::fs::write(
        &config,
        format!(
            "[llm.providers.hosted]\nkind = \"openai\"\nmodel = \"batch-test-model\"\n\
             base_url = \"{}\"\n\n[studio]\nmax_repair_passes = 0\n",
            model.base_url()
        ),
    )
    .unwrap();
    (model, config)
}

const TUESDAY_POST: &str = r#"{"post": "Fresh single-origin beans, roasted every Tuesday in small batches. Order a bag of the Tuesday roast.", "sources": [1]}"#;

#[test]
fn generate_batch_writes_every_row_and_running_it_again_resumes_instead_of_repeating() {
    use brandpilot_testkit::openai_chat_server::ChatReply;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (model, config) = model_config(dir.path(), None);
    let material = dir.path().join("shop.md");
    std::fs::write(
        &material,
        "# Roastery\n\nOur single-origin beans are roasted every Tuesday in small batches.\n",
    )
    .unwrap();
    run(brandpilot(&data)
        .args(["ingest", "--brand", "roastery"])
        .arg(&material));
    let briefs = dir.path().join("briefs.csv");
    std::fs::write(
        &briefs,
        "channel,goal,variants\n\
         x_post,Sell the Tuesday roast,1\n\
         x_post,Announce the new single origin,1\n\
         x_post,\"Remind regulars, politely\",1\n",
    )
    .unwrap();
    model.script((0..3).map(|_| ChatReply::text(TUESDAY_POST)));
    let batch = || {
        brandpilot(&data)
            .arg("--config")
            .arg(&config)
            .args(["generate", "--brand", "roastery", "--batch"])
            .arg(&briefs)
            .output()
            .unwrap()
    };
    let output = batch();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("Writing batch 1 · 3 briefs"), "{stderr}");
    assert!(stderr.contains("3 done, 0 failed"), "{stderr}");
    for goal in [
        "Sell the Tuesday roast",
        "Announce the new single origin",
        "Remind regulars, politely",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(goal) && l.contains("→ generation")),
            "{goal}: {stdout}"
        );
    }
    let calls = model.requests().len();
    assert_eq!(calls, 3, "one draft per brief");

    // The same file again: the same batch, already done; nothing is written twice.
    let output = batch();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Resuming batch 1 · 3 briefs (3 done"),
        "{stderr}"
    );
    assert_eq!(model.requests().len(), calls);

    // A bad row refuses the file before anything is queued, naming the row.
    std::fs::write(&briefs, "channel,goal\nx_post,Fine\nfax,Not a channel\n").unwrap();
    let output = batch();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("row 2: unknown channel"), "{stderr}");
}

/// A batch of 100 briefs on a server killed with SIGKILL mid-way: the next server finishes
/// it, and every brief has exactly one generation.
#[test]
fn a_batch_survives_a_sigkill_and_completes_each_brief_exactly_once() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Each answer takes 40 ms, so 100 briefs on two workers take seconds: time to kill.
    let (model, config) = model_config(dir.path(), Some(Duration::from_millis(40)));
    let key = {
        let out = run(brandpilot(&data).args(["keys", "create", "--name", "batch"]));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let start = || {
        let mut command = brandpilot(&data);
        command
            .arg("--config")
            .arg(&config)
            .env("BRANDPILOT__JOBS__LEASE_SECS", "1")
            .env("BRANDPILOT__JOBS__GENERATE_WORKERS", "2")
            .stderr(Stdio::null());
        spawn_serve(command)
    };
    let (mut first, address) = start();
    let client = reqwest::blocking::Client::new();
    let brand: serde_json::Value = client
        .post(format!("{address}/api/v1/brands"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "name": "roastery" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let briefs: Vec<serde_json::Value> = (0..100)
        .map(|i| serde_json::json!({ "channel": "x_post", "goal": format!("Brief {i}"), "variants": 1 }))
        .collect();
    let response = client
        .post(format!("{address}/api/v1/studio/batch"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "brand_id": brand["id"], "briefs": briefs }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 202);
    let batch_id = response.json::<serde_json::Value>().unwrap()["id"]
        .as_i64()
        .unwrap();

    let store = runtime
        .block_on(brandpilot_store::Store::open(&format!(
            "sqlite://{}",
            data.join("brandpilot.db").display()
        )))
        .unwrap();
    let counts = |store: &brandpilot_store::Store| {
        let batch = runtime.block_on(store.batch(batch_id)).unwrap().unwrap();
        let done = batch.items.iter().filter(|i| i.status == "done").count();
        let pending = batch.items.iter().filter(|i| i.status == "pending").count();
        (done, pending, batch)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (done, pending, _) = counts(&store);
        assert!(
            pending > 0,
            "the batch ended before it could be interrupted"
        );
        if done >= 10 {
            break;
        }
        assert!(Instant::now() < deadline, "the batch never got going");
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let (done_at_kill, _, _) = counts(&store);

    let (mut second, address) = start();
    let deadline = Instant::now() + Duration::from_secs(180);
    let batch = loop {
        let (_, pending, batch) = counts(&store);
        if pending == 0 {
            break batch;
        }
        assert!(Instant::now() < deadline, "the batch was never finished");
        std::thread::sleep(Duration::from_millis(50));
    };
    let read: serde_json::Value = client
        .get(format!("{address}/api/v1/studio/batch/{batch_id}"))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(second.wait().unwrap().success());

    assert!(
        done_at_kill < 100,
        "killed before the end ({done_at_kill} done)"
    );
    // Two generate workers: never more than two briefs were being written at once.
    let most = model.most_in_flight();
    assert!((1..=2).contains(&most), "{most} model calls at once");
    assert_eq!(read["done"], 100, "{read}");
    assert_eq!(read["finished"], true);
    let mut generations: Vec<i64> = batch.items.iter().map(|i| i.generation.unwrap()).collect();
    generations.sort_unstable();
    generations.dedup();
    assert_eq!(generations.len(), 100, "every brief has its own generation");
    let stored = runtime
        .block_on(store.generations(
            brandpilot_core::BrandId(brand["id"].as_i64().unwrap()),
            None,
            500,
        ))
        .unwrap();
    assert_eq!(stored.len(), 100, "no brief was written twice");
    for item in &batch.items {
        let stored = stored
            .iter()
            .find(|g| Some(g.id.0) == item.generation)
            .unwrap();
        assert!(
            stored
                .request_json
                .contains(&format!("\"Brief {}\"", item.position))
        );
    }
    runtime.block_on(store.close());
}

#[test]
fn workspaces_go_on_plans_from_the_command_line_and_serve_refuses_an_undefined_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let with_plans = |command: &mut Command| {
        command
            .env("BRANDPILOT__BILLING__PLANS__HOBBY__MONTHLY_CREDITS", "40")
            .env(
                "BRANDPILOT__BILLING__PLANS__HOBBY__REQUESTS_PER_MINUTE",
                "60",
            );
    };
    run(brandpilot(&data).args(["keys", "create", "--name", "ops"]));

    let mut unknown = brandpilot(&data);
    with_plans(&mut unknown);
    let refused = unknown
        .args(["workspaces", "plan", "default", "gold"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("no plan \"gold\"") && message.contains("hobby"),
        "{message}"
    );

    let mut assign = brandpilot(&data);
    with_plans(&mut assign);
    let out = run(assign.args(["workspaces", "plan", "default", "hobby"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("hobby: 40 credits/month, 60 requests/min"),
        "{said}"
    );

    let mut list = brandpilot(&data);
    with_plans(&mut list);
    let out = run(list.args(["workspaces", "ls", "--json"]));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &rows.as_array().unwrap()[0];
    assert_eq!(
        (
            &row["name"],
            &row["plan"],
            &row["monthly_credits"],
            &row["requests_per_minute"]
        ),
        (&"default".into(), &"hobby".into(), &40.into(), &60.into()),
        "{rows}"
    );

    // The plan is gone from the configuration: the server says which workspace needs it
    // instead of starting.
    let refused = brandpilot(&data)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("is on plan \"hobby\"") && message.contains("\"default\""),
        "{message}"
    );
}

/// With a collector configured, `serve` exports each request as an OpenTelemetry server
/// span: a caller's `traceparent` puts it in the caller's trace, and the route template
/// and status are on it. Spans queued at shutdown are sent before the process ends.
#[test]
fn serve_exports_request_spans_to_an_opentelemetry_collector() {
    let collector = brandpilot_testkit::otlp_collector::Collector::start(200);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(brandpilot(&data).args(["keys", "create", "--name", "traced"]));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut command = brandpilot(&data);
    command
        .env("BRANDPILOT__TELEMETRY__OTLP_ENDPOINT", &collector.url)
        .env("BRANDPILOT__TELEMETRY__SERVICE_NAME", "brandpilot-test")
        .stderr(Stdio::piped());
    let (server, address) = spawn_serve(command);

    let client = reqwest::blocking::Client::new();
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let listed = client
        .get(format!("{address}/api/v1/brands"))
        .bearer_auth(&key)
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .send()
        .unwrap();
    assert_eq!(listed.status(), 200);
    let missing = client
        .get(format!("{address}/api/v1/brands/424242"))
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = server.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let received = collector.received.lock().unwrap().clone();
    let service = &received[0].2["resourceSpans"][0]["resource"]["attributes"][0];
    assert_eq!(service["value"]["stringValue"], "brandpilot-test");
    let spans = collector.spans();
    let requests: Vec<_> = spans.iter().filter(|s| s["name"] == "request").collect();
    let attribute = |span: &serde_json::Value, key: &str| {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
            .unwrap_or_default()
    };
    let traced = requests
        .iter()
        .find(|s| s["traceId"] == trace)
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {spans:?}"));
    assert_eq!(traced["parentSpanId"], "b7ad6b7169203331");
    assert_eq!(traced["kind"], 2);
    assert_eq!(attribute(traced, "route")["stringValue"], "/api/v1/brands");
    assert_eq!(
        attribute(traced, "http.response.status_code")["intValue"],
        "200"
    );
    let not_found = requests
        .iter()
        .find(|s| attribute(s, "route")["stringValue"] == "/api/v1/brands/{brand_id}")
        .unwrap_or_else(|| panic!("no span for the 404: {spans:?}"));
    assert_ne!(
        not_found["traceId"], trace,
        "a request without traceparent starts its own"
    );
    assert_eq!(
        attribute(not_found, "http.response.status_code")["intValue"],
        "404"
    );
    assert_eq!(
        not_found["status"]["code"], 0,
        "a 404 is the caller's error, not ours"
    );
    // The key's prefix is on the span (as in the log); the secret never is.
    let everything = serde_json::to_string(&spans).unwrap();
    assert!(!everything.contains(&key), "the API key reached the traces");
}
