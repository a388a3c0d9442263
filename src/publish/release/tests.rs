use super::*;
use std::path::PathBuf;

fn wheel(name: &str, size: u64, sha256: &str) -> Wheel {
    Wheel {
        name: name.to_string(),
        path: PathBuf::from(name),
        size,
        sha256: sha256.to_string(),
        requires_python: Some(">=3.8".to_string()),
    }
}

fn asset(id: u64, name: &str, state: &str, size: u64, digest: Option<&str>) -> Asset {
    Asset {
        id,
        name: name.to_string(),
        state: state.to_string(),
        size,
        digest: digest.map(str::to_string),
        browser_download_url: format!("https://example.test/o/r/releases/download/v1/{name}"),
    }
}

const NAME: &str = "six-1.17.0-py3-none-any.whl";

#[test]
fn a_missing_asset_is_uploaded_and_a_complete_same_one_kept() {
    let local = wheel(NAME, 10, "ab");
    assert_eq!(plan(&local, None, false), Ok(Action::Upload));
    let same = asset(1, NAME, "uploaded", 10, Some("sha256:ab"));
    assert_eq!(plan(&local, Some(&same), false), Ok(Action::Keep));
    // Without a digest, the size is all there is to compare.
    let undigested = asset(1, NAME, "uploaded", 10, None);
    assert_eq!(plan(&local, Some(&undigested), false), Ok(Action::Keep));
}

#[test]
fn an_interrupted_upload_is_repaired_whatever_its_size() {
    let local = wheel(NAME, 10, "ab");
    let partial = asset(7, NAME, "starter", 4, None);
    assert_eq!(plan(&local, Some(&partial), false), Ok(Action::Repair(7)));
    let full_but_open = asset(8, NAME, "new", 10, None);
    assert_eq!(
        plan(&local, Some(&full_but_open), false),
        Ok(Action::Repair(8))
    );
}

#[test]
fn another_file_of_the_same_name_is_a_conflict_unless_replace() {
    let local = wheel(NAME, 10, "ab");
    let other_size = asset(3, NAME, "uploaded", 11, Some("sha256:cd"));
    let other_digest = asset(4, NAME, "uploaded", 10, Some("sha256:cd"));
    for other in [&other_size, &other_digest] {
        let conflict = plan(&local, Some(other), false).unwrap_err();
        assert!(
            conflict.contains(NAME) && conflict.contains("sha256:cd"),
            "{conflict}"
        );
        assert_eq!(
            plan(&local, Some(other), true),
            Ok(Action::Replace(other.id))
        );
    }
}

#[test]
fn repositories_are_owner_slash_name() {
    let repository: Repository = "octo-org/wheels.x".parse().unwrap();
    assert_eq!(repository.to_string(), "octo-org/wheels.x");
    for bad in ["octo", "a/b/c", "/b", "a/", "a/..", "a b/c"] {
        assert!(bad.parse::<Repository>().is_err(), "{bad}");
    }
}

#[test]
fn the_find_links_page_lists_complete_wheels_with_hashes() {
    let repository: Repository = "o/r".parse().unwrap();
    let assets = [
        asset(1, NAME, "uploaded", 10, Some("sha256:ab")),
        asset(
            2,
            "other-1.0-py3-none-any.whl",
            "uploaded",
            5,
            Some("sha256:EF"),
        ),
        asset(3, "broken-1.0-py3-none-any.whl", "starter", 1, None),
        asset(4, "nodigest-1.0-py3-none-any.whl", "uploaded", 5, None),
        asset(5, INDEX_ASSET, "uploaded", 100, None),
    ];
    let page = find_links_page(&repository, "v1", &assets, &[wheel(NAME, 10, "ab")]);
    insta::assert_snapshot!(page);
}
