use std::path::Path;

use super::testing::make_wheel;
use super::*;

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn json(path: impl AsRef<Path>) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}

#[test]
fn add_wheel_writes_wheel_metadata_and_pages() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(&work.path().join("index")).unwrap();
    let wheel = make_wheel(work.path(), "Demo.Pkg", "1.0", Some(">=3.8"));
    let added = index.add_wheel(&wheel).unwrap();

    let name = "demo_pkg-1.0-py3-none-any.whl";
    assert_eq!(added.project, "demo-pkg");
    assert_eq!(added.outcome, AddOutcome::New);
    assert_eq!(added.requires_python.as_deref(), Some(">=3.8"));
    assert_eq!(
        std::fs::read(&wheel).unwrap(),
        std::fs::read(&added.path).unwrap()
    );
    let metadata = std::fs::read(index.packages_dir().join(format!("{name}.metadata"))).unwrap();
    assert!(metadata.starts_with(b"Metadata-Version: 2.1\nName: Demo.Pkg\n"));
    assert_eq!(added.metadata_sha256, sha256_hex(&metadata));

    let html = read(index.simple_dir().join("demo-pkg/index.html"));
    assert!(html.starts_with("<!DOCTYPE html>\n"));
    assert!(html.contains(r#"<meta name="pypi:repository-version" content="1.1">"#));
    let anchor = format!(
        r#"<a href="../../packages/{name}#sha256={}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256={m}" data-core-metadata="sha256={m}">{name}</a>"#,
        added.sha256,
        m = added.metadata_sha256
    );
    assert!(html.contains(&anchor), "{html}");
    let root = read(index.simple_dir().join("index.html"));
    assert!(
        root.contains(r#"<a href="demo-pkg/">demo-pkg</a>"#),
        "{root}"
    );

    let page = json(index.simple_dir().join("demo-pkg/index.json"));
    let size = std::fs::metadata(&wheel).unwrap().len();
    assert_eq!(
        page,
        serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": "demo-pkg",
            "versions": ["1.0"],
            "files": [{
                "filename": name,
                "url": format!("../../packages/{name}"),
                "hashes": {"sha256": added.sha256},
                "requires-python": ">=3.8",
                "core-metadata": {"sha256": added.metadata_sha256},
                "dist-info-metadata": {"sha256": added.metadata_sha256},
                "size": size,
            }],
        })
    );
    assert_eq!(
        read(index.simple_dir().join("index.json")),
        "{\n  \"meta\": {\n    \"api-version\": \"1.1\"\n  },\n  \"projects\": [\n    {\n      \"name\": \"demo-pkg\"\n    }\n  ]\n}\n"
    );
}

#[test]
fn pages_list_files_sorted_and_omit_absent_requires_python() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(work.path()).unwrap();
    let wheels = tempfile::tempdir().unwrap();
    for version in ["1.10", "1.9", "2.0"] {
        index
            .add_wheel(&make_wheel(wheels.path(), "demo", version, None))
            .unwrap();
    }
    index
        .add_wheel(&make_wheel(wheels.path(), "other", "1", None))
        .unwrap();
    let page = json(index.simple_dir().join("demo/index.json"));
    assert_eq!(page["versions"], serde_json::json!(["1.9", "1.10", "2.0"]));
    let files: Vec<&str> = page["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| file["filename"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "demo-1.10-py3-none-any.whl",
            "demo-1.9-py3-none-any.whl",
            "demo-2.0-py3-none-any.whl"
        ]
    );
    assert!(page["files"][0].get("requires-python").is_none());
    assert!(!read(index.simple_dir().join("demo/index.html")).contains("data-requires-python"));
    let root = json(index.simple_dir().join("index.json"));
    assert_eq!(
        root["projects"],
        serde_json::json!([{"name": "demo"}, {"name": "other"}])
    );
}

#[test]
fn re_adding_is_a_no_op_and_replacing_updates_the_hash() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(&work.path().join("index")).unwrap();
    let first = index
        .add_wheel(&make_wheel(work.path(), "demo", "1.0", Some(">=3.8")))
        .unwrap();
    let again = index
        .add_wheel(&make_wheel(work.path(), "demo", "1.0", Some(">=3.8")))
        .unwrap();
    assert_eq!(again.outcome, AddOutcome::Unchanged);
    // Adding the copy that is already in packages/ is fine too.
    assert_eq!(
        index.add_wheel(&first.path).unwrap().outcome,
        AddOutcome::Unchanged
    );
    let summary = index.rebuild().unwrap();
    assert_eq!(
        summary,
        IndexSummary {
            projects: 1,
            files: 1,
            written: 0,
            removed: 0
        }
    );

    let replaced = index
        .add_wheel(&make_wheel(work.path(), "demo", "1.0", Some(">=3.9")))
        .unwrap();
    assert_eq!(replaced.outcome, AddOutcome::Replaced);
    assert_ne!(replaced.sha256, first.sha256);
    let html = read(index.simple_dir().join("demo/index.html"));
    assert!(html.contains(&replaced.sha256) && !html.contains(&first.sha256));
    assert!(html.contains("&gt;=3.9"));
    let metadata = read(metadata_path(&replaced.path));
    assert!(metadata.contains("Requires-Python: >=3.9"));
}

#[test]
fn rebuild_restores_metadata_and_removes_what_is_stale() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(&work.path().join("index")).unwrap();
    let kept = index
        .add_wheel(&make_wheel(work.path(), "kept", "1.0", None))
        .unwrap();
    let gone = index
        .add_wheel(&make_wheel(work.path(), "gone", "1.0", None))
        .unwrap();
    std::fs::remove_file(&gone.path).unwrap();
    std::fs::remove_file(metadata_path(&kept.path)).unwrap();
    std::fs::write(index.packages_dir().join(".wheelforge-tmp-abc"), b"half").unwrap();
    std::fs::write(index.packages_dir().join(".gitkeep"), b"").unwrap();

    let summary = index.rebuild().unwrap();
    // Restored kept's .metadata and rewrote both root pages; removed gone's two pages, its
    // orphaned .metadata and the temporary leftover.
    assert_eq!(
        summary,
        IndexSummary {
            projects: 1,
            files: 1,
            written: 3,
            removed: 4
        }
    );
    assert!(metadata_path(&kept.path).is_file());
    assert!(!metadata_path(&gone.path).exists());
    assert!(!index.simple_dir().join("gone").exists());
    assert!(!index.packages_dir().join(".wheelforge-tmp-abc").exists());
    assert!(!read(index.simple_dir().join("index.html")).contains("gone"));
    assert_eq!(index.rebuild().unwrap().written, 0);
}

#[test]
fn a_stray_file_in_packages_is_an_error_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(work.path()).unwrap();
    std::fs::write(index.packages_dir().join("notes.txt"), b"").unwrap();
    let error = index.rebuild().unwrap_err();
    assert!(matches!(error, IndexError::Stray { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("notes.txt") && message.contains("remove it"),
        "{message}"
    );
}

#[test]
fn bad_wheels_are_refused_before_touching_the_index() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(&work.path().join("index")).unwrap();
    let misnamed = work.path().join("demo.zip");
    std::fs::write(&misnamed, b"").unwrap();
    let error = index.add_wheel(&misnamed).unwrap_err();
    assert!(matches!(error, IndexError::NotAWheel { .. }), "{error}");

    let not_zip = work.path().join("demo-1.0-py3-none-any.whl");
    std::fs::write(&not_zip, b"not a zip").unwrap();
    let error = index.add_wheel(&not_zip).unwrap_err();
    assert!(matches!(error, IndexError::Zip { .. }), "{error}");

    let no_metadata = make_wheel(work.path(), "other", "1.0", None);
    let renamed = work.path().join("third-1.0-py3-none-any.whl");
    std::fs::rename(&no_metadata, &renamed).unwrap();
    let error = index.add_wheel(&renamed).unwrap_err();
    assert!(
        error.to_string().contains("third-1.0.dist-info/METADATA"),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(index.packages_dir()).unwrap().count(), 0);
}

#[test]
fn metadata_headers_are_parsed_like_rfc_822() {
    let field = |text: &str| metadata_field(text.as_bytes(), "Requires-Python");
    assert_eq!(
        field("Name: a\r\nrequires-python: >=3.8\r\n\r\n"),
        Some(">=3.8".into())
    );
    assert_eq!(
        field("Requires-Python: >=3.8,\n  <4\nName: a\n"),
        Some(">=3.8, <4".into())
    );
    assert_eq!(field("Name: a\n\nRequires-Python: >=3.8\n"), None);
    assert_eq!(field("Requires-Python:\nName: a\n"), None);
    assert_eq!(
        field("Requires-Python: >=3\nRequires-Python: >=2\n"),
        Some(">=3".into())
    );
}

#[test]
fn an_update_waits_for_the_lock() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(&work.path().join("index")).unwrap();
    let wheel = make_wheel(work.path(), "demo", "1.0", None);
    let held = Index::open(index.root()).unwrap().lock().unwrap();
    let adder = {
        let index = index.clone();
        std::thread::spawn(move || index.add_wheel(&wheel).unwrap())
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!index.simple_dir().join("demo").exists());
    assert!(!adder.is_finished());
    drop(held);
    adder.join().unwrap();
    assert!(index.simple_dir().join("demo/index.html").is_file());
}

#[test]
fn concurrent_adds_lose_no_wheel() {
    // A few rounds: without the lock, a round loses a wheel more often than not.
    for _ in 0..3 {
        concurrent_round();
    }
}

fn concurrent_round() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("index");
    Index::open(&root).unwrap();
    let wheels: Vec<PathBuf> = (0..12)
        .map(|i| {
            make_wheel(
                work.path(),
                &format!("proj{}", i % 3),
                &format!("1.{i}"),
                None,
            )
        })
        .collect();
    std::thread::scope(|scope| {
        for wheel in &wheels {
            let root = &root;
            scope.spawn(move || {
                // Each thread has its own Index and so its own lock file handle.
                Index::open(root).unwrap().add_wheel(wheel).unwrap();
            });
        }
    });
    let index = Index::open(&root).unwrap();
    for project in 0..3 {
        let page = json(index.simple_dir().join(format!("proj{project}/index.json")));
        assert_eq!(page["files"].as_array().unwrap().len(), 4, "{page}");
        let html = read(index.simple_dir().join(format!("proj{project}/index.html")));
        assert_eq!(html.matches("<a href=").count(), 4, "{html}");
    }
    let root_page = json(index.simple_dir().join("index.json"));
    assert_eq!(root_page["projects"].as_array().unwrap().len(), 3);
    assert_eq!(index.rebuild().unwrap().written, 0);
}

/// Issue 6: static libraries live in `<out>/libraries/`, beside the index; adding a wheel or
/// rebuilding the pages must not list them, so pip never sees a library archive.
#[test]
fn library_archives_beside_the_index_are_not_listed() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("index");
    let index = Index::open(&root).unwrap();
    let libraries = root.join(crate::library::LIBRARIES_DIR);
    std::fs::create_dir_all(&libraries).unwrap();
    std::fs::write(
        libraries.join("lapack-3.12.1-wasi_0_2_wasm32.tar.gz"),
        b"not a wheel",
    )
    .unwrap();
    let wheel = make_wheel(work.path(), "demo", "1.0", None);
    index.add_wheel(&wheel).unwrap();
    index.rebuild().unwrap();
    let mut pages = Vec::new();
    let mut pending = vec![index.simple_dir()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                pages.push(read(&path));
            }
        }
    }
    assert!(!pages.is_empty());
    for page in pages {
        assert!(!page.contains("lapack"), "{page}");
    }
    assert!(!read(index.simple_dir().join("index.html")).contains("libraries"));
}

#[test]
fn removed_wheels_leave_the_pages_and_the_metadata() {
    let work = tempfile::tempdir().unwrap();
    let index = Index::open(&work.path().join("index")).unwrap();
    for (project, version) in [("demo", "1.0"), ("demo", "2.0"), ("gone", "1.0")] {
        let wheel = make_wheel(work.path(), project, version, None);
        index.add_wheel(&wheel).unwrap();
    }
    let names = [
        "demo-1.0-py3-none-any.whl",
        "gone-1.0-py3-none-any.whl",
        "absent-1.0-py3-none-any.whl",
    ]
    .map(String::from);
    assert_eq!(index.remove_wheels(&names).unwrap(), 2);
    let mut left: Vec<String> = std::fs::read_dir(index.packages_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "demo-2.0-py3-none-any.whl",
            "demo-2.0-py3-none-any.whl.metadata"
        ]
    );
    let page = read(index.simple_dir().join("demo/index.html"));
    assert!(page.contains("demo-2.0-py3-none-any.whl"), "{page}");
    assert!(!page.contains("demo-1.0"), "{page}");
    assert!(!index.simple_dir().join("gone/index.html").exists());
    let root = read(index.simple_dir().join("index.html"));
    assert!(!root.contains("gone"), "{root}");
}
