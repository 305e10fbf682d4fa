//! Serving a file from disk, whole or a byte range (`Range: bytes=N-` / `bytes=N-M`), so an
//! interrupted browser download can resume.

use super::respond;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

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
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
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

/// Bytes read from disk per step of a response body: what one request holds in memory,
/// whatever the size of the file or of the range.
pub(super) const CHUNK_BYTES: usize = 64 << 10;

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
    let not_found = || {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        respond(StatusCode::NOT_FOUND, "text/plain", format!("{name} not found").into())
    };
    let Ok(mut file) = tokio::fs::File::open(path).await else { return not_found() };
    let len = match file.metadata().await {
        Ok(m) if m.is_file() => m.len(),
        _ => return not_found(),
    };
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, count) = match range.map(|r| parse_range(r, len)) {
        None => (StatusCode::OK, 0, len),
        Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Some(None) => {
            let mut r = respond(StatusCode::RANGE_NOT_SATISFIABLE, "text/plain", Body::empty());
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return r;
        }
    };
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return respond(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "cannot seek in the file".into());
    }
    let mut response = respond(status, mime, Body::from_stream(chunks(file, count)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", start + count - 1)) {
            headers.insert(header::CONTENT_RANGE, v);
        }
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

/// The next `count` bytes of `file`, read `CHUNK_BYTES` at a time as the client takes them
/// (constant memory per request). A file that shrinks meanwhile ends the body with an error
/// (the client sees a short response, never bytes that were not in the file).
pub(super) fn chunks(file: tokio::fs::File, count: u64) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::try_unfold((file, count), |(mut file, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; usize::try_from(left).map_or(CHUNK_BYTES, |l| l.min(CHUNK_BYTES))];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the file shrank while it was being served"));
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (file, left - n as u64))))
    })
}

#[cfg(test)]
mod tests {
    use super::{chunks, parse_range, CHUNK_BYTES};
    use futures_util::StreamExt;

    #[tokio::test]
    async fn a_range_of_a_large_file_is_read_in_bounded_chunks() {
        // 1 GiB, sparse: nothing is written to disk, and nothing may be read into memory whole.
        let path = std::env::temp_dir().join(format!("ipfs-accelerate-chunks-{}", std::process::id()));
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(1 << 30).unwrap();
        drop(f);
        let mut file = tokio::fs::File::open(&path).await.unwrap();
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(1000)).await.unwrap();
        let want = (5 << 20) + 17;
        let mut stream = std::pin::pin!(chunks(file, want));
        let (mut total, mut largest) = (0u64, 0usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            largest = largest.max(chunk.len());
            total += chunk.len() as u64;
        }
        assert_eq!(total, want);
        assert!(largest <= CHUNK_BYTES, "{largest}");
        // Past the end of the file: an error, not a short body passed off as whole.
        let mut file = tokio::fs::File::open(&path).await.unwrap();
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start((1 << 30) - 10)).await.unwrap();
        let mut stream = std::pin::pin!(chunks(file, 11));
        let mut failed = false;
        while let Some(chunk) = stream.next().await {
            failed |= chunk.is_err();
        }
        assert!(failed);
        std::fs::remove_file(&path).unwrap();
    }

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
