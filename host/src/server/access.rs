//! Who may use the runner server: requests carrying this run's secret, addressed to the
//! loopback name the server was started on (DNS rebinding cannot borrow it), and — when a
//! browser says where the request comes from — from the runner's own origin.
//!
//! The secret travels once in the runner page's URL (`/?token=…`); the reply sets it as an
//! `HttpOnly; SameSite=Strict` cookie, so every later request of the page, its workers and
//! its WebSockets carries it. Programs may send the `X-Accelerate-Token` header instead.

use crate::error::{HostError, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

const COOKIE: &str = "accelerate_token";
pub const TOKEN_HEADER: &str = "x-accelerate-token";

pub(super) struct Access {
    token: String,
    /// `127.0.0.1:<port>` and `localhost:<port>`: the only Host values accepted.
    hosts: [String; 2],
}

impl Access {
    pub(super) fn new(port: u16) -> Result<Access> {
        Ok(Access { token: run_token()?, hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")] })
    }

    pub(super) fn token(&self) -> &str {
        &self.token
    }

    fn matches(&self, candidate: &str) -> bool {
        // Constant time in the candidate's content: no early exit on the first differing byte.
        candidate.len() == self.token.len() && candidate.bytes().zip(self.token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// 32 random bytes from the OS, hex: the run's secret. No randomness is an error, never a
/// guessable token.
pub fn run_token() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| HostError::Invalid(format!("reading /dev/urandom for the run's secret: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn forbidden(why: &str) -> Response {
    let mut response = Response::new(Body::from(format!("403 forbidden: {why}\n")));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

fn header_str(request: &Request, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

pub(super) async fn check(State(access): State<Arc<Access>>, request: Request, next: Next) -> Response {
    if !header_str(&request, header::HOST).is_some_and(|h| access.hosts.iter().any(|a| a == h)) {
        return forbidden("the Host header does not name this server (127.0.0.1 or localhost and its port)");
    }
    if let Some(origin) = header_str(&request, header::ORIGIN) {
        if !access.hosts.iter().any(|h| origin.strip_prefix("http://") == Some(h.as_str())) {
            return forbidden("requests from other origins are refused");
        }
    }
    let from_query =
        request.uri().query().into_iter().flat_map(|q| q.split('&')).filter_map(|p| p.strip_prefix("token=")).any(|t| access.matches(t));
    let from_cookie = header_str(&request, header::COOKIE)
        .into_iter()
        .flat_map(|c| c.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .any(|t| access.matches(t));
    let from_header = header_str(&request, TOKEN_HEADER).is_some_and(|t| access.matches(t));
    if !(from_query || from_cookie || from_header) {
        return forbidden("this run's token is missing or wrong (open the URL the host printed)");
    }
    let mut response = next.run(request).await;
    if from_query {
        let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", access.token);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
