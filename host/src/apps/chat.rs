//! examples/chat-react: load SmolLM2, set the temperature to 0 with the keyboard, ask a question
//! and watch the reply stream in; then ask for something long and press Stop.

use super::Page;
use crate::browser::BrowserSession;
use crate::Result;
use fantoccini::key::Key;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

const READY_TIMEOUT: Duration = Duration::from_secs(300);
const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// Records every text the streaming reply shows, so a reply that arrived all at once is told
/// apart from one that streamed.
const WATCH_STREAMING: &str = "window.__streamed = [];
new MutationObserver(() => {
  const s = document.querySelector('[data-streaming]');
  if (s && s.textContent !== window.__streamed.at(-1)) window.__streamed.push(s.textContent);
}).observe(document.body, { subtree: true, childList: true, characterData: true });";

#[derive(Debug, Serialize)]
pub struct ChatVisit {
    pub status: String,
    /// What the temperature control showed after Home was pressed on it.
    pub temperature: String,
    pub reply: String,
    /// The reply's `finishReason` ("eos", "length", "cancelled", …).
    pub finish: String,
    /// Each text the reply showed while it streamed, in order.
    pub streamed: Vec<String>,
    /// The reply to the long request, stopped with the Stop button.
    pub stopped_reply: String,
    pub stopped_finish: String,
}

/// Use the app at `app_url`: `question` answered at temperature 0, then `long_request`
/// stopped once some of its reply has arrived.
pub async fn use_chat(
    session: &BrowserSession,
    app_url: &str,
    question: &str,
    long_request: &str,
    screenshot: Option<&Path>,
) -> Result<ChatVisit> {
    let page = Page::of(session)?;
    page.open(app_url).await?;
    let status = page.wait_for_state(".status", "ready", READY_TIMEOUT).await?;
    page.click("#temperature").await?;
    page.type_into("#temperature", &char::from(Key::Home).to_string()).await?;
    let temperature = page.text("#temperature-value").await?;

    page.run_script(WATCH_STREAMING).await?;
    page.type_into("#prompt", question).await?;
    page.click("#send").await?;
    let (reply, finish) = finished_reply(&page, 1).await?;
    let streamed = serde_json::from_value(page.run_script("return window.__streamed").await?).unwrap_or_default();

    page.type_into("#prompt", long_request).await?;
    page.click("#send").await?;
    wait_for_streamed_text(&page).await?;
    page.click("#stop").await?;
    let (stopped_reply, stopped_finish) = finished_reply(&page, 2).await?;
    if let Some(path) = screenshot {
        page.screenshot(path).await?;
    }
    Ok(ChatVisit { status, temperature, reply, finish, streamed, stopped_reply, stopped_finish })
}

/// The `n`-th finished assistant message (1-based): its text and finish reason.
async fn finished_reply(page: &Page<'_>, n: usize) -> Result<(String, String)> {
    let css = format!(".message.assistant[data-finish]:nth-of-type({})", 2 * n);
    page.wait_for(&css, REPLY_TIMEOUT).await?;
    let text = page.text(&css).await?;
    let finish = page.attr(&css, "data-finish").await?.unwrap_or_default();
    Ok((text, finish))
}

/// Wait until the streaming reply shows a few words, so Stop lands mid-reply.
async fn wait_for_streamed_text(page: &Page<'_>) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let shown = page.text("[data-streaming]").await.unwrap_or_default();
        if shown.split_whitespace().count() >= 3 {
            return Ok(());
        }
        if started.elapsed() > REPLY_TIMEOUT {
            return Err(page.error(format!("the reply never streamed (it shows {shown:?})")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
