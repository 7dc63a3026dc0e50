//! The backend-independent part of writing a group of sources: which entries store their
//! chunks (a source named twice in one group keeps only its last version), and cutting the
//! inserted chunk ids back per entry.

use crate::records::NewChunk;
use brandpilot_core::ChunkId;
use std::collections::HashMap;

/// Each source's last position in a group.
pub(crate) struct LastVersions(HashMap<i64, usize>);

impl LastVersions {
    pub(crate) fn of(sources: &[(i64, &[NewChunk])]) -> Self {
        let mut latest = HashMap::with_capacity(sources.len());
        for (position, (source, _)) in sources.iter().enumerate() {
            latest.insert(*source, position);
        }
        Self(latest)
    }

    /// Every source of the group, once.
    pub(crate) fn sources(&self) -> Vec<i64> {
        self.0.keys().copied().collect()
    }

    /// Whether the entry at `position` is its source's last version, whose chunks are stored.
    pub(crate) fn is_last(&self, source: i64, position: usize) -> bool {
        self.0.get(&source) == Some(&position)
    }

    /// The inserted ids, which follow the stored rows in order, cut back per entry; an
    /// entry superseded later in the group gets none.
    pub(crate) fn ids_per_entry(
        &self,
        sources: &[(i64, &[NewChunk])],
        ids: Vec<ChunkId>,
    ) -> Vec<Vec<ChunkId>> {
        let mut ids = ids.into_iter();
        sources
            .iter()
            .enumerate()
            .map(|(position, (source, chunks))| {
                if self.is_last(*source, position) {
                    ids.by_ref().take(chunks.len()).collect()
                } else {
                    Vec::new()
                }
            })
            .collect()
    }
}
