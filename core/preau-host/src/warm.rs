//! Instances made ahead of their call.
//!
//! Every call still runs in an instance made for it alone and dropped after it; what this module
//! moves is *when* the instance is made. After a call, the host makes the plugin's next instance
//! in the background ([`refill`]): a fresh `Store` whose environment refuses every service and
//! grants nothing, so guest code run at instantiation learns nothing and reaches nothing. The
//! next call takes it ([`WarmSlot::take`]), puts its own environment in ([`State::enter`]) and
//! runs its export. The epoch ticker drops, every second, the ready instances nobody took for
//! `HostConfig::warm_idle` ([`WarmSlots::sweep`]).
//!
//! Each plugin keeps at most one ready instance, and the runtime at most
//! `HostConfig::warm_instances` of them (a semaphore of its own: the pool has that many slots
//! more than the admission limit, so ready instances never keep a call out of the pool).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::{Engine, Store, UpdateDeadline};

use crate::bindings;
use crate::state::{CallEnv, State};
use crate::{CallContext, CallLimits, Grants, Unavailable};

/// Wall time given to making an instance in the background.
const WARM_UP_DEADLINE: Duration = Duration::from_secs(2);
/// After making an instance failed, how long the plugin's calls make their own.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// A plugin's ready instance, and whether one is being made.
#[derive(Default)]
pub(crate) struct WarmSlot {
    inner: Mutex<SlotState>,
    making: AtomicBool,
}

#[derive(Default)]
struct SlotState {
    ready: Option<Ready>,
    /// When making an instance last failed.
    failed: Option<Instant>,
}

/// An instance nobody called yet.
pub(crate) struct Ready {
    store: Store<State>,
    instance: bindings::Plugin,
    made: Instant,
    /// One of the runtime's ready-instance places, given back when a call takes it.
    _place: OwnedSemaphorePermit,
}

impl WarmSlot {
    /// The slot's state, even if a thread panicked holding the lock (each field is replaced
    /// whole, so what it guards stays consistent).
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ready instance, if there is one made for a memory of `memory_bytes` (one made for
    /// another memory is dropped).
    pub(crate) fn take(&self, memory_bytes: usize) -> Option<(Store<State>, bindings::Plugin)> {
        let ready = self.lock().ready.take()?;
        (ready.store.data().limiter.memory_bytes == memory_bytes)
            .then_some((ready.store, ready.instance))
    }

    /// Whether an instance is ready (tests).
    pub(crate) fn is_ready(&self) -> bool {
        self.lock().ready.is_some()
    }

    /// Whether the next instance should be made now: none is ready and the last attempt did
    /// not fail lately.
    fn wants_one(&self) -> bool {
        let state = self.lock();
        state.ready.is_none()
            && state
                .failed
                .is_none_or(|at| at.elapsed() >= RETRY_AFTER_FAILURE)
    }
}

/// Clears the slot's `making` flag however the making ends (done, failed, cancelled, the
/// plugin gone).
struct Making(Weak<WarmSlot>);

impl Drop for Making {
    fn drop(&mut self) {
        if let Some(slot) = self.0.upgrade() {
            slot.making.store(false, Ordering::Release);
        }
    }
}

/// A store in which the plugin is about to be instantiated, for a memory of `memory_bytes`:
/// no user, no establishment, every service unavailable, nothing granted. A call's own
/// environment goes in after instantiation ([`State::enter`]), whether the instance was made
/// ahead or by the call itself, so that code a component runs at instantiation sees the same
/// nothing either way.
pub(crate) fn store(engine: &Engine, memory_bytes: usize, component: String) -> Store<State> {
    let env = CallEnv {
        ctx: CallContext::new("", "", None, "préparation / warm-up"),
        services: Arc::new(Unavailable),
        grants: Arc::new(Grants::default()),
        limits: CallLimits {
            memory_bytes,
            ..CallLimits::default()
        },
    };
    let mut store = Store::new(engine, State::new(env, component));
    store.limiter(|s| &mut s.limiter);
    store
}

/// Instantiates the plugin in `store` (from [`store`]); an instance that opened a file stream
/// while starting is refused: nothing of its making may reach a call but its memory.
pub(crate) async fn instantiate(
    pre: &bindings::PluginPre<State>,
    store: &mut Store<State>,
) -> wasmtime::Result<bindings::Plugin> {
    let instance = pre.instantiate_async(&mut *store).await?;
    if !store.data().streams.is_empty() {
        return Err(wasmtime::Error::new(StreamAtStart));
    }
    Ok(instance)
}

/// A component that opened a file stream while being instantiated.
#[derive(Debug, thiserror::Error)]
#[error("le service a ouvert un flux en démarrant / the service opened a stream while starting")]
pub(crate) struct StreamAtStart;

/// Interrupts the store's guest code at `until`, or at the next tick once `closed` is set (the
/// runtime is gone); checked at each epoch tick, yielding to tokio between ticks.
pub(crate) fn set_deadline(store: &mut Store<State>, until: Instant, closed: Arc<AtomicBool>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(
            if closed.load(Ordering::Relaxed) || Instant::now() >= until {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            },
        )
    });
}

/// What [`refill`] needs of the runtime and the plugin, owned (it runs in a task of its own).
pub(crate) struct Maker {
    pub engine: Engine,
    pub pre: bindings::PluginPre<State>,
    pub component: String,
    /// The runtime's closing flag.
    pub closed: Arc<AtomicBool>,
}

/// Starts making the plugin's next instance, for a memory of `memory_bytes`, unless one is
/// ready or being made, making one failed lately, every ready-instance place is taken, or there
/// is no tokio runtime to make it on.
pub(crate) fn refill(
    slot: &Arc<WarmSlot>,
    places: &Arc<Semaphore>,
    maker: impl FnOnce() -> Maker,
    memory_bytes: usize,
) {
    if !slot.wants_one() || slot.making.swap(true, Ordering::AcqRel) {
        return;
    }
    let making = Making(Arc::downgrade(slot));
    // Again, now that no other task can start: one may have finished in between.
    if !slot.wants_one() {
        return;
    }
    let (Ok(handle), Ok(place)) = (
        tokio::runtime::Handle::try_current(),
        places.clone().try_acquire_owned(),
    ) else {
        return;
    };
    let maker = maker();
    handle.spawn(async move {
        let mut store = store(&maker.engine, memory_bytes, maker.component);
        set_deadline(
            &mut store,
            Instant::now() + WARM_UP_DEADLINE,
            maker.closed.clone(),
        );
        let made = tokio::time::timeout(
            WARM_UP_DEADLINE + crate::call::GRACE,
            instantiate(&maker.pre, &mut store),
        )
        .await;
        let Some(slot) = making.0.upgrade() else {
            return;
        };
        let failure = match made {
            Ok(Ok(instance)) => {
                let ready = Ready {
                    store,
                    instance,
                    made: Instant::now(),
                    _place: place,
                };
                let extra = {
                    let mut state = slot.lock();
                    state.failed = None;
                    if state.ready.is_none() {
                        state.ready = Some(ready);
                        None
                    } else {
                        Some(ready)
                    }
                };
                // A slot filled meanwhile keeps its instance; this one is dropped unlocked.
                drop(extra);
                return;
            }
            Ok(Err(e)) => format!("{e:#}"),
            Err(_) => "hors délai / out of time".to_owned(),
        };
        tracing::warn!(
            component = store.data().component,
            error = failure,
            "préparation d'une instance en échec, nouvel essai dans 10 s / making an instance \
             failed, next attempt in 10 s"
        );
        slot.lock().failed = Some(Instant::now());
    });
}

/// Every plugin's slot, for the sweep.
pub(crate) struct WarmSlots {
    slots: Mutex<Vec<Weak<WarmSlot>>>,
    idle: Duration,
}

impl WarmSlots {
    /// Ready instances idle for `idle` will be dropped.
    pub(crate) fn new(idle: Duration) -> WarmSlots {
        WarmSlots {
            slots: Mutex::default(),
            idle,
        }
    }

    /// A new plugin's slot.
    pub(crate) fn slot(&self) -> Arc<WarmSlot> {
        let slot = Arc::new(WarmSlot::default());
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|s| s.strong_count() > 0);
        slots.push(Arc::downgrade(&slot));
        slot
    }

    /// Drops the ready instances made more than `idle` ago.
    pub(crate) fn sweep(&self) {
        let slots: Vec<Arc<WarmSlot>> = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for slot in slots {
            let stale = {
                let mut state = slot.lock();
                match &state.ready {
                    Some(r) if r.made.elapsed() >= self.idle => state.ready.take(),
                    _ => None,
                }
            };
            drop(stale);
        }
    }
}
