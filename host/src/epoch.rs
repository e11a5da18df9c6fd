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
//!   ([`keep_ticking`]), so the signal comes at most once in a process (or
//!   every tick, if no thread can be started).
//!
//!   The signal is a real-time one of isaac's own ([`clock_signal`]), not
//!   `SIGALRM`: a watchdog's `alarm` or `timeout -s ALRM` still ends isaac.
//!   Its handler is installed with `SA_RESTART`, so a system call it
//!   interrupts is restarted rather than failing with `EINTR`; the calls
//!   that are never restarted (`epoll_wait`, `nanosleep`, futex waits) are
//!   tokio's and std's, which retry, and isaac's own stdin reads retry too.
//!   isaac unblocks the signal on that thread (a mask inherited from the
//!   parent would otherwise stop the clock). A store made on another
//!   thread, or a timer that cannot be made or armed, gets the thread.

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
        spawn(engine, stop.clone()).expect("spawning the epoch thread");
        EpochTicker { stop, signal: false }
    }

    /// For a process of one call: a one-shot timer signal to this thread
    /// for the first tick, then a thread if the call still runs (see the
    /// module's notes). A thread at once if the process has a signal clock
    /// already or the timer cannot be made. The clock keeps a handle on
    /// `engine` for the life of the process.
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
            clock.set(Duration::ZERO, Duration::ZERO);
        }
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn spawn(engine: Engine, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    thread::Builder::new()
        .name("isaac-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .map(drop)
}

/// The signal of the clock: a real-time one, which nothing else in the
/// process or around it sends.
pub fn clock_signal() -> libc::c_int {
    libc::SIGRTMIN() + 3
}

/// A call's store is being made: if this process has a signal clock, arm
/// its timer for the first tick (once), or, if that tick has come already,
/// keep ticking with the thread. A store made on a thread the signal does
/// not reach gets the thread at once. Nothing for a thread clock.
pub fn call_starts() {
    let Some(clock) = CLOCK.get() else { return };
    if gettid() != clock.thread {
        keep_ticking();
        return;
    }
    let first = !clock.armed.swap(true, Ordering::Relaxed);
    // A timer that would not arm must not leave the call without a clock.
    if (first && !clock.set(EPOCH_TICK, Duration::ZERO)) || (!first && clock.fired.load(Ordering::Relaxed)) {
        keep_ticking();
    }
}

/// The epoch reached a store's deadline: with a signal clock, its one
/// signal has come and the call runs on, so the thread ticks from now on
/// (or, if no thread can be started, the signal every tick).
pub fn keep_ticking() {
    static THREAD: Once = Once::new();
    if let Some(clock) = CLOCK.get() {
        THREAD.call_once(|| {
            if let Err(e) = spawn(clock.engine.clone(), signal_stop().clone()) {
                tracing::debug!("epoch clock: no thread ({e}); the signal ticks");
                clock.set(EPOCH_TICK, EPOCH_TICK);
            }
        });
    }
}

fn gettid() -> libc::pid_t {
    // SAFETY: `gettid` has no preconditions.
    unsafe { libc::gettid() }
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
    /// The thread it signals.
    thread: libc::pid_t,
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
        let (signal, thread) = (clock_signal(), gettid());
        // SAFETY: plain libc calls on values built here. The sigevent names
        // this thread, which is alive; the handler only does
        // async-signal-safe work (an atomic load, an atomic add, an atomic
        // store) and is installed only once the timer exists.
        let timer = unsafe {
            let mut event: libc::sigevent = std::mem::zeroed();
            event.sigev_notify = libc::SIGEV_THREAD_ID;
            event.sigev_signo = signal;
            event.sigev_notify_thread_id = thread;
            let mut timer: libc::timer_t = std::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) != 0 {
                return Err(os("timer_create"));
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_tick as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            let failed = if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                Some(os("sigaction"))
            } else {
                match libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) {
                    0 => None,
                    code => Some(ClockError::Os {
                        what: "pthread_sigmask",
                        source: std::io::Error::from_raw_os_error(code),
                    }),
                }
            };
            if let Some(e) = failed {
                libc::timer_delete(timer);
                return Err(e);
            }
            timer
        };
        let clock = SignalClock {
            engine: engine.clone(),
            timer: timer as usize,
            thread,
            armed: AtomicBool::new(false),
            fired: AtomicBool::new(false),
        };
        CLOCK.set(clock).map_err(|_| ClockError::Taken)
    }

    /// Fire `after` from now, then every `every` (zero: once; `after` zero:
    /// never); whether the timer took it.
    fn set(&self, after: Duration, every: Duration) -> bool {
        let spec = |d: Duration| libc::timespec {
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        };
        let value = libc::itimerspec { it_interval: spec(every), it_value: spec(after) };
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
        clock.fired.store(true, Ordering::Relaxed);
        clock.engine.increment_epoch();
    }
}
