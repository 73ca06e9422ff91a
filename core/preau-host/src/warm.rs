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

/// A plugin's ready instance, and whether one is being made.
#[derive(Default)]
pub(crate) struct WarmSlot {
    ready: Mutex<Option<Ready>>,
    making: AtomicBool,
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
    /// The ready instance, if there is one made for a memory of `memory_bytes` (one made for
    /// another memory is dropped).
    pub(crate) fn take(&self, memory_bytes: usize) -> Option<(Store<State>, bindings::Plugin)> {
        let ready = lock(&self.ready).take()?;
        (ready.store.data().limiter.memory_bytes == memory_bytes)
            .then_some((ready.store, ready.instance))
    }

    /// Whether an instance is ready (tests).
    pub(crate) fn is_ready(&self) -> bool {
        lock(&self.ready).is_some()
    }
}

/// The lock of a slot, even if a thread panicked holding it (what it guards stays consistent:
/// an `Option` replaced whole).
fn lock(ready: &Mutex<Option<Ready>>) -> std::sync::MutexGuard<'_, Option<Ready>> {
    ready.lock().unwrap_or_else(|e| e.into_inner())
}

/// A new store for `env`, with the memory limiter.
pub(crate) fn new_store(engine: &Engine, env: CallEnv, component: String) -> Store<State> {
    let mut store = Store::new(engine, State::new(env, component));
    store.limiter(|s| &mut s.limiter);
    store
}

/// Interrupts the store's guest code at `until` (checked at each epoch tick, yielding to tokio
/// between ticks).
pub(crate) fn set_deadline(store: &mut Store<State>, until: Instant) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(if Instant::now() >= until {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Yield(1)
        })
    });
}

/// The environment an instance is made in: no user, no establishment, every service
/// unavailable, nothing granted.
fn warm_up_env(memory_bytes: usize) -> CallEnv {
    CallEnv {
        ctx: CallContext::new("", "", None, "préparation / warm-up"),
        services: Arc::new(Unavailable),
        grants: Arc::new(Grants::default()),
        limits: CallLimits {
            memory_bytes,
            ..CallLimits::default()
        },
    }
}

/// What [`refill`] needs of the runtime and the plugin, owned (it runs in a task of its own).
pub(crate) struct Maker {
    pub engine: Engine,
    pub pre: bindings::PluginPre<State>,
    pub component: String,
    pub places: Arc<Semaphore>,
    pub slot: Weak<WarmSlot>,
}

/// Starts making the plugin's next instance, for a memory of `memory_bytes`, within `deadline`,
/// unless one is ready or being made, every ready-instance place is taken, or there is no tokio
/// runtime to make it on.
pub(crate) fn refill(
    maker: impl FnOnce() -> Maker,
    slot: &WarmSlot,
    memory_bytes: usize,
    deadline: Duration,
) {
    if lock(&slot.ready).is_some() || slot.making.swap(true, Ordering::AcqRel) {
        return;
    }
    let maker = maker();
    let (Ok(handle), Ok(place)) = (
        tokio::runtime::Handle::try_current(),
        maker.places.clone().try_acquire_owned(),
    ) else {
        slot.making.store(false, Ordering::Release);
        return;
    };
    handle.spawn(async move {
        let mut store = new_store(&maker.engine, warm_up_env(memory_bytes), maker.component);
        let until = Instant::now() + deadline;
        set_deadline(&mut store, until);
        let made = tokio::time::timeout(
            deadline + crate::call::GRACE,
            maker.pre.instantiate_async(&mut store),
        )
        .await;
        let Some(slot) = maker.slot.upgrade() else {
            return;
        };
        match made {
            // An instance that opened a stream while being made is not kept: nothing of its
            // making reaches a call but its memory.
            Ok(Ok(instance)) if store.data().streams.is_empty() => {
                *lock(&slot.ready) = Some(Ready {
                    store,
                    instance,
                    made: Instant::now(),
                    _place: place,
                });
            }
            Ok(Ok(_)) => tracing::warn!(
                component = store.data().component,
                "un service a ouvert un flux en démarrant / a service opened a stream while starting"
            ),
            Ok(Err(e)) => tracing::warn!(
                component = store.data().component,
                error = %e,
                "préparation d'une instance en échec / making an instance failed"
            ),
            Err(_) => tracing::warn!(
                component = store.data().component,
                "préparation d'une instance hors délai / making an instance ran out of time"
            ),
        }
        slot.making.store(false, Ordering::Release);
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
                let mut ready = lock(&slot.ready);
                match &*ready {
                    Some(r) if r.made.elapsed() >= self.idle => ready.take(),
                    _ => None,
                }
            };
            drop(stale);
        }
    }
}
