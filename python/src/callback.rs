//! The callback in progress on the engine thread: while a listener's `on_new_message` runs,
//! `Session.put()` and the session getters reach the engine through the callback's
//! [`Context`] instead of sending a command (which would wait for the thread that is running
//! the callback).

use std::cell::Cell;

use fixgate_core::{Delivered, SessionId};
use fixgate_driver::Context;

/// The callback in progress: the driver's borrows, erased for the time of the callback.
struct Frame {
    ctx: *mut Context<'static>,
    session: *const SessionId,
    delivered: *const Delivered,
    /// Whether a `put()` on `session` answered `delivered` already.
    replied: bool,
}

thread_local! {
    static FRAME: Cell<Option<Frame>> = const { Cell::new(None) };
}

/// Puts back the frame that was in place before [`enter`], even if its closure unwinds.
struct Restore(Option<Frame>);

impl Drop for Restore {
    fn drop(&mut self) {
        FRAME.set(self.0.take());
    }
}

/// Runs `f` (the listener's call) with `ctx`, `session` and `delivered` reachable through
/// [`with_frame`]; returns its result and whether a `put()` replied to `delivered`.
pub(crate) fn enter<R>(
    ctx: &mut Context<'_>,
    session: &SessionId,
    delivered: &Delivered,
    f: impl FnOnce() -> R,
) -> (R, bool) {
    let frame = Frame {
        ctx: (ctx as *mut Context<'_>).cast::<Context<'static>>(),
        session,
        delivered,
        replied: false,
    };
    let restore = Restore(FRAME.replace(Some(frame)));
    let result = f();
    let replied = FRAME.take().is_some_and(|frame| frame.replied);
    drop(restore);
    (result, replied)
}

/// Calls `f` with the callback in progress on this thread (its context, session, message, and
/// whether that message has been replied to); `None` outside a callback.
pub(crate) fn with_frame<R>(
    f: impl FnOnce(&mut Context<'_>, &SessionId, &Delivered, &mut bool) -> R,
) -> Option<R> {
    // Taken out while in use: a second use (none is possible: `f` calls no Python) finds none.
    let mut frame = FRAME.take()?;
    // SAFETY: a frame is set only by `enter`, from references that live until `enter` returns,
    // and `enter` removes it before it returns (or unwinds, through `Restore`). It is out of the
    // cell while `f` runs, so these are the only references made from it. `f` is generic over
    // the context's lifetime, so it cannot keep what it is given.
    let result = unsafe {
        f(
            &mut *frame.ctx,
            &*frame.session,
            &*frame.delivered,
            &mut frame.replied,
        )
    };
    FRAME.set(Some(frame));
    Some(result)
}

/// Runs `f` (a listener's call that has no message to answer) with `ctx` reachable for the
/// session getters; a `put()` inside it is a plain send.
pub(crate) fn enter_without_message<R>(ctx: &mut Context<'_>, f: impl FnOnce() -> R) -> (R, bool) {
    // No message: a put() on any session is not a reply ("replied" is set from the start).
    let session = SessionId::new("", "");
    let delivered = Delivered::default();
    let frame = Frame {
        ctx: (ctx as *mut Context<'_>).cast::<Context<'static>>(),
        session: &session,
        delivered: &delivered,
        replied: true,
    };
    let restore = Restore(FRAME.replace(Some(frame)));
    let result = f();
    FRAME.take();
    drop(restore);
    (result, false)
}
