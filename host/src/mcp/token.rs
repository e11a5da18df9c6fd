//! The bearer token of `isaac mcp --http`.
//!
//! Loopback is not a boundary between the users and programs of one
//! machine: anything that can connect to the port could call every tool
//! with the owner's grants (files, environment, cache, AI budget, HTTP). So
//! each server start makes a new random token (256 bits from the kernel),
//! writes it to a file only its owner can read, and serves only requests
//! that carry it as `Authorization: Bearer TOKEN`; any other request gets
//! `401` before it reaches the MCP service, so nothing runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// A server's bearer token.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A new token: 32 bytes from the kernel's random source, as hex.
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        Ok(Token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The token's text, for the user and the file.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Write the token to `path`, readable and writable by its owner only
    /// (a new file renamed over any old one, so no other user ever sees a
    /// partly written or more widely readable file).
    pub fn write_to(&self, path: &Path) -> std::io::Result<PathBuf> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new().prefix(".mcp-token-").permissions(private()).tempfile_in(dir)?;
        // Whatever the umask and the builder did: the owner's alone.
        temp.as_file().set_permissions(private())?;
        temp.write_all(self.0.as_bytes())?;
        temp.write_all(b"\n")?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(path.to_owned())
    }

    /// Whether `header` is `Bearer` and this token (compared in constant time).
    fn matches(&self, header: Option<&HeaderValue>) -> bool {
        // The scheme's name is case-insensitive (RFC 9110).
        let text = header.and_then(|h| h.to_str().ok()).unwrap_or_default();
        let Some(given) = text.get(..7).filter(|s| s.eq_ignore_ascii_case("bearer ")).map(|_| &text[7..]) else {
            return false;
        };
        let (given, ours) = (given.trim().as_bytes(), self.0.as_bytes());
        given.len() == ours.len() && given.iter().zip(ours).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

fn private() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

/// The middleware that lets only requests with the token through.
pub(super) async fn require(State(token): State<Token>, request: Request, next: Next) -> Response {
    if token.matches(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    let challenge = [(header::WWW_AUTHENTICATE, "Bearer realm=\"isaac mcp\"")];
    let body = "isaac mcp: this server needs `Authorization: Bearer TOKEN` (the token `isaac mcp --http` printed, also in the file it named)\n";
    (StatusCode::UNAUTHORIZED, challenge, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_matches() {
        let token = Token::generate().unwrap();
        assert_eq!(token.as_str().len(), 64);
        assert_ne!(token.as_str(), Token::generate().unwrap().as_str());
        let header = |text: &str| Some(HeaderValue::from_str(text).unwrap());
        assert!(token.matches(header(&format!("Bearer {}", token.as_str())).as_ref()));
        assert!(token.matches(header(&format!("bearer {}", token.as_str())).as_ref()));
        assert!(!token.matches(None));
        assert!(!token.matches(header(token.as_str()).as_ref()));
        assert!(!token.matches(header(&format!("Basic {}", token.as_str())).as_ref()));
        assert!(!token.matches(header(&format!("Bearer {}", &token.as_str()[..63])).as_ref()));
        assert!(!token.matches(header(&format!("Bearer {}0", token.as_str())).as_ref()));
    }

    #[test]
    fn the_file_is_its_owner_s_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp-token");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let token = Token::generate().unwrap();
        token.write_to(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), token.as_str());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
