//! Start-up check of vector instructions: which SIMD features the vendored llama.cpp was
//! compiled with, which ones this CPU has, and what that means, in one sentence the
//! binary can print.
//!
//! It only reports; it never changes how llama.cpp runs.

use crate::backend::system_info;

/// x86 features that matter for ggml's CPU kernels, named as llama.cpp's system info
/// names them.
const FEATURES: &[&str] = &[
    "SSE3",
    "SSSE3",
    "AVX",
    "AVX2",
    "F16C",
    "FMA",
    "BMI2",
    "AVX_VNNI",
    "AVX512",
    "AVX512_VBMI",
    "AVX512_VNNI",
    "AVX512_BF16",
];

/// What llama.cpp was built for versus what the CPU offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuReport {
    /// Features llama.cpp's kernels were compiled to use.
    pub built_with: Vec<&'static str>,
    /// Features this CPU supports.
    pub cpu_has: Vec<&'static str>,
    /// Compiled in but missing on this CPU: the process will crash with an illegal
    /// instruction as soon as such a kernel runs.
    pub unsupported_by_cpu: Vec<&'static str>,
    /// Available on this CPU but not compiled in: performance left on the table.
    pub unused_by_build: Vec<&'static str>,
    /// Whether ggml threads with OpenMP (else its own thread pool).
    pub openmp: bool,
    /// llama.cpp's raw system-info line.
    pub system_info: String,
}

impl CpuReport {
    /// Whether the build can run on this CPU at all.
    pub fn is_runnable(&self) -> bool {
        self.unsupported_by_cpu.is_empty()
    }

    /// Whether the build uses at least AVX2+FMA, without which BERT inference is several
    /// times slower.
    pub fn has_fast_kernels(&self) -> bool {
        self.built_with.contains(&"AVX2") && self.built_with.contains(&"FMA")
    }

    /// One human-readable sentence for the start-up log.
    pub fn summary(&self) -> String {
        let threading = if self.openmp {
            "OpenMP"
        } else {
            "ggml thread pool"
        };
        let mut text = format!(
            "llama.cpp built with [{}] ({threading}); CPU has [{}]",
            self.built_with.join(" "),
            self.cpu_has.join(" ")
        );
        if !self.unsupported_by_cpu.is_empty() {
            text.push_str(&format!(
                ". This CPU LACKS [{}] that the build requires: rebuild for this machine",
                self.unsupported_by_cpu.join(" ")
            ));
        } else if !self.has_fast_kernels() {
            text.push_str(
                ". The build lacks AVX2/FMA: embeddings will be slow; build with \
                 RUSTFLAGS=\"-C target-cpu=x86-64-v3\" (or native)",
            );
        } else if !self.unused_by_build.is_empty() {
            text.push_str(&format!(
                "; unused by this build: [{}]",
                self.unused_by_build.join(" ")
            ));
        }
        text
    }
}

/// Compares llama.cpp's compiled features with the running CPU's.
pub fn cpu_report() -> CpuReport {
    let info = system_info();
    let built = compiled_features(&info);
    let mut report = CpuReport {
        built_with: Vec::new(),
        cpu_has: Vec::new(),
        unsupported_by_cpu: Vec::new(),
        unused_by_build: Vec::new(),
        openmp: flag_is_set(&info, "OPENMP"),
        system_info: info.clone(),
    };
    for &llama_name in FEATURES {
        let compiled = built.contains(&llama_name);
        let present = cpu_has(llama_name);
        if compiled {
            report.built_with.push(llama_name);
        }
        if present {
            report.cpu_has.push(llama_name);
        }
        match (compiled, present) {
            (true, false) => report.unsupported_by_cpu.push(llama_name),
            (false, true) => report.unused_by_build.push(llama_name),
            _ => {}
        }
    }
    report
}

fn compiled_features(info: &str) -> Vec<&'static str> {
    FEATURES
        .iter()
        .copied()
        .filter(|name| flag_is_set(info, name))
        .collect()
}

/// Whether the system-info line contains `NAME = 1` as a whole `|`-separated field.
fn flag_is_set(info: &str, name: &str) -> bool {
    info.split(['|', ':']).any(|field| {
        let mut parts = field.split('=').map(str::trim);
        parts.next() == Some(name) && parts.next() == Some("1")
    })
}

#[cfg(target_arch = "x86_64")]
fn cpu_has(llama_name: &str) -> bool {
    match llama_name {
        "SSE3" => std::arch::is_x86_feature_detected!("sse3"),
        "SSSE3" => std::arch::is_x86_feature_detected!("ssse3"),
        "AVX" => std::arch::is_x86_feature_detected!("avx"),
        "AVX2" => std::arch::is_x86_feature_detected!("avx2"),
        "F16C" => std::arch::is_x86_feature_detected!("f16c"),
        "FMA" => std::arch::is_x86_feature_detected!("fma"),
        "BMI2" => std::arch::is_x86_feature_detected!("bmi2"),
        "AVX_VNNI" => std::arch::is_x86_feature_detected!("avxvnni"),
        "AVX512" => std::arch::is_x86_feature_detected!("avx512f"),
        "AVX512_VBMI" => std::arch::is_x86_feature_detected!("avx512vbmi"),
        "AVX512_VNNI" => std::arch::is_x86_feature_detected!("avx512vnni"),
        "AVX512_BF16" => std::arch::is_x86_feature_detected!("avx512bf16"),
        _ => false,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has(_llama_name: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::flag_is_set;

    #[test]
    fn parses_system_info_flags() {
        let info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | OPENMP = 1 |";
        assert!(flag_is_set(info, "AVX2"));
        assert!(flag_is_set(info, "SSE3"));
        assert!(!flag_is_set(info, "AVX512"));
        assert!(!flag_is_set(info, "FMA"));
        assert!(flag_is_set(info, "OPENMP"));
    }
}
