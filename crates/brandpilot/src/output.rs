//! Terminal output: logging setup, progress bars and passage rendering with highlighted
//! query terms. JSON output bypasses all of this.

use brandpilot_app::settings::TelemetrySettings;
use brandpilot_app::{FileOutcome, IngestObserver};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Logs to stderr (JSON unless stderr is a terminal) and, when a collector is configured,
/// exports spans as OpenTelemetry traces. Keep the guard until the command ends: dropping
/// it sends the spans still queued.
pub fn init_logging(
    filter: Option<&str>,
    default: &str,
    telemetry: &TelemetrySettings,
) -> anyhow::Result<Option<brandpilot_otlp::OtlpGuard>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = filter
        .map(str::to_owned)
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default.into());
    let (otlp, guard) = match otlp_config(telemetry, |name| std::env::var(name))? {
        Some(config) => {
            let (layer, guard) = brandpilot_otlp::layer(config)?;
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let terminal = std::io::stderr().is_terminal();
    let text = terminal.then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    let json = (!terminal).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
    });
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(filter))
        .with(text)
        .with(json)
        .with(otlp)
        .try_init()?;
    Ok(guard)
}

/// The exporter's configuration: the settings, else OpenTelemetry's standard variables;
/// `None` when no endpoint is given.
fn otlp_config(
    telemetry: &TelemetrySettings,
    var: impl Fn(&str) -> Result<String, std::env::VarError>,
) -> anyhow::Result<Option<brandpilot_otlp::OtlpConfig>> {
    let endpoint = telemetry.otlp_endpoint.clone().or_else(|| {
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|_| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .ok()
    });
    let Some(endpoint) = endpoint.filter(|e| !e.trim().is_empty()) else {
        return Ok(None);
    };
    let mut config = brandpilot_otlp::OtlpConfig::new(endpoint);
    config.traces_url()?;
    if let Ok(headers) = var("OTEL_EXPORTER_OTLP_HEADERS") {
        config.headers = brandpilot_otlp::parse_headers(&headers)?;
    }
    config.headers.extend(telemetry.otlp_headers.clone());
    if let Some(name) = telemetry
        .service_name
        .clone()
        .or_else(|| var("OTEL_SERVICE_NAME").ok())
    {
        config.service_name = name;
    }
    Ok(Some(config))
}

/// A progress bar on stderr when it is a terminal; silent otherwise.
pub struct ProgressObserver {
    bar: ProgressBar,
}

impl ProgressObserver {
    pub fn new(what: &str) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {{per_sec}} {{wide_msg}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        Self { bar }
    }

    pub fn set_length(&self, total: usize) {
        self.bar.set_length(total as u64);
    }

    pub fn set_position(&self, done: usize) {
        self.bar.set_position(done as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl IngestObserver for ProgressObserver {
    fn started(&self, total: usize) {
        self.bar.set_length(total as u64);
    }
    fn finished_one(&self, origin: &str, outcome: &FileOutcome) {
        self.bar.inc(1);
        if let FileOutcome::Failed { reason } = outcome {
            self.bar.suspend(|| eprintln!("failed: {origin}: {reason}"));
        }
        let name = origin.rsplit('/').next().unwrap_or(origin);
        self.bar.set_message(name.to_owned());
    }
}

/// Wraps the query's words in bold when printing to a terminal.
pub fn highlight(text: &str, query: &str, enabled: bool) -> String {
    if !enabled {
        return text.to_owned();
    }
    let terms: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        if terms.iter().any(|t| {
            lower.starts_with(t.as_str()) || t.starts_with(lower.as_str()) && lower.len() >= 3
        }) {
            out.push_str("\x1b[1;33m");
            out.push_str(word);
            out.push_str("\x1b[0m");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A passage cut to about `max_chars`, on a character boundary, on one line.
pub fn snippet(text: &str, max_chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let cut: String = flat.chars().take(max_chars).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(head, _)| head)
        .to_owned();
    format!("{cut} …")
}

/// Peak resident memory of this process, from the kernel's high-water mark.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_whole_words_matching_query_terms() {
        let out = highlight("Refunds take 5 days; refund policy.", "refund window", true);
        assert_eq!(
            out,
            "\x1b[1;33mRefunds\x1b[0m take 5 days; \x1b[1;33mrefund\x1b[0m policy."
        );
        assert_eq!(highlight("Refunds", "refund", false), "Refunds");
    }

    #[test]
    fn snippets_cut_between_words() {
        assert_eq!(snippet("one  two\nthree", 100), "one two three");
        assert_eq!(snippet("alpha beta gamma delta", 12), "alpha beta …");
        assert_eq!(snippet("ééééé ééééé", 7), "ééééé …");
    }
}
