//! Each installed plugin's [`Provenance`], in the `sources` database of the
//! home's LMDB environment.

use std::sync::Arc;

use super::Provenance;
use crate::state::{State, StateError};

/// Where installed plugins came from.
pub struct Sources {
    state: Arc<State>,
}

impl Sources {
    /// The records in `state`.
    pub fn new(state: Arc<State>) -> Self {
        Sources { state }
    }

    /// Plugin `name`'s record; `None` for a plugin placed in the plugins
    /// folder by hand (or installed by an isaac that kept no record).
    pub fn get(&self, name: &str) -> Result<Option<Provenance>, StateError> {
        self.state.get_json(self.state.sources, name)
    }

    /// Record where plugin `name` came from.
    pub fn put(&self, name: &str, provenance: &Provenance) -> Result<(), StateError> {
        self.state.put_json(self.state.sources, name, Some(provenance))
    }

    /// Forget plugin `name`'s record.
    pub fn remove(&self, name: &str) -> Result<(), StateError> {
        self.state.put_json::<Provenance>(self.state.sources, name, None)
    }
}
