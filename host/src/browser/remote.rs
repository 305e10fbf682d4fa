//! Sessions on WebDriver endpoints the host did not start — a Selenium Grid hub, a standalone
//! node, any W3C WebDriver server — named by `--webdriver URL` (repeatable) or
//! `ACCELERATE_WEBDRIVER` (comma-separated). When any is named, every browser session this
//! process starts is created there, spread over the endpoints in turn, instead of on a local
//! driver.

use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll};
use tokio::net::TcpStream;

pub const WEBDRIVER_ENV: &str = "ACCELERATE_WEBDRIVER";

static ENDPOINTS: OnceLock<Vec<String>> = OnceLock::new();

/// Name the endpoints for this process (from the command line); the first call wins. Each must
/// be an `http://host:port[/path]` URL.
pub fn use_endpoints(urls: Vec<String>) -> Result<(), String> {
    let urls = urls.into_iter().map(|u| checked(&u)).collect::<Result<Vec<_>, _>>()?;
    if !urls.is_empty() {
        let _ = ENDPOINTS.set(urls);
    }
    Ok(())
}

/// The endpoints in use: set by `use_endpoints`, else from `ACCELERATE_WEBDRIVER`; empty means
/// local drivers. An invalid variable is reported where the first session is started.
pub fn endpoints() -> Result<&'static [String], String> {
    if let Some(set) = ENDPOINTS.get() {
        return Ok(set);
    }
    let from_env: Vec<String> =
        std::env::var(WEBDRIVER_ENV).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let checked = from_env.iter().map(|u| checked(u)).collect::<Result<Vec<_>, _>>().map_err(|e| format!("{WEBDRIVER_ENV}: {e}"))?;
    Ok(ENDPOINTS.get_or_init(|| checked))
}

/// The endpoint for the next session: each in turn.
pub fn next_endpoint() -> Result<Option<&'static str>, String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let all = endpoints()?;
    Ok((!all.is_empty()).then(|| all[NEXT.fetch_add(1, Ordering::Relaxed) % all.len()].as_str()))
}

fn checked(url: &str) -> Result<String, String> {
    let uri: axum::http::Uri = url.parse().map_err(|e| format!("--webdriver {url:?} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() || uri.port_u16().is_none() {
        return Err(format!("--webdriver {url:?}: expected http://HOST:PORT (TLS endpoints are not supported)"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Plain TCP to whatever host and port the endpoint URL names.
#[derive(Clone)]
pub struct RemoteConnector;

impl tower_service::Service<axum::http::Uri> for RemoteConnector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: axum::http::Uri) -> Self::Future {
        Box::pin(async move {
            let (Some(host), Some(port)) = (uri.host(), uri.port_u16()) else {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("no host and port in {uri}")));
            };
            let stream = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port)).await?;
            stream.set_nodelay(true)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// Which node of a grid at `endpoint` holds `session_id` (from the hub's `/status`); the
/// endpoint itself when it is not a grid (a lone WebDriver server), None when it cannot say.
pub async fn node_holding(endpoint: &str, session_id: &str) -> Option<String> {
    let status = crate::json_get::get_json(&format!("{endpoint}/status")).await.ok()?;
    let Some(nodes) = status["value"]["nodes"].as_array() else { return Some(endpoint.to_string()) };
    nodes
        .iter()
        .find(|node| node["slots"].as_array().into_iter().flatten().any(|slot| slot["session"]["sessionId"] == session_id))
        .and_then(|node| node["uri"].as_str().map(String::from))
}

#[cfg(test)]
mod tests {
    use super::checked;

    #[test]
    fn endpoints_must_be_plain_http_with_a_port() {
        assert_eq!(checked("http://127.0.0.1:4444/").unwrap(), "http://127.0.0.1:4444");
        assert_eq!(checked("http://grid.local:4444/wd/hub").unwrap(), "http://grid.local:4444/wd/hub");
        for bad in ["https://x:1", "http://nohost", "127.0.0.1:4444", "not a url"] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }
}
