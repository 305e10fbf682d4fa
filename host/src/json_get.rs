//! A JSON GET over plain HTTP/1.0 (never chunked): how the host reads a Selenium hub's or
//! node's `/status`. A leaf: the grid and the remote-session code both use it.

use crate::error::{HostError, Result};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn get_json(url: &str) -> Result<serde_json::Value> {
    let fail = |why: String| HostError::Invalid(format!("GET {url}: {why}"));
    let uri: axum::http::Uri = url.parse().map_err(|e| fail(format!("{e}")))?;
    let (Some(host), Some(port)) = (uri.host(), uri.port_u16()) else { return Err(fail("no host and port".into())) };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n").as_bytes()).await?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    };
    let reply = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| fail(format!("no answer in {TIMEOUT:?}")))?
        .map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8_lossy(&reply);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| fail("malformed HTTP answer".into()))?;
    let status_line = head.lines().next().unwrap_or_default();
    if !status_line.split_whitespace().nth(1).is_some_and(|code| code.starts_with('2')) {
        return Err(fail(format!("answered {status_line:?}")));
    }
    serde_json::from_str(body).map_err(|e| fail(format!("not JSON: {e}")))
}
