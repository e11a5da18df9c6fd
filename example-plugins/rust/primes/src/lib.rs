//! `primes`: `primes N` counts the primes below N by trial division: pure
//! computation, no memory to speak of, so its time is the compiled code's
//! (docs/performance.md compares Winch's and Cranelift's with it).

use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin};

struct Primes;

/// The largest N accepted: about a second of Winch code here.
const MAX: u64 = 100_000_000;

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

impl Plugin for Primes {
    fn metadata() -> PluginInfo {
        PluginInfo::new("primes", env!("CARGO_PKG_VERSION"), "Counts the primes below N")
            .command(CommandInfo::new("primes", "Count the primes below N (trial division)", "primes N"))
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        if command != "primes" {
            return Err(Error::Failed(format!("primes has no command `{command}`")));
        }
        let usage = || Error::Usage(format!("usage: primes N (a whole number up to {MAX})"));
        let [n] = args.as_slice() else { return Err(usage()) };
        let n: u64 = n.parse().map_err(|_| usage())?;
        if n > MAX {
            return Err(usage());
        }
        let count = (0..n).filter(|&k| is_prime(k)).count();
        Ok(format!("{count} primes below {n}"))
    }
}

export_plugin!(Primes);
