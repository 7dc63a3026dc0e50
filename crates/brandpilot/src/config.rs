//! Layered configuration: defaults < `brandpilot.toml` < `BRANDPILOT__SECTION__KEY`
//! environment variables < command-line flags.
//!
//! Every layer is merged as a TOML tree before one typed deserialisation, so all layers
//! share the same validation: an unknown key or a wrong type is an error naming the key,
//! whichever layer it came from.

use anyhow::{Context, Result, bail};
use brandpilot_app::Settings;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

const ENV_PREFIX: &str = "BRANDPILOT__";
const DEFAULT_FILE: &str = "brandpilot.toml";

/// Loads settings. `file` is an explicit `--config`; without it `./brandpilot.toml` is read
/// when present. `flags` are the command line's overrides, already as dotted keys.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    flags: &[(&str, Value)],
) -> Result<Settings> {
    let mut tree = Table::new();
    let path = match file {
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()),
    };
    if let Some(path) = path {
        let text = fs_err::read_to_string(&path)?;
        let table: Table = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        merge(&mut tree, table);
    }
    for (name, value) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = key.split("__").map(str::to_lowercase).collect();
        if path.iter().any(String::is_empty) {
            bail!("environment variable {name}: empty key segment");
        }
        set(&mut tree, &path, parse_scalar(&value));
    }
    for (key, value) in flags {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        set(&mut tree, &path, value.clone());
    }
    let settings: Settings = Value::Table(tree)
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("invalid settings: {}", e.message()))?;
    Ok(settings)
}

fn merge(into: &mut Table, from: Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) => merge(existing, incoming),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn set(tree: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut table = tree;
    for key in parents {
        let entry = table
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else { return };
        table = next;
    }
    table.insert(last.clone(), value);
}

/// Environment values are strings; numbers and booleans are recognised so that
/// `BRANDPILOT__RETRIEVAL__CANDIDATES=50` reaches a number field as a number.
fn parse_scalar(text: &str) -> Value {
    if let Ok(integer) = text.parse::<i64>() {
        return Value::Integer(integer);
    }
    if let Ok(float) = text.parse::<f64>()
        && text.contains('.')
    {
        return Value::Float(float);
    }
    match text {
        "true" => Value::Boolean(true),
        "false" => Value::Boolean(false),
        _ => Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.toml");
        fs_err::write(
            &file,
            "data_dir = \"/from/file\"\nworkspace = \"file-ws\"\n[retrieval]\ncandidates = 7\nrrf_k = 10.0\n",
        )
        .unwrap();
        let settings = load(
            Some(&file),
            env(&[
                ("BRANDPILOT__WORKSPACE", "env-ws"),
                ("BRANDPILOT__RETRIEVAL__CANDIDATES", "50"),
                ("BRANDPILOT__EMBEDDER__KIND", "hashing"),
                ("UNRELATED", "x"),
            ]),
            &[("data_dir", Value::String("/from/flag".into()))],
        )
        .unwrap();
        assert_eq!(settings.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(settings.workspace, "env-ws");
        assert_eq!(settings.retrieval.candidates, 50);
        assert_eq!(settings.retrieval.rrf_k, 10.0);
        assert_eq!(
            settings.embedder.kind,
            brandpilot_app::settings::EmbedderKind::Hashing
        );
        // Untouched keys keep their defaults.
        assert_eq!(settings.retrieval.bm25_weight, 1.0);
    }

    #[test]
    fn typos_and_wrong_types_are_errors_naming_the_key() {
        let error = load(
            None,
            env(&[("BRANDPILOT__RETRIEVAL__CANDIDATEZ", "5")]),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("candidatez"), "{error}");
        let error = load(
            None,
            env(&[("BRANDPILOT__RETRIEVAL__CANDIDATES", "many")]),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("invalid"), "{error}");
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        assert!(load(Some(Path::new("/nonexistent/b.toml")), env(&[]), &[]).is_err());
    }
}
