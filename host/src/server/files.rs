//! Serving a file from disk, whole or a byte range (`Range: bytes=N-` / `bytes=N-M`), so an
//! interrupted browser download can resume.

use super::respond;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};

/// Plain names only (no separators, no leading dot): no path traversal.
pub(super) fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && !name.contains('\\') && !name.starts_with('.')
}

fn mime_of(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("ts") => "text/plain",
        _ => "application/octet-stream",
    }
}

/// (start, end inclusive) of a single "bytes=" range over `len` bytes; None if unusable.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let (start, end) = value.strip_prefix("bytes=")?.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = if end.trim().is_empty() { len.checked_sub(1)? } else { end.trim().parse::<u64>().ok()?.min(len.checked_sub(1)?) };
    (start <= end).then_some((start, end))
}

pub(super) async fn serve_file(dir: &std::path::Path, file: &str, request: &HeaderMap) -> Response<Body> {
    if !plain_name(file) {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "bad file name".into());
    }
    serve_path(&dir.join(file), mime_of(file), request).await
}

/// `path` (`dir/…/file`, plain segments only) under `root`.
pub(super) async fn serve_nested(root: &std::path::Path, path: &str, request: &HeaderMap) -> Response<Body> {
    let segments: Vec<&str> = path.split('/').collect();
    let Some((file, parents)) = segments.split_last() else {
        return respond(StatusCode::NOT_FOUND, "text/plain", "not found".into());
    };
    if !parents.iter().all(|s| plain_name(s)) {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "bad path".into());
    }
    serve_file(&parents.iter().fold(root.to_path_buf(), |dir, s| dir.join(s)), file, request).await
}

pub(super) async fn serve_path(path: &std::path::Path, mime: &'static str, request: &HeaderMap) -> Response<Body> {
    let Ok(bytes) = tokio::fs::read(path).await else {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return respond(StatusCode::NOT_FOUND, "text/plain", format!("{name} not found").into());
    };
    let len = bytes.len() as u64;
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mut response = match range.map(|r| parse_range(r, len)) {
        None => respond(StatusCode::OK, mime, bytes.into()),
        Some(Some((start, end))) => {
            let mut r = respond(StatusCode::PARTIAL_CONTENT, mime, bytes[start as usize..=end as usize].to_vec().into());
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
        Some(None) => {
            let mut r = respond(StatusCode::RANGE_NOT_SATISFIABLE, "text/plain", Body::empty());
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
    };
    response.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-", 10), Some((0, 9)));
        assert_eq!(parse_range("bytes=4-", 10), Some((4, 9)));
        assert_eq!(parse_range("bytes=2-5", 10), Some((2, 5)));
        assert_eq!(parse_range("bytes=2-50", 10), Some((2, 9)));
        assert_eq!(parse_range("bytes=10-", 10), None);
        assert_eq!(parse_range("items=1-2", 10), None);
        assert_eq!(parse_range("bytes=0-", 0), None);
    }
}
