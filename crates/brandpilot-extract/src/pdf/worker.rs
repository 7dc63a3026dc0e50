//! The PDF child process: the parent side (spawn, feed, time out, kill, decode the reply)
//! and the child side ([`pdf_worker_main`]).
//!
//! The reply is one JSON value on the child's original stdout. The child points its own
//! fd 1 at stderr before parsing, so a parser that prints cannot corrupt the reply. This
//! module must never wait on the child without a deadline, and must never leave a child
//! (or its process group) running after it returns.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::{ParseOutcome, parse_pages};
use crate::{ExtractError, ExtractLimits, Result};

/// The reply holds extracted text only; anything bigger is a misbehaving child.
const MAX_REPLY_BYTES: u64 = 512 * 1024 * 1024;
/// Enough of the child's stderr to diagnose a crash in the log.
const MAX_STDERR_BYTES: u64 = 16 * 1024;
/// How often the parent checks whether the child finished.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Entry point of the `__extract-pdf` subcommand: PDF bytes on stdin, a JSON reply on
/// stdout. Exit code 0 whenever a reply was written, including "corrupt" and "encrypted".
pub fn pdf_worker_main() -> ExitCode {
    // SAFETY: dup/dup2 on the standard descriptors of our own process; nothing else in
    // this process uses fd 1 concurrently at this point.
    let reply_fd = unsafe { libc::dup(libc::STDOUT_FILENO) };
    if reply_fd < 0 || unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        return ExitCode::from(3);
    }
    // SAFETY: `reply_fd` is a fresh descriptor we own and hand to exactly one File.
    let mut reply_channel = unsafe { std::fs::File::from_raw_fd(reply_fd) };
    let mut pdf_bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut pdf_bytes).is_err() {
        return ExitCode::from(4);
    }
    let outcome = parse_pages(&pdf_bytes);
    let written = serde_json::to_writer(&mut reply_channel, &outcome)
        .ok()
        .and_then(|()| reply_channel.flush().ok());
    match written {
        Some(()) => ExitCode::SUCCESS,
        None => ExitCode::from(5),
    }
}

pub(super) fn parse_in_child(
    program: &Path,
    args: &[OsString],
    limits: &ExtractLimits,
    pdf_bytes: &[u8],
) -> Result<ParseOutcome> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so the kill at the deadline reaches anything it started.
        .process_group(0);
    let memory_cap = limits.pdf_memory_bytes;
    // SAFETY: the closure runs between fork and exec and only calls setrlimit, which is
    // async-signal-safe; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: memory_cap as libc::rlim_t,
                rlim_max: memory_cap as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|error| ExtractError::Worker {
        reason: format!("cannot start {}: {error}", program.display()),
    })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        kill_process_group(&mut child);
        return Err(ExtractError::Worker {
            reason: "the child process has no standard streams".to_owned(),
        });
    };

    let deadline = Instant::now() + limits.pdf_timeout;
    let (wait_result, reply, stderr_tail) = std::thread::scope(|scope| {
        // Separate threads so that a child that neither reads nor exits cannot block us:
        // only the wait loop below decides when we stop.
        scope.spawn(move || {
            // A child that exits early closes the pipe; that is reported by its status.
            let _ = stdin.write_all(pdf_bytes);
        });
        let reply = scope.spawn(move || read_capped(stdout, MAX_REPLY_BYTES));
        let stderr_tail = scope.spawn(move || read_capped(stderr, MAX_STDERR_BYTES));
        let wait_result = wait_until(&mut child, deadline);
        if !matches!(wait_result, Ok(Some(_))) {
            kill_process_group(&mut child);
        }
        (
            wait_result,
            reply.join().unwrap_or_default(),
            stderr_tail.join().unwrap_or_default(),
        )
    });

    let status = match wait_result {
        Ok(Some(status)) => status,
        Ok(None) => {
            tracing::warn!(
                seconds = limits.pdf_timeout.as_secs_f64(),
                "PDF worker timed out and was killed"
            );
            return Err(ExtractError::Timeout {
                operation: "reading the PDF",
                seconds: crate::error::whole_seconds(limits.pdf_timeout),
            });
        }
        Err(error) => {
            return Err(ExtractError::Worker {
                reason: format!("cannot wait for the child process: {error}"),
            });
        }
    };
    if !status.success() {
        tracing::warn!(
            exit_code = status.code(),
            signal = status.signal(),
            stderr = %String::from_utf8_lossy(&stderr_tail),
            "PDF worker crashed"
        );
        return Err(ExtractError::Crashed);
    }
    serde_json::from_slice(&reply).map_err(|error| {
        tracing::error!(%error, "PDF worker exited cleanly but its reply is unreadable");
        ExtractError::Worker {
            reason: "the PDF reader process sent an unreadable reply".to_owned(),
        }
    })
}

/// `Ok(None)` when the deadline passed with the child still running.
fn wait_until(
    child: &mut Child,
    deadline: Instant,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

fn kill_process_group(child: &mut Child) {
    if let Ok(process_id) = libc::pid_t::try_from(child.id()) {
        // SAFETY: signalling the process group we created for this child; a negative pid
        // addresses the group.
        unsafe {
            libc::kill(-process_id, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn read_capped(stream: impl Read, cap: u64) -> Vec<u8> {
    let mut buffer = Vec::new();
    let _ = stream.take(cap).read_to_end(&mut buffer);
    buffer
}
