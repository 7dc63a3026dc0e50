//! What only PostgreSQL needs proven. SQLite has one writer at a time, so chunk ids commit
//! in the order they are drawn; PostgreSQL draws identities at insert time, and only the
//! store's advisory lock on chunk writers keeps a later id from committing before an
//! earlier one, which would let an index sync past a chunk it never saw.

use super::{chunk, new_source, update};
use brandpilot_core::{BrandId, ChunkId};
use brandpilot_store::{SourceWrite, Store};
use brandpilot_testkit::TestDatabase;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Groups each writer stores, rewriting earlier origins (so deleting chunks) as it goes.
const GROUPS_PER_WRITER: usize = 150;

/// One writer's work: groups of three sources of four chunks, origins reused every seven
/// groups, and now and then a source deleted outright.
async fn write_groups(store: Store, brand: BrandId, writer: usize) {
    for group in 0..GROUPS_PER_WRITER {
        let writes: Vec<SourceWrite> = (0..3)
            .map(|n| {
                let origin = format!("/w{writer}/{}/{n}.txt", group % 7);
                let texts: Vec<String> = (0..4)
                    .map(|c| format!("writer {writer} group {group} source {n} chunk {c}"))
                    .collect();
                SourceWrite {
                    source: new_source(&origin),
                    update: update(&texts.concat()),
                    chunks: texts.iter().map(|text| chunk(text)).collect(),
                }
            })
            .collect();
        let ids = store.write_sources(brand, &writes).await.unwrap();
        if group % 10 == 9 {
            assert!(store.delete_source(brand, ids[0].id).await.unwrap());
        }
    }
}

/// What an index learns by following the store's watermarks: the chunks it was handed and
/// the deletions it applied.
#[derive(Default)]
struct FollowedIndex {
    seen: HashSet<ChunkId>,
    deleted: HashSet<ChunkId>,
    chunk_mark: ChunkId,
    deletion_mark: i64,
}

impl FollowedIndex {
    /// One catch-up, as the app's index sync does it: read the high marks, take every chunk
    /// and deletion up to them, then move the watermarks to them.
    async fn sync(&mut self, store: &Store) {
        let marks = store.index_high_marks().await.unwrap();
        let mut after = self.chunk_mark;
        loop {
            let page = store
                .chunks_after(after, marks.last_chunk, "", 500)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = last.id;
            self.seen.extend(page.iter().map(|c| c.id));
        }
        let deleted = store
            .deletions_after(self.deletion_mark, marks.last_deletion)
            .await
            .unwrap();
        self.deleted.extend(deleted);
        self.chunk_mark = marks.last_chunk;
        self.deletion_mark = marks.last_deletion;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn an_index_following_the_watermarks_sees_every_chunk_under_concurrent_writers() {
    let database = TestDatabase::postgres().await;
    let store = Store::open(database.url()).await.unwrap();
    let ws = store.ensure_workspace("default").await.unwrap();
    let first = store.ensure_brand(ws, "first").await.unwrap();
    let second = store.ensure_brand(ws, "second").await.unwrap();

    let writing = Arc::new(AtomicBool::new(true));
    let follower = tokio::spawn({
        let store = store.clone();
        let writing = writing.clone();
        async move {
            let mut index = FollowedIndex::default();
            while writing.load(Ordering::Acquire) {
                index.sync(&store).await;
            }
            index
        }
    });
    let writers = [
        tokio::spawn(write_groups(store.clone(), first.id, 0)),
        tokio::spawn(write_groups(store.clone(), second.id, 1)),
    ];
    for writer in writers {
        writer.await.unwrap();
    }
    writing.store(false, Ordering::Release);
    let mut index = follower.await.unwrap();
    // The writers are done: one more catch-up must leave the index equal to the store.
    index.sync(&store).await;

    let marks = store.index_high_marks().await.unwrap();
    let stored: HashSet<ChunkId> = store
        .chunks_after(ChunkId(0), marks.last_chunk, "", 100_000)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let followed: HashSet<ChunkId> = index.seen.difference(&index.deleted).copied().collect();
    // After the last catch-up, a stored chunk the index lacks committed below a watermark
    // the follower had already passed; an indexed chunk the store lacks is a deletion
    // logged below a passed deletion mark.
    let never_indexed: Vec<&ChunkId> = stored.difference(&followed).collect();
    let deletions_missed: Vec<&ChunkId> = followed.difference(&stored).collect();
    assert!(
        never_indexed.is_empty() && deletions_missed.is_empty(),
        "chunks the index never got: {never_indexed:?}; deleted chunks it kept: \
         {deletions_missed:?}"
    );
    assert_eq!(
        stored.len() as u64,
        store.count_chunks().await.unwrap(),
        "the high mark covers every stored chunk"
    );
}

/// PostgreSQL refuses NUL in text where SQLite keeps it: the refusal is the input's fault
/// (a clear error the API answers 400), never a database fault, and nothing is written.
#[tokio::test]
async fn text_with_nul_is_refused_as_invalid_input() {
    let database = TestDatabase::postgres().await;
    let store = Store::open(database.url()).await.unwrap();
    let workspace = store.ensure_workspace("w").await.unwrap();
    let error = store.create_brand(workspace, "Ac\0me").await.unwrap_err();
    assert!(
        matches!(error, brandpilot_store::StoreError::InvalidText),
        "{error:?}"
    );
    assert_eq!(
        brandpilot_core::Fault::fault(&error),
        brandpilot_core::FaultKind::User
    );
    assert!(store.list_brands(workspace).await.unwrap().is_empty());
    store.close().await;
}
