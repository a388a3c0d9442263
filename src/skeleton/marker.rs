//! `Requires-Dist` entries: the project name, and whether the entry's environment marker
//! (PEP 508) holds on the target, CPython 3.14 on WASI.
//!
//! This module owns the small subset of PEP 508 a recipe needs: the name of a requirement and
//! the evaluation of its marker against [`TARGET`]. Version specifiers are not kept (a recipe
//! pins one version of each package); `extra` is never set, so optional dependencies drop out.

/// The marker variables of the target runtime (componentize-py's CPython 3.14 for WASI).
pub const TARGET: &[(&str, &str)] = &[
    ("python_version", "3.14"),
    ("python_full_version", "3.14.0"),
    ("implementation_version", "3.14.0"),
    ("implementation_name", "cpython"),
    ("platform_python_implementation", "CPython"),
    ("os_name", "posix"),
    ("sys_platform", "wasi"),
    ("platform_system", "wasi"),
    ("platform_machine", "wasm32"),
    ("platform_release", ""),
    ("platform_version", ""),
    ("extra", ""),
];

/// One `Requires-Dist` value, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub name: String,
    pub marker: Option<String>,
}

impl Requirement {
    /// Parses `name [extras] (specifiers) ; marker`; `None` when there is no valid name.
    pub fn parse(text: &str) -> Option<Requirement> {
        let (spec, marker) = match text.split_once(';') {
            Some((spec, marker)) => (spec, Some(marker.trim().to_string())),
            None => (text, None),
        };
        let spec = spec.trim();
        let end = spec
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(spec.len());
        let name = &spec[..end];
        let valid = name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        valid.then(|| Requirement {
            name: name.to_string(),
            marker: marker.filter(|m| !m.is_empty()),
        })
    }

    /// Whether the requirement applies on the target; `Err` names what was not understood.
    pub fn applies(&self) -> Result<bool, String> {
        match &self.marker {
            None => Ok(true),
            Some(marker) => evaluate(marker),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Variable(String),
    Text(String),
    Operator(String),
    And,
    Or,
    Open,
    Close,
}

fn tokenize(marker: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let characters: Vec<char> = marker.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            ' ' | '\t' => index += 1,
            '(' => {
                tokens.push(Token::Open);
                index += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                index += 1;
            }
            '\'' | '"' => {
                let end = characters[index + 1..]
                    .iter()
                    .position(|c| *c == character)
                    .ok_or_else(|| format!("unterminated string in `{marker}`"))?;
                tokens.push(Token::Text(
                    characters[index + 1..index + 1 + end].iter().collect(),
                ));
                index += end + 2;
            }
            '=' | '!' | '<' | '>' | '~' => {
                let mut end = index;
                while end < characters.len() && "=!<>~".contains(characters[end]) {
                    end += 1;
                }
                let operator: String = characters[index..end].iter().collect();
                if !["==", "!=", "<=", ">=", "<", ">", "~=", "==="].contains(&operator.as_str()) {
                    return Err(format!("unknown operator `{operator}` in `{marker}`"));
                }
                tokens.push(Token::Operator(operator));
                index = end;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = index;
                while end < characters.len()
                    && (characters[end].is_ascii_alphanumeric()
                        || matches!(characters[end], '_' | '.'))
                {
                    end += 1;
                }
                let word: String = characters[index..end].iter().collect();
                index = end;
                match word.as_str() {
                    "and" => tokens.push(Token::And),
                    "or" => tokens.push(Token::Or),
                    "in" => tokens.push(Token::Operator("in".into())),
                    "not" => {
                        // `not in`
                        let rest: String = characters[index..].iter().collect();
                        let trimmed = rest.trim_start();
                        if !trimmed.starts_with("in") {
                            return Err(format!("`not` without `in` in `{marker}`"));
                        }
                        index += rest.len() - trimmed.len() + 2;
                        tokens.push(Token::Operator("not in".into()));
                    }
                    _ => tokens.push(Token::Variable(word)),
                }
            }
            other => return Err(format!("unexpected `{other}` in `{marker}`")),
        }
    }
    Ok(tokens)
}

/// Evaluates a PEP 508 marker against [`TARGET`].
pub fn evaluate(marker: &str) -> Result<bool, String> {
    let tokens = tokenize(marker)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        marker,
    };
    let value = parser.or()?;
    if parser.at != tokens.len() {
        return Err(format!("trailing text in `{marker}`"));
    }
    Ok(value)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    marker: &'a str,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut value = self.and()?;
        while self.tokens.get(self.at) == Some(&Token::Or) {
            self.at += 1;
            let right = self.and()?;
            value = value || right;
        }
        Ok(value)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut value = self.expression()?;
        while self.tokens.get(self.at) == Some(&Token::And) {
            self.at += 1;
            let right = self.expression()?;
            value = value && right;
        }
        Ok(value)
    }

    fn expression(&mut self) -> Result<bool, String> {
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.at += 1;
            let value = self.or()?;
            if self.next() != Some(&Token::Close) {
                return Err(format!("unbalanced parentheses in `{}`", self.marker));
            }
            return Ok(value);
        }
        let left = self.value()?;
        let operator = match self.next() {
            Some(Token::Operator(operator)) => operator.clone(),
            _ => return Err(format!("expected an operator in `{}`", self.marker)),
        };
        let right = self.value()?;
        compare(&left, &operator, &right)
    }

    fn value(&mut self) -> Result<String, String> {
        let marker = self.marker;
        match self.next() {
            Some(Token::Text(text)) => Ok(text.clone()),
            Some(Token::Variable(name)) => TARGET
                .iter()
                .find(|(variable, _)| variable == name)
                .map(|(_, value)| value.to_string())
                .ok_or_else(|| format!("unknown marker variable `{name}` in `{marker}`")),
            _ => Err(format!("expected a value in `{marker}`")),
        }
    }
}

/// The numeric release segments of a version (`3.14.0rc1` → [3, 14, 0]); `None` if it does
/// not start with a number.
fn release(version: &str) -> Option<Vec<u64>> {
    let mut parts = Vec::new();
    for part in version.trim().split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        parts.push(digits.parse().ok()?);
        if digits.len() != part.len() {
            break;
        }
    }
    (!parts.is_empty()).then_some(parts)
}

fn compare_releases(left: &[u64], right: &[u64]) -> std::cmp::Ordering {
    let length = left.len().max(right.len());
    let pad = |v: &[u64]| {
        let mut v = v.to_vec();
        v.resize(length, 0);
        v
    };
    pad(left).cmp(&pad(right))
}

fn compare(left: &str, operator: &str, right: &str) -> Result<bool, String> {
    use std::cmp::Ordering::*;
    match operator {
        "in" => return Ok(right.contains(left)),
        "not in" => return Ok(!right.contains(left)),
        "===" => return Ok(left == right),
        _ => {}
    }
    if let Some(prefix) = right.strip_suffix(".*")
        && matches!(operator, "==" | "!=")
    {
        let matches = match (release(left), release(prefix)) {
            (Some(l), Some(p)) => l.len() >= p.len() && l[..p.len()] == p[..],
            _ => false,
        };
        return Ok(matches == (operator == "=="));
    }
    match (release(left), release(right)) {
        (Some(l), Some(r)) => {
            let order = compare_releases(&l, &r);
            Ok(match operator {
                "==" => order == Equal,
                "!=" => order != Equal,
                "<" => order == Less,
                "<=" => order != Greater,
                ">" => order == Greater,
                ">=" => order != Less,
                "~=" => {
                    order != Less
                        && r.len() >= 2
                        && compare_releases(&l[..(r.len() - 1).min(l.len())], &r[..r.len() - 1])
                            == Equal
                }
                _ => unreachable!("operators are checked when tokenizing"),
            })
        }
        _ => match operator {
            "==" => Ok(left == right),
            "!=" => Ok(left != right),
            _ => Err(format!(
                "cannot order `{left}` and `{right}` with `{operator}`"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Requirement, evaluate};

    #[test]
    fn requirements_split_into_name_and_marker() {
        assert_eq!(
            Requirement::parse("six >=1.5"),
            Some(Requirement {
                name: "six".into(),
                marker: None
            })
        );
        assert_eq!(
            Requirement::parse("tomli[extra] (>=1); python_version < \"3.11\""),
            Some(Requirement {
                name: "tomli".into(),
                marker: Some("python_version < \"3.11\"".into())
            })
        );
        assert_eq!(Requirement::parse(">=1"), None);
    }

    #[test]
    fn markers_are_judged_for_cpython_3_14_on_wasi() {
        let cases = [
            ("python_version < \"3.11\"", false),
            ("python_version >= '3.9'", true),
            ("python_version > '3.8' and python_version < '3.15'", true),
            ("extra == 'test'", false),
            ("extra == \"dev\" or python_version < '3.11'", false),
            ("sys_platform == 'win32'", false),
            ("sys_platform != 'win32'", true),
            ("platform_python_implementation != 'PyPy'", true),
            (
                "implementation_name == 'cpython' and (os_name == 'nt' or extra == 'x')",
                false,
            ),
            ("python_full_version == '3.14.*'", true),
            ("python_version ~= '3.10'", true),
            ("'wasi' in sys_platform", true),
            ("platform_machine not in 'x86_64 aarch64'", true),
        ];
        for (marker, expected) in cases {
            assert_eq!(evaluate(marker), Ok(expected), "{marker}");
        }
        assert!(evaluate("python_version <").is_err());
        assert!(evaluate("os_nam == 'posix'").is_err());
    }
}
