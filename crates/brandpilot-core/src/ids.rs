//! Typed ids. Each is a database row id; the newtypes stop a `SourceId` being passed where a
//! `BrandId` is meant, which is how cross-brand leaks begin.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// A tenant: members, keys, usage and billing hang off it.
    WorkspaceId
);
row_id!(
    /// A person who signs in; belongs to workspaces with a role in each.
    UserId
);
row_id!(
    /// A brand inside a workspace: its own knowledge base, voice and rules.
    BrandId
);
row_id!(
    /// One ingested document, page or transcript.
    SourceId
);
row_id!(
    /// One retrievable span of a source. Chunk ids only grow: a re-ingested source gets new
    /// ids, which is what lets the indexes catch up with the store by watermark.
    ChunkId
);
row_id!(
    /// A background job (ingestion run, later any queued work).
    JobId
);
row_id!(
    /// A conversation between a brand's assistant and one end user.
    ConversationId
);
row_id!(
    /// One message of a conversation: the end user's, the assistant's or a human agent's.
    MessageId
);
row_id!(
    /// A hand-over to a human: the question, why, and who is on it.
    TicketId
);
row_id!(
    /// A URL of a workspace's that is sent signed notices of events (tickets).
    WebhookId
);
row_id!(
    /// An A/B(/n) experiment over a brand's variants.
    ExperimentId
);
row_id!(
    /// One Studio request (a brief or a reel request) and what it produced.
    GenerationId
);
row_id!(
    /// One variant a generation produced: its content, its rule report, its review state.
    VariantId
);
row_id!(
    /// A past post or script of a brand's in Studio's examples library.
    ExampleId
);
