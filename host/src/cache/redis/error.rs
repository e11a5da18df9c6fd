//! Why the Redis cold store failed, as a type: the `redis` client's error is
//! the cause, and what isaac knows of it (refused credentials, no answer in
//! time, no connection) is a variant, decided from the client's error kind
//! and the protocol's error code, never from a message's text.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::RedisError;

/// What to do when the server cannot be reached.
const CONNECT_HINT: &str = "is the server running? [storage] cold in config.toml names it; [storage.redis] fallback = \"local\" uses this home's own cache when it is down";

/// Why an operation on the Redis server failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RedisFailure {
    /// The server refused the credentials (`WRONGPASS`, `NOAUTH`).
    #[error("refused {}", whose(password_env.as_deref()))]
    Auth {
        /// The variable that held the password, if one was named.
        password_env: Option<String>,
        /// What the server said.
        #[source]
        source: ClientError,
    },
    /// The server or the connection failed.
    #[error(transparent)]
    Client(ClientError),
    /// No answer within the time allowed.
    #[error("no answer within {} ms ([storage.redis] {setting})", limit.as_millis())]
    Timeout {
        /// The time allowed.
        limit: Duration,
        /// The setting that allows it.
        setting: &'static str,
    },
    /// The client's runtime could not start.
    #[error("could not start the client's runtime")]
    Runtime(#[source] Arc<std::io::Error>),
    /// The client's task ended without an answer.
    #[error("the client stopped")]
    Stopped,
    /// `[storage] cold` is not a Redis URL.
    #[error("not a Redis URL")]
    Url(#[source] ClientError),
    /// `[storage.redis] password_env` names a variable that is not set.
    #[error("[storage.redis] password_env names ${0}, which is not set")]
    PasswordUnset(String),
    /// The first connection failed.
    #[error("could not connect ({CONNECT_HINT})")]
    Connect(#[source] Box<RedisFailure>),
    /// A value to store was not an encoded entry (a bug).
    #[error("an entry was not encoded")]
    NotEncoded,
    /// A script answered what it never answers (a bug, or another isaac's
    /// scripts under the same prefix).
    #[error("{script} answered {reply:?}")]
    Reply {
        /// The script.
        script: &'static str,
        /// Its answer.
        reply: Vec<String>,
    },
}

fn whose(password_env: Option<&str>) -> String {
    match password_env {
        Some(var) => format!("the password in ${var} ([storage.redis] password_env)"),
        None => "no password (set [storage.redis] password_env to the variable that holds it)".to_owned(),
    }
}

impl RedisFailure {
    /// The client's `error`, with `password_env` the variable that held the
    /// password: refused credentials are told apart by the client's kind
    /// and the server's error code.
    pub fn of(error: RedisError, password_env: Option<&str>) -> Self {
        let refused = error.kind() == redis::ErrorKind::AuthenticationFailed
            || matches!(error.code(), Some("WRONGPASS" | "NOAUTH"));
        match refused {
            true => RedisFailure::Auth { password_env: password_env.map(str::to_owned), source: ClientError(error) },
            false => RedisFailure::Client(ClientError(error)),
        }
    }
}

/// An error of the `redis` client, its cause given once. The client's error
/// says its cause's text as its own and gives that cause as its source too
/// (an I/O error, the server's reply); this gives the cause's own source
/// instead, so a chain walked through it says each part once.
#[derive(Debug, Clone)]
pub struct ClientError(pub RedisError);

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for ClientError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source().and_then(Error::source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{OneLine, chain};

    #[test]
    fn a_client_error_says_its_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let failure = RedisFailure::Connect(Box::new(RedisFailure::of(RedisError::from(io), None)));
        assert_eq!(chain(&failure).count(), 2);
        assert_eq!(OneLine(&failure).to_string(), format!("could not connect ({CONNECT_HINT}): Connection refused"));
    }

    #[test]
    fn refused_credentials_are_known_by_the_error_code() {
        let reply = |wire: &[u8]| match redis::parse_redis_value(wire) {
            Ok(redis::Value::ServerError(e)) => RedisError::from(e),
            other => panic!("{other:?}"),
        };
        let wrong = RedisFailure::of(reply(b"-WRONGPASS invalid username-password pair\r\n"), Some("PW"));
        assert!(matches!(wrong, RedisFailure::Auth { ref password_env, .. } if password_env.as_deref() == Some("PW")));
        assert_eq!(chain(&wrong).count(), 2, "the server's reply, once");
        assert!(wrong.to_string().starts_with("refused the password in $PW"), "{wrong}");
        let none = RedisFailure::of(reply(b"-NOAUTH Authentication required.\r\n"), None);
        assert!(matches!(none, RedisFailure::Auth { password_env: None, .. }));
        let other = RedisFailure::of(reply(b"-ERR wrong number of arguments\r\n"), None);
        assert!(matches!(other, RedisFailure::Client(_)));
    }
}
