//! What the vector index knows about each chunk besides its vector: brand, source and tags,
//! plus inverted sets from each of those to its chunks.
//!
//! The search predicate runs inside the graph traversal for every visited node, so
//! [`Catalog::admits`] must stay a couple of hash lookups; and nothing here may scan all
//! chunks per query: filter sizes come from the inverted sets.

use super::keys::{KeyMap, KeySet};
use brandpilot_core::SearchFilter;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A chunk's filterable facets. Tags are interned ids so a chunk costs a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facets {
    brand: i64,
    source: i64,
    tags: Vec<u32>,
}

#[derive(Default)]
pub(crate) struct Catalog {
    chunks: KeyMap<u64, Facets>,
    tag_ids: HashMap<String, u32>,
    tag_names: Vec<String>,
    by_brand: KeyMap<i64, KeySet<u64>>,
    by_source: KeyMap<i64, KeySet<u64>>,
    by_tag: KeyMap<u32, KeySet<u64>>,
}

/// A [`SearchFilter`] translated into the catalog's terms, once per search.
pub(crate) struct ResolvedFilter {
    brand: i64,
    sources: Option<KeySet<i64>>,
    /// `None` when the filter names no tags. Tags the catalog has never seen are dropped:
    /// a filter of only unknown tags is `Some(empty)` and admits nothing.
    tags: Option<KeySet<u32>>,
}

impl ResolvedFilter {
    /// Whether the brand is the only condition, so that the brand's set is exactly the set
    /// of admitted chunks.
    pub fn is_brand_only(&self) -> bool {
        self.sources.is_none() && self.tags.is_none()
    }
}

/// The chunks a search must consider at most: the smallest of the brand's set, the union of
/// the wanted sources' sets and the union of the wanted tags' sets.
pub(crate) struct Candidates<'a> {
    pub sets: Vec<&'a KeySet<u64>>,
    /// Sum of the sets' sizes: an upper bound on how many chunks the filter admits.
    pub upper_bound: usize,
}

/// The on-disk form: self-contained, with tag names rather than ids.
#[derive(Serialize, Deserialize)]
pub(crate) struct CatalogFile {
    pub tag_names: Vec<String>,
    pub chunks: Vec<CatalogEntry>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct CatalogEntry {
    pub key: u64,
    pub brand: i64,
    pub source: i64,
    pub tags: Vec<u32>,
}

impl Catalog {
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn contains(&self, key: u64) -> bool {
        self.chunks.contains_key(&key)
    }

    pub fn insert(&mut self, key: u64, brand: i64, source: i64, tags: &[String]) {
        let mut tag_ids: Vec<u32> = tags.iter().map(|tag| self.intern(tag)).collect();
        tag_ids.sort_unstable();
        tag_ids.dedup();
        self.insert_facets(
            key,
            Facets {
                brand,
                source,
                tags: tag_ids,
            },
        );
    }

    fn insert_facets(&mut self, key: u64, facets: Facets) {
        self.remove(key);
        self.by_brand.entry(facets.brand).or_default().insert(key);
        self.by_source.entry(facets.source).or_default().insert(key);
        for tag in &facets.tags {
            self.by_tag.entry(*tag).or_default().insert(key);
        }
        self.chunks.insert(key, facets);
    }

    /// Forgets a chunk; returns whether it was known.
    pub fn remove(&mut self, key: u64) -> bool {
        let Some(facets) = self.chunks.remove(&key) else {
            return false;
        };
        remove_from(&mut self.by_brand, facets.brand, key);
        remove_from(&mut self.by_source, facets.source, key);
        for tag in facets.tags {
            remove_from(&mut self.by_tag, tag, key);
        }
        true
    }

    pub fn resolve(&self, filter: &SearchFilter) -> ResolvedFilter {
        ResolvedFilter {
            brand: filter.brand.0,
            sources: filter
                .sources
                .as_ref()
                .map(|sources| sources.iter().map(|source| source.0).collect()),
            tags: (!filter.tags.is_empty()).then(|| {
                filter
                    .tags
                    .iter()
                    .filter_map(|tag| self.tag_ids.get(tag).copied())
                    .collect()
            }),
        }
    }

    /// Whether the chunk under `key` passes the filter. Called for every node the graph
    /// search visits, so it is two or three hash lookups and nothing more.
    pub fn admits(&self, filter: &ResolvedFilter, key: u64) -> bool {
        let Some(facets) = self.chunks.get(&key) else {
            return false;
        };
        facets.brand == filter.brand
            && filter
                .sources
                .as_ref()
                .is_none_or(|sources| sources.contains(&facets.source))
            && filter
                .tags
                .as_ref()
                .is_none_or(|tags| facets.tags.iter().any(|tag| tags.contains(tag)))
    }

    pub fn candidates(&self, filter: &ResolvedFilter) -> Candidates<'_> {
        let brand_sets: Vec<&KeySet<u64>> = self.by_brand.get(&filter.brand).into_iter().collect();
        let mut best = Candidates::of(brand_sets);
        if let Some(sources) = &filter.sources {
            let source_sets = sources
                .iter()
                .filter_map(|source| self.by_source.get(source));
            best = best.smaller(Candidates::of(source_sets.collect()));
        }
        if let Some(tags) = &filter.tags {
            let tag_sets = tags.iter().filter_map(|tag| self.by_tag.get(tag));
            best = best.smaller(Candidates::of(tag_sets.collect()));
        }
        best
    }

    pub fn to_file(&self) -> CatalogFile {
        let mut chunks: Vec<CatalogEntry> = self
            .chunks
            .iter()
            .map(|(key, facets)| CatalogEntry {
                key: *key,
                brand: facets.brand,
                source: facets.source,
                tags: facets.tags.clone(),
            })
            .collect();
        // A stable order makes two saves of the same state byte-identical.
        chunks.sort_unstable_by_key(|entry| entry.key);
        CatalogFile {
            tag_names: self.tag_names.clone(),
            chunks,
        }
    }

    /// Rebuilds the catalog from its file; `None` if an entry names a tag id the file lacks.
    pub fn from_file(file: CatalogFile) -> Option<Self> {
        let mut catalog = Catalog::default();
        for (id, name) in file.tag_names.iter().enumerate() {
            catalog
                .tag_ids
                .insert(name.clone(), u32::try_from(id).ok()?);
        }
        catalog.tag_names = file.tag_names;
        for entry in file.chunks {
            if entry
                .tags
                .iter()
                .any(|tag| *tag as usize >= catalog.tag_names.len())
            {
                return None;
            }
            let facets = Facets {
                brand: entry.brand,
                source: entry.source,
                tags: entry.tags,
            };
            catalog.insert_facets(entry.key, facets);
        }
        Some(catalog)
    }

    fn intern(&mut self, tag: &str) -> u32 {
        if let Some(id) = self.tag_ids.get(tag) {
            return *id;
        }
        let id = self.tag_names.len() as u32;
        self.tag_names.push(tag.to_owned());
        self.tag_ids.insert(tag.to_owned(), id);
        id
    }
}

impl<'a> Candidates<'a> {
    fn of(sets: Vec<&'a KeySet<u64>>) -> Self {
        let upper_bound = sets.iter().map(|set| set.len()).sum();
        Self { sets, upper_bound }
    }

    fn smaller(self, other: Self) -> Self {
        if other.upper_bound < self.upper_bound {
            other
        } else {
            self
        }
    }
}

fn remove_from<K: std::hash::Hash + Eq>(sets: &mut KeyMap<K, KeySet<u64>>, owner: K, key: u64) {
    if let Some(set) = sets.get_mut(&owner) {
        set.remove(&key);
        if set.is_empty() {
            sets.remove(&owner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brandpilot_core::{BrandId, SourceId};

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn candidates_come_from_the_smallest_facet() {
        let mut catalog = Catalog::default();
        for key in 0..10 {
            catalog.insert(key, 1, 100 + (key % 2) as i64, &tags(&["all"]));
        }
        catalog.insert(10, 1, 100, &tags(&["rare", "all"]));
        let mut filter = SearchFilter::brand(BrandId(1));
        filter.tags = tags(&["rare"]);
        let resolved = catalog.resolve(&filter);
        assert_eq!(catalog.candidates(&resolved).upper_bound, 1);
        filter.sources = Some(vec![SourceId(101)]);
        let resolved = catalog.resolve(&filter);
        assert_eq!(catalog.candidates(&resolved).upper_bound, 1);
        assert!(!catalog.admits(&resolved, 10), "chunk 10 is in source 100");
    }

    #[test]
    fn unknown_tags_admit_nothing_and_removal_cleans_sets() {
        let mut catalog = Catalog::default();
        catalog.insert(1, 1, 1, &tags(&["a"]));
        let mut filter = SearchFilter::brand(BrandId(1));
        filter.tags = tags(&["missing"]);
        let resolved = catalog.resolve(&filter);
        assert!(!catalog.admits(&resolved, 1));
        assert_eq!(catalog.candidates(&resolved).upper_bound, 0);
        assert!(catalog.remove(1));
        assert!(!catalog.remove(1));
        assert!(catalog.by_brand.is_empty() && catalog.by_tag.is_empty());
    }

    #[test]
    fn file_round_trip_keeps_facets() {
        let mut catalog = Catalog::default();
        catalog.insert(7, 2, 3, &tags(&["x", "y"]));
        let restored = Catalog::from_file(catalog.to_file()).expect("valid file");
        assert_eq!(restored.chunks, catalog.chunks);
    }
}
