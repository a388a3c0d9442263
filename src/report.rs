//! The build report: `report.json` and `report.html` in the build directory after every build.
//!
//! This module turns the pipeline's [`RunSummary`] into a report: each recipe's status,
//! duration, wheels (file and size), the counts of its pytest suite when `wheelforge test`
//! left `build/<name>/test/pytest/report.json`, and a relative link to its log. The HTML page is
//! static and self-contained (inline CSS, no scripts). Both files are written to a temporary
//! file and renamed into place. It does not run builds or tests.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::outcome::{Outcome, RunSummary};
use crate::testing::suite::{Counts, SuiteReport};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the build report {path}\n  help: check that the build directory is writable", path = path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The report of one build run, in build order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    pub built: usize,
    pub cached: usize,
    pub failed: usize,
    pub skipped: usize,
    pub recipes: Vec<RecipeReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipeReport {
    pub name: String,
    /// `built`, `cached`, `failed` or `skipped`.
    pub status: String,
    pub duration_seconds: f64,
    pub wheels: Vec<WheelReport>,
    /// Why it failed (the error's first line) or was skipped.
    pub detail: Option<String>,
    /// The build log, relative to the build directory, when this run wrote one.
    pub log: Option<String>,
    pub tests: Option<TestReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WheelReport {
    pub file: String,
    pub size: u64,
    /// The wheel in the index, relative to the build directory.
    pub href: String,
}

/// What the last `wheelforge test` of the recipe's pytest suite counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub wasi: Counts,
    pub native: Option<Counts>,
    /// Natively passing tests that pass under WASI (or the WASI pass share without a native run).
    pub ratio: f64,
    pub required_ratio: f64,
    pub passed: bool,
    /// The suite's `report.json`, relative to the build directory.
    pub href: String,
    /// The recipe was rebuilt in this run, so these counts are of an earlier wheel.
    pub earlier_build: bool,
}

/// Where the report went.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub html: PathBuf,
}

/// `build/report.html`.
pub fn html_path(build_dir: &Path) -> PathBuf {
    build_dir.join("report.html")
}

impl BuildReport {
    /// The report of `summary`; reads wheel sizes from `out_dir/packages` (library archives
    /// from `out_dir/libraries`) and test reports
    /// from `build_dir/<name>/test/pytest/report.json`.
    pub fn new(summary: &RunSummary, build_dir: &Path, out_dir: &Path) -> BuildReport {
        let packages = out_dir.join("packages");
        let recipes = summary
            .results
            .iter()
            .map(|result| {
                let (wheels, detail) = match &result.outcome {
                    Outcome::Built { wheels } | Outcome::Cached { wheels } => {
                        (wheels.clone(), None)
                    }
                    Outcome::Failed { error } => (
                        Vec::new(),
                        Some(
                            error
                                .to_string()
                                .lines()
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                        ),
                    ),
                    Outcome::Skipped { because } => (Vec::new(), Some(because.clone())),
                };
                let wheels = wheels
                    .into_iter()
                    .map(|file| {
                        // A static library's archive is stored beside the index.
                        let path = if file.ends_with(".whl") {
                            packages.join(&file)
                        } else {
                            out_dir.join(crate::library::LIBRARIES_DIR).join(&file)
                        };
                        WheelReport {
                            size: fs_err::metadata(&path).map_or(0, |m| m.len()),
                            href: relative_link(build_dir, &path),
                            file,
                        }
                    })
                    .collect();
                let wrote_log = !matches!(
                    result.outcome,
                    Outcome::Skipped { .. } | Outcome::Cached { .. }
                );
                let log = (wrote_log && result.log.is_file())
                    .then(|| relative_link(build_dir, &result.log));
                let suite = build_dir.join(&result.name).join("test/pytest/report.json");
                let tests = fs_err::read_to_string(&suite)
                    .ok()
                    .and_then(|text| serde_json::from_str::<SuiteReport>(&text).ok())
                    .map(|report| TestReport {
                        ratio: report.ratio(),
                        passed: report.passed(),
                        required_ratio: report.required_ratio,
                        native: report.native.map(|native| native.counts),
                        wasi: report.wasi.counts,
                        href: relative_link(build_dir, &suite),
                        earlier_build: matches!(result.outcome, Outcome::Built { .. }),
                    });
                RecipeReport {
                    name: result.name.clone(),
                    status: result.outcome.label().to_string(),
                    duration_seconds: (result.duration.as_secs_f64() * 1000.0).round() / 1000.0,
                    wheels,
                    detail,
                    log,
                    tests,
                }
            })
            .collect();
        BuildReport {
            built: summary.count("built"),
            cached: summary.count("cached"),
            failed: summary.count("failed"),
            skipped: summary.count("skipped"),
            recipes,
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("reports always serialize");
        text.push('\n');
        text
    }

    /// A static page: a summary line and one table row per recipe.
    pub fn to_html(&self) -> String {
        let mut rows = String::new();
        for recipe in &self.recipes {
            let wheels = if recipe.wheels.is_empty() {
                "—".to_string()
            } else {
                recipe
                    .wheels
                    .iter()
                    .map(|w| format!("<a href=\"{}\">{}</a>", escape(&w.href), escape(&w.file)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let sizes = if recipe.wheels.is_empty() {
                "—".to_string()
            } else {
                recipe
                    .wheels
                    .iter()
                    .map(|w| human_size(w.size))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let tests = match &recipe.tests {
                None => "—".to_string(),
                Some(tests) => {
                    let native = tests.native.as_ref().map_or(String::new(), |native| {
                        format!(
                            "<br>native: {} passed, {} failed",
                            native.passed, native.failed
                        )
                    });
                    format!(
                        "<a href=\"{}\" class=\"{}\">{} passed, {} failed, {} skipped, {} errors, {} crashed</a>{native}<br>{:.1} % (required {:.0} %){}",
                        escape(&tests.href),
                        if tests.passed { "pass" } else { "fail" },
                        tests.wasi.passed,
                        tests.wasi.failed,
                        tests.wasi.skipped,
                        tests.wasi.errors,
                        tests.wasi.crashed,
                        tests.ratio * 100.0,
                        tests.required_ratio * 100.0,
                        if tests.earlier_build {
                            "<br><em>of an earlier build</em>"
                        } else {
                            ""
                        }
                    )
                }
            };
            let log = recipe.log.as_ref().map_or("—".to_string(), |log| {
                format!("<a href=\"{}\">build.log</a>", escape(log))
            });
            rows.push_str(&format!(
                "<tr id=\"recipe-{name}\" class=\"status-{status}\" data-recipe=\"{name}\" data-status=\"{status}\">\
<td class=\"recipe\">{name}</td><td class=\"status\">{status}</td><td class=\"time\">{time:.1} s</td>\
<td class=\"wheel\">{wheels}</td><td class=\"size\">{sizes}</td><td class=\"tests\">{tests}</td>\
<td class=\"log\">{log}</td><td class=\"detail\">{detail}</td></tr>\n",
                name = escape(&recipe.name),
                status = escape(&recipe.status),
                time = recipe.duration_seconds,
                detail = escape(recipe.detail.as_deref().unwrap_or("")),
            ));
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>wheelforge build report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>wheelforge build report</h1>\n<p id=\"counts\">{} built, {} cached, {} failed, {} skipped</p>\n<table id=\"recipes\">\n<thead><tr><th>recipe</th><th>status</th><th>time</th><th>wheel</th><th>size</th><th>tests (pytest under WASI)</th><th>log</th><th>detail</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</body>\n</html>\n",
            self.built, self.cached, self.failed, self.skipped
        )
    }

    /// Writes `report.json` and `report.html` into `build_dir`, each through a temporary file.
    pub fn write(&self, build_dir: &Path) -> Result<ReportFiles, ReportError> {
        let json = build_dir.join("report.json");
        let html = html_path(build_dir);
        write_atomically(&json, self.to_json().as_bytes())?;
        write_atomically(&html, self.to_html().as_bytes())?;
        Ok(ReportFiles { json, html })
    }
}

/// The report stage of a build: reads what the run left and writes both files.
pub fn write(
    summary: &RunSummary,
    build_dir: &Path,
    out_dir: &Path,
) -> Result<ReportFiles, ReportError> {
    let _span = tracing::info_span!("report").entered();
    BuildReport::new(summary, build_dir, out_dir).write(build_dir)
}

const STYLE: &str = "body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.time, td.size { text-align: right; white-space: nowrap; }
td.recipe, td.status { white-space: nowrap; }
tr.status-built td.status { background: #d4f4d4; }
tr.status-cached td.status { background: #e4ecf8; }
tr.status-failed td.status { background: #f8d0d0; font-weight: bold; }
tr.status-skipped td.status { background: #f4ecc8; }
a.fail { color: #a00; }
td.detail { max-width: 40em; font-family: monospace; font-size: 90%; }
";

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir).map_err(error)?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".report-")
        .tempfile_in(dir)
        .map_err(error)?;
    temporary.write_all(bytes).map_err(error)?;
    temporary.as_file().sync_all().map_err(error)?;
    temporary.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn human_size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// `target` as a URL path relative to the directory `base` (both made absolute first).
fn relative_link(base: &Path, target: &Path) -> String {
    let relative = crate::paths::relative_path(base, target);
    let parts: Vec<_> = relative.iter().map(|part| part.to_string_lossy()).collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::{escape, human_size, relative_link};
    use std::path::Path;

    #[test]
    fn links_are_relative_to_the_build_directory() {
        assert_eq!(
            relative_link(Path::new("/w/build"), Path::new("/w/build/six/build.log")),
            "six/build.log"
        );
        assert_eq!(
            relative_link(Path::new("/w/build"), Path::new("/w/dist/packages/six.whl")),
            "../dist/packages/six.whl"
        );
    }

    #[test]
    fn html_text_is_escaped_and_sizes_are_human() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(3 * 1_048_576), "3.0 MiB");
    }
}
