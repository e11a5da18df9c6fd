//! Leaving a one-shot command without taking the host apart.
//!
//! When `isaac run` has printed its result and recorded the run, nothing of
//! the host is needed any more, and the kernel releases all of it at exit
//! in one go. Dropping it first would only add work to every run: closing
//! the LMDB environment (unmapping its map), dropping the engine and its
//! code mappings, the async runtimes and the epoch ticker, and freeing
//! every allocation one by one. Nothing in the host holds data that only a
//! destructor writes out: the run record and the cache's statistics were
//! saved by [`Context::finish`], committed LMDB writes are in the page
//! cache, the function cache wrote its pack when its compile ended (its
//! `Drop` only catches a compile that failed part-way), and stdout is flushed by the runtime's exit as for any other
//! command. A reader slot LMDB leaves behind is cleared by the next open
//! (`State::open`).

use super::Context;

/// Let the process exit with `cx` (and the host it opened) still in place.
pub fn leave(cx: Context) {
    std::mem::forget(cx);
}
