//! Glob patterns for `invalidate`: `*` matches any run of characters (also
//! none), `?` exactly one character, and `\` makes the next character
//! literal. Everything else matches itself: `user:123:*`.

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, text index).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('\\') if p.get(pi + 1) == Some(&t[ti]) => {
                pi += 2;
                ti += 1;
                continue;
            }
            Some(&c) if c != '\\' && c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((after, from)) => {
                pi = after;
                ti = from + 1;
                star = Some((after, from + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The literal text every match starts with: the pattern up to its first
/// `*` or `?`, with escapes resolved. An L3 invalidation scans only the keys
/// that start with it.
pub fn literal_prefix(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => break,
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("user:123:*", "user:123:name", true),
            ("user:123:*", "user:123:", true),
            ("user:123:*", "user:1234:x", false),
            ("*", "", true),
            ("*", "anything", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*b*c", "xxbyyc", true),
            ("*b*c", "xxbyy", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("é*", "été", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern:?} ~ {text:?}");
        }
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(literal_prefix("user:123:*"), "user:123:");
        assert_eq!(literal_prefix("*x"), "");
        assert_eq!(literal_prefix("ab?c"), "ab");
        assert_eq!(literal_prefix("a\\*b*"), "a*b");
        assert_eq!(literal_prefix("plain"), "plain");
    }
}
