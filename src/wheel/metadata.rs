//! Core metadata (`METADATA`, `WHEEL`): RFC 822-style header blocks.
//!
//! Only the header block is parsed; the description body after the first blank line is kept
//! verbatim by callers that need the bytes (PEP 658 serves the file unchanged).

/// The header fields of a metadata file, in order; repeated fields appear repeatedly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    pub fields: Vec<(String, String)>,
}

impl Headers {
    pub fn parse(text: &str) -> Headers {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                // RFC 822 unfolding: a continuation line continues the value after a space.
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                fields.push((key.trim().to_string(), value.trim().to_string()));
            }
        }
        Headers { fields }
    }

    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key` (case-insensitive).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Headers;

    #[test]
    fn parses_headers_until_the_body() {
        let text = "Metadata-Version: 2.1\nName: six\nRequires-Dist: a\nRequires-Dist: b\nLicense: MIT\n  continued\n\nName: body\n";
        let headers = Headers::parse(text);
        assert_eq!(headers.get("name"), Some("six"));
        assert_eq!(
            headers.get_all("Requires-Dist").collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(headers.get("License"), Some("MIT continued"));
    }
}
