//! An OpenTelemetry collector's OTLP/HTTP receiver (`POST /v1/traces`, JSON encoding) on
//! loopback: it keeps what it receives and answers with the status it was given, so the
//! exporter's real HTTP client is what gets tested.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A collector: answers every POST with `status`, keeping each request's path, content
/// type and JSON body.
pub struct Collector {
    pub url: String,
    /// Each request's path, content type and JSON body.
    pub received: Arc<Mutex<Vec<(String, String, Value)>>>,
}

impl Collector {
    pub fn start(status: u16) -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let store = store.clone();
                std::thread::spawn(move || serve(stream, status, &store));
            }
        });
        Collector { url, received }
    }

    /// The spans received so far, flattened out of their batches.
    pub fn spans(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, _, body)| {
                body["resourceSpans"][0]["scopeSpans"][0]["spans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }
}

fn serve(stream: std::net::TcpStream, status: u16, store: &Mutex<Vec<(String, String, Value)>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        let (mut length, mut content_type) = (0usize, String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        store.lock().unwrap().push((
            path,
            content_type,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        ));
        write!(
            writer,
            "HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\n{{}}"
        )
        .unwrap();
    }
}
