//! The open-file limit, raised at start from the soft limit to the hard one.
//! A wide AI batch holds a socket per request, and 500 requests need more
//! than the soft limit most systems start a shell with (1024). The soft
//! limit protects programs that `select(2)` on descriptors; isaac uses epoll.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The soft limit set when the hard limit is unlimited (Linux refuses more
/// than `fs.nr_open`, 1 048 576 by default).
const UNLIMITED_SOFT: u64 = 1 << 20;

/// Raise the soft `RLIMIT_NOFILE` to the hard limit; a refusal changes
/// nothing and is not an error (isaac then works within the soft one).
pub fn raise_open_files() {
    let limit = getrlimit(Resource::Nofile);
    let Some(current) = limit.current else { return };
    let wanted = limit.maximum.unwrap_or(UNLIMITED_SOFT);
    if current < wanted
        && let Err(e) = setrlimit(Resource::Nofile, Rlimit { current: Some(wanted), maximum: limit.maximum })
    {
        tracing::debug!("the open-file limit stays at {current}: raising it to {wanted} failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_reaches_the_hard_one() {
        raise_open_files();
        let limit = getrlimit(Resource::Nofile);
        assert_eq!(limit.current, Some(limit.maximum.unwrap_or(UNLIMITED_SOFT)));
    }
}
