//! Running external programs with their output captured in a recipe's log file.
//!
//! Builds run pip, compilers and build backends; their output belongs in
//! `build/<recipe>/build.log`, never on the terminal. This module owns that plumbing only.

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

/// Runs `command` with stdout and stderr appended to `log`, after a line naming the command.
pub fn run_logged(command: &mut Command, log: &Path) -> std::io::Result<ExitStatus> {
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let description = describe(command);
    tracing::info!(log = %log.display(), "running {description}");
    writeln!(file, "$ {description}")?;
    let stdout = file.file().try_clone()?;
    let stderr = file.file().try_clone()?;
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .status()?;
    writeln!(file, "[exit status: {status}]")?;
    Ok(status)
}

/// Appends one line of wheelforge's own to `log` (what a build changed, and why); a log that
/// cannot be written loses the line, not the build.
pub fn log_line(log: &Path, line: &str) {
    tracing::info!(log = %log.display(), "{line}");
    if let Ok(mut file) = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// The last `lines` lines of a log, for error messages.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = fs_err::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The command line for the log; a sandboxed command shows only what runs inside.
fn describe(command: &Command) -> String {
    let arguments: Vec<_> = command.get_args().collect();
    if command.get_program() == "unshare"
        && let Some(start) = arguments.iter().rposition(|a| *a == "--")
    {
        let inside: Vec<String> = arguments[start + 1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return format!("[toolchain root] {}", inside.join(" "));
    }
    let mut text = command.get_program().to_string_lossy().into_owned();
    for argument in arguments {
        text.push(' ');
        text.push_str(&argument.to_string_lossy());
    }
    text
}
