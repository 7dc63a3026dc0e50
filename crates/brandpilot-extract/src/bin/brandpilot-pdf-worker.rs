//! Standalone PDF worker: the same code as `brandpilot __extract-pdf`, as its own
//! executable so the crate's tests (and anyone debugging a PDF by hand:
//! `brandpilot-pdf-worker < file.pdf`) can run the child-process path without the main
//! binary. It must never do anything but call `pdf_worker_main`.

fn main() -> std::process::ExitCode {
    brandpilot_extract::pdf_worker_main()
}
