//! What the plugins of one server block share with each other at setup, by type: the
//! kubernetes plugin publishes its search list for `autopath @kubernetes` and its cluster
//! cache for `k8s_external`. Setup runs in registry order and both of those come before
//! `kubernetes`, so they take a [`Slot`] that `kubernetes` fills later in the same block.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A value one plugin of the block provides and others read, filled at most once.
pub type Slot<T> = Arc<OnceLock<T>>;

#[derive(Default)]
pub struct Extensions {
    slots: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// The block's slot for `T`, created empty by whichever plugin asks first.
    pub fn slot<T: Send + Sync + 'static>(&mut self) -> Slot<T> {
        self.slots
            .entry(TypeId::of::<Slot<T>>())
            .or_insert_with(|| Box::new(Slot::<T>::default()))
            .downcast_ref::<Slot<T>>()
            .cloned()
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_taken_before_it_is_filled_sees_the_value() {
        let mut block = Extensions::default();
        let early: Slot<u32> = block.slot();
        assert!(early.get().is_none());
        block.slot::<u32>().set(7).unwrap();
        assert_eq!(early.get(), Some(&7));
        assert!(block.slot::<String>().get().is_none(), "slots are per type");
    }
}
