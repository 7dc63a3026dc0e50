//! Listing and removing a brand's sources.

use crate::{AppError, Brandpilot, Result};
use brandpilot_core::SourceId;
use brandpilot_store::{Brand, SourceRecord};

impl Brandpilot {
    pub async fn list_sources(&self, brand: &Brand) -> Result<Vec<SourceRecord>> {
        Ok(self.store.list_sources(brand.id).await?)
    }

    /// Removes a source and its chunks from the store, then from both indexes.
    pub async fn remove_source(&self, brand: &Brand, source: SourceId) -> Result<()> {
        if !self.store.delete_source(brand.id, source).await? {
            return Err(AppError::UnknownSource(source.0));
        }
        self.sync_indexes().await?;
        Ok(())
    }
}
