//! One tab of a browser session, driven over WebDriver: open a URL, wait for the page to say
//! it is ready, type, click, read, and take a screenshot.

use crate::browser::BrowserSession;
use crate::error::Context;
use crate::{HostError, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(100);

pub struct Page<'a> {
    client: &'a Client,
    browser: &'static str,
}

impl<'a> Page<'a> {
    pub fn of(session: &'a BrowserSession) -> Result<Page<'a>> {
        Ok(Page { client: session.webdriver()?, browser: session.kind.name() })
    }

    /// Something the page showed (or failed to show) that is wrong.
    pub fn error(&self, message: String) -> HostError {
        HostError::Page { browser: self.browser.into(), message }
    }

    fn webdriver_error(&self, context: &str, e: impl std::fmt::Display) -> HostError {
        HostError::WebDriver { context: format!("{} {context}", self.browser), message: e.to_string() }
    }

    pub async fn open(&self, url: &str) -> Result<()> {
        self.client.goto(url).await.map_err(|e| self.webdriver_error(&format!("opening {url}"), e))
    }

    pub async fn find(&self, css: &str) -> Result<Element> {
        self.client.find(Locator::Css(css)).await.map_err(|e| self.webdriver_error(&format!("finding {css}"), e))
    }

    /// The element, once it exists (within `timeout`).
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.client
            .wait()
            .at_most(timeout)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| self.webdriver_error(&format!("waiting {} s for {css}", timeout.as_secs()), e))
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        let element = self.find(css).await?;
        element.text().await.map_err(|e| self.webdriver_error(&format!("reading {css}"), e))
    }

    /// The text of every element `css` matches, in document order.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>> {
        let elements = self.client.find_all(Locator::Css(css)).await.map_err(|e| self.webdriver_error(&format!("finding {css}"), e))?;
        let mut texts = Vec::with_capacity(elements.len());
        for element in elements {
            texts.push(element.text().await.map_err(|e| self.webdriver_error(&format!("reading {css}"), e))?);
        }
        Ok(texts)
    }

    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        let element = self.find(css).await?;
        element.attr(name).await.map_err(|e| self.webdriver_error(&format!("reading {css} [{name}]"), e))
    }

    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let element = self.find(css).await?;
        element.send_keys(text).await.map_err(|e| self.webdriver_error(&format!("typing into {css}"), e))
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        let element = self.find(css).await?;
        element.click().await.map_err(|e| self.webdriver_error(&format!("clicking {css}"), e))
    }

    pub async fn run_script(&self, script: &str) -> Result<Value> {
        self.client.execute(script, vec![]).await.map_err(|e| self.webdriver_error("running a script", e))
    }

    /// Wait until `css`'s `data-state` is `want`; a page that says "error" is an error with the
    /// text it shows.
    pub async fn wait_for_state(&self, css: &str, want: &str, timeout: Duration) -> Result<String> {
        let started = Instant::now();
        loop {
            let state = self.attr(css, "data-state").await?;
            match state.as_deref() {
                Some(s) if s == want => return self.text(css).await,
                Some("error") => {
                    return Err(self.error(self.text(css).await?));
                }
                _ if started.elapsed() > timeout => {
                    let shown = self.text(css).await.unwrap_or_default();
                    return Err(self.error(format!("{css} was not {want} within {} s (it says {shown:?})", timeout.as_secs())));
                }
                _ => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// A PNG of the viewport, written to `path` (its directory made if missing).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self.client.screenshot().await.map_err(|e| self.webdriver_error("taking a screenshot", e))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, png).context(format!("writing {}", path.display()))
    }
}
