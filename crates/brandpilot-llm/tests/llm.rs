//! The crate's one integration-test binary: each provider against an in-process fake server
//! speaking the real wire protocol over a real socket, and the router's retries, fallbacks,
//! breakers and accounting on top of them.

#[path = "llm/anthropic.rs"]
mod anthropic;
#[path = "llm/openai.rs"]
mod openai;
#[path = "llm/router.rs"]
mod router;
#[path = "llm/structured.rs"]
mod structured;

use brandpilot_llm::{ChatRequest, EventStream, Message, StreamCollector, StreamEvent};
use futures_util::StreamExt;

pub fn hello() -> ChatRequest {
    ChatRequest::new(vec![
        Message::system("You are brief."),
        Message::user("Say hello"),
    ])
}

/// Drains a stream: the text delivered before the end, and how it ended.
pub async fn drain(
    mut stream: EventStream,
) -> (String, brandpilot_llm::Result<brandpilot_llm::ChatResponse>) {
    let mut collector = StreamCollector::default();
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => {
                let done = matches!(event, StreamEvent::Done { .. });
                collector.push(event);
                if done {
                    let text = collector.text().to_owned();
                    let response = collector.finish().expect("Done was pushed");
                    assert!(stream.next().await.is_none(), "events after Done");
                    return (text, Ok(response));
                }
            }
            Err(error) => {
                let text = collector.text().to_owned();
                assert!(stream.next().await.is_none(), "events after an error");
                return (text, Err(error));
            }
        }
    }
    panic!("stream ended without Done or an error");
}
