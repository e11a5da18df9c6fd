//! The clock of call deadlines: what advances the engine's epoch.
//!
//! Compiled wasm checks the engine's epoch at every function entry and loop
//! back-edge; when it reaches the store's deadline, the store's callback
//! checks the call's real deadline and cancel flag (`sandbox.rs`). Something
//! must advance the epoch while wasm runs, every [`EPOCH_TICK`]:
//!
//! - **A thread** ([`EpochTicker::thread`]), for hosts of many calls.
//! - **One timer signal first** ([`EpochTicker::signal`]), for `isaac run`:
//!   one call, then the process leaves. Starting a thread and having the
//!   kernel reap it at exit cost ~80 µs of a 2.5 ms run, and most calls end
//!   long before the first tick. So the first tick is a one-shot POSIX timer
//!   aimed at the thread that opened the host, armed when the first call's
//!   store is made ([`call_starts`]); its handler only advances the epoch
//!   (`Engine::increment_epoch` is async-signal-safe). If the call is still
//!   running then, the deadline callback starts the ticking thread
//!   ([`keep_ticking`]), so the signal comes at most once in a process.
//!   Its handler is installed with `SA_RESTART`, so a system call it
//!   interrupts is restarted rather than failing with `EINTR`; the calls
//!   that are never restarted (`epoll_wait`, `nanosleep`) are tokio's and
//!   std's, which retry. The signal is unblocked on that thread (a blocked
//!   `SIGALRM` inherited from the parent would otherwise stop the clock).
//!   If the timer cannot be made, the clock is a thread as for any host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::thread;
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances. At each tick a running guest yields and the
/// host checks its deadline and cancel flag, so a call is cut at most one tick
/// after its deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Advances an engine's epoch until dropped.
pub struct EpochTicker {
    /// The thread's stop flag (for a signal clock: the shared one).
    stop: Arc<AtomicBool>,
    signal: bool,
}

impl EpochTicker {
    /// A thread that advances `engine`'s epoch every [`EPOCH_TICK`].
    pub fn thread(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        spawn(engine, stop.clone());
        EpochTicker { stop, signal: false }
    }

    /// For a process of one call: a one-shot timer signal to this thread
    /// for the first tick, then a thread if the call still runs (see the
    /// module's notes). A thread at once if the process has a signal clock
    /// already or the timer cannot be made.
    pub fn signal(engine: Engine) -> Self {
        match SignalClock::install(&engine) {
            Ok(()) => EpochTicker { stop: signal_stop().clone(), signal: true },
            Err(e) => {
                tracing::debug!("epoch clock: a thread ({e})");
                Self::thread(engine)
            }
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        if self.signal
            && let Some(clock) = CLOCK.get()
        {
            clock.disarm();
        }
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn spawn(engine: Engine, stop: Arc<AtomicBool>) {
    thread::Builder::new()
        .name("isaac-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch thread");
}

/// A call's store is being made: if this process has a signal clock, arm
/// its timer for the first tick (once), or, if that tick has come already,
/// keep ticking with the thread. Nothing for a thread clock.
pub fn call_starts() {
    let Some(clock) = CLOCK.get() else { return };
    let first = !clock.armed.swap(true, Ordering::Relaxed);
    // A timer that would not arm must not leave the call without a clock.
    if (first && !clock.arm()) || (!first && clock.fired.load(Ordering::Relaxed)) {
        keep_ticking();
    }
}

/// The epoch reached a store's deadline: with a signal clock, its one
/// signal has come and the call runs on, so the thread ticks from now on.
pub fn keep_ticking() {
    static THREAD: Once = Once::new();
    if let Some(clock) = CLOCK.get() {
        THREAD.call_once(|| spawn(clock.engine.clone(), signal_stop().clone()));
    }
}

fn signal_stop() -> &'static Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(Arc::default)
}

/// The process's one signal clock.
static CLOCK: OnceLock<SignalClock> = OnceLock::new();

struct SignalClock {
    engine: Engine,
    /// The POSIX timer (a `timer_t`, an opaque kernel id).
    timer: usize,
    armed: AtomicBool,
    fired: AtomicBool,
}

/// Why a signal clock could not be made.
#[derive(Debug, thiserror::Error)]
enum ClockError {
    #[error("this process has a signal clock already")]
    Taken,
    #[error("{what}: {source}")]
    Os { what: &'static str, source: std::io::Error },
}

fn os(what: &'static str) -> ClockError {
    ClockError::Os { what, source: std::io::Error::last_os_error() }
}

impl SignalClock {
    fn install(engine: &Engine) -> Result<(), ClockError> {
        if CLOCK.get().is_some() {
            return Err(ClockError::Taken);
        }
        // SAFETY: plain libc calls on values built here: the handler only
        // does async-signal-safe work (an atomic load, an atomic add, an
        // atomic store); the sigevent names this thread, which is alive.
        let timer = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_tick as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut()) != 0 {
                return Err(os("sigaction"));
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGALRM);
            if libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(os("pthread_sigmask"));
            }
            let mut event: libc::sigevent = std::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = libc::SIGALRM;
            event.sigev_notify_thread_id = libc::gettid();
            let mut timer: libc::timer_t = std::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) != 0 {
                return Err(os("timer_create"));
            }
            timer
        };
        let clock = SignalClock {
            engine: engine.clone(),
            timer: timer as usize,
            armed: AtomicBool::new(false),
            fired: AtomicBool::new(false),
        };
        CLOCK.set(clock).map_err(|_| ClockError::Taken)
    }

    /// Fire once, one tick from now; whether the timer took it.
    fn arm(&self) -> bool {
        self.set(EPOCH_TICK)
    }

    /// Never fire.
    fn disarm(&self) {
        self.set(Duration::ZERO);
    }

    fn set(&self, after: Duration) -> bool {
        let value = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: after.as_secs() as libc::time_t, tv_nsec: after.subsec_nanos().into() },
        };
        // SAFETY: the timer made by `install`, never deleted.
        let status = unsafe { libc::timer_settime(self.timer as libc::timer_t, 0, &value, std::ptr::null_mut()) };
        if status != 0 {
            tracing::debug!("epoch clock: timer_settime: {}", std::io::Error::last_os_error());
        }
        status == 0
    }
}

extern "C" fn on_tick(_signal: libc::c_int) {
    if let Some(clock) = CLOCK.get() {
        clock.engine.increment_epoch();
        clock.fired.store(true, Ordering::Relaxed);
    }
}
