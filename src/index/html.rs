//! The PEP 503 HTML pages of the index, with the PEP 658 / PEP 714 metadata attributes.
//!
//! This module owns the text of `simple/index.html` and `simple/<project>/index.html`:
//! `<!DOCTYPE html>`, the `pypi:repository-version` meta tag, one anchor per project or file,
//! and the escaping of everything it puts into them. It does not decide which files exist or
//! write anything to disk; `super` does that.

use std::fmt::Write;

use super::FileEntry;

/// The repository API version (PEP 629) that both the HTML and the JSON pages declare.
pub(super) const REPOSITORY_VERSION: &str = "1.1";

/// `simple/index.html`: one `<a href="NAME/">NAME</a>` per project, in the given order.
pub(super) fn root_page<'a>(projects: impl Iterator<Item = &'a String>) -> String {
    let mut page = header("Simple index");
    for project in projects {
        let _ = writeln!(
            page,
            "    <a href=\"{}/\">{}</a><br>",
            escape(&super::url_segment(project)),
            escape(project)
        );
    }
    page.push_str(FOOTER);
    page
}

/// `simple/<project>/index.html`: one anchor per file, sorted by filename.
pub(super) fn project_page(project: &str, files: &[FileEntry]) -> String {
    let title = format!("Links for {project}");
    let mut page = header(&title);
    let _ = writeln!(page, "    <h1>{}</h1>", escape(&title));
    let mut files: Vec<&FileEntry> = files.iter().collect();
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    for file in files {
        let _ = write!(
            page,
            "    <a href=\"../../packages/{}#sha256={}\"",
            escape(&super::url_segment(&file.filename)),
            file.sha256
        );
        if let Some(requires_python) = &file.requires_python {
            let _ = write!(
                page,
                " data-requires-python=\"{}\"",
                escape(requires_python)
            );
        }
        let _ = writeln!(
            page,
            " data-dist-info-metadata=\"sha256={hash}\" data-core-metadata=\"sha256={hash}\">{name}</a><br>",
            hash = file.metadata_sha256,
            name = escape(&file.filename),
        );
    }
    page.push_str(FOOTER);
    page
}

fn header(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    \
         <meta name=\"pypi:repository-version\" content=\"{REPOSITORY_VERSION}\">\n    \
         <title>{}</title>\n  </head>\n  <body>\n",
        escape(title)
    )
}

const FOOTER: &str = "  </body>\n</html>\n";

/// Escapes text for HTML content and double-quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_attribute_text() {
        assert_eq!(escape(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
