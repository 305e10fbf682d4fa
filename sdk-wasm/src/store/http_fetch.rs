//! Files over HTTP in the browser: `base + path`, or `gateway + cid` for an IPFS gateway.
//! A resumed download sends `Range: bytes=N-`; a server that answers 200 instead of 206 is
//! handled by the cache (it skips what it has).

use super::fetch::{ByteStream, Fetcher};
use super::manifest::ManifestFile;
use crate::core::error::{Error, Result};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub struct HttpFetcher {
    /// Model base URL, ending in '/'.
    pub base: String,
    /// IPFS gateway prefix ending in '/' (e.g. "https://gw.example/ipfs/"); files are then
    /// fetched by CID instead of by path.
    pub gateway: Option<String>,
    pub signal: Option<web_sys::AbortSignal>,
}

pub struct HttpStream {
    reader: web_sys::ReadableStreamDefaultReader,
    starts_at: u64,
    url: String,
    /// The response's Content-Type, for messages about a file that is not what was expected.
    content_type: Option<String>,
}

fn describe_js(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// Fetch `url` into a whole byte vector (for small files outside a manifest).
pub async fn fetch_all(url: &str, signal: Option<&web_sys::AbortSignal>) -> Result<Vec<u8>> {
    Ok(fetch_all_typed(url, signal).await?.0)
}

/// As [`fetch_all`], with the response's Content-Type.
pub async fn fetch_all_typed(url: &str, signal: Option<&web_sys::AbortSignal>) -> Result<(Vec<u8>, Option<String>)> {
    let fetcher = HttpFetcher { base: String::new(), gateway: None, signal: signal.cloned() };
    let mut stream = fetcher.open_url(url, 0, None).await?;
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await? {
        out.extend_from_slice(&piece);
    }
    Ok((out, stream.content_type))
}

impl HttpFetcher {
    /// GET `url` from byte `from`, up to `end` (exclusive) when given.
    async fn open_url(&self, url: &str, from: u64, end: Option<u64>) -> Result<HttpStream> {
        let err = |detail: String| Error::Fetch { url: url.to_string(), detail };
        let init = web_sys::RequestInit::new();
        init.set_method("GET");
        if let Some(signal) = &self.signal {
            init.set_signal(Some(signal));
        }
        let headers = web_sys::Headers::new().map_err(|e| err(describe_js(&e)))?;
        let range = match end {
            Some(end) if end > from => Some(format!("bytes={from}-{}", end - 1)),
            _ if from > 0 => Some(format!("bytes={from}-")),
            _ => None,
        };
        if let Some(range) = range {
            headers.set("Range", &range).map_err(|e| err(describe_js(&e)))?;
        }
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| err(describe_js(&e)))?;
        let global = js_sys::global();
        let promise = if let Some(w) = global.dyn_ref::<web_sys::Window>() {
            w.fetch_with_request(&request)
        } else if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
            w.fetch_with_request(&request)
        } else {
            return Err(err("no fetch() in this global scope".into()));
        };
        let response: web_sys::Response =
            JsFuture::from(promise).await.map_err(|e| err(describe_js(&e)))?.dyn_into().map_err(|_| err("not a Response".into()))?;
        let starts_at = match response.status() {
            200 => 0,
            206 => content_range_start(&response).ok_or_else(|| err("206 without a usable Content-Range".into()))?,
            status => return Err(err(format!("HTTP {status} {}", response.status_text()).trim().to_string())),
        };
        let body = response.body().ok_or_else(|| err("response has no body".into()))?;
        let reader = body.get_reader().dyn_into::<web_sys::ReadableStreamDefaultReader>().map_err(|_| err("no stream reader".into()))?;
        let content_type = response.headers().get("content-type").ok().flatten();
        Ok(HttpStream { reader, starts_at, url: url.to_string(), content_type })
    }
}

/// X of "Content-Range: bytes X-Y/Z".
fn content_range_start(response: &web_sys::Response) -> Option<u64> {
    let value = response.headers().get("content-range").ok()??;
    value.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

impl Fetcher for HttpFetcher {
    type Stream = HttpStream;

    async fn open(&self, file: &ManifestFile, from: u64) -> Result<HttpStream> {
        self.open_url(&self.describe(file), from, None).await
    }

    async fn open_range(&self, file: &ManifestFile, from: u64, end: u64) -> Result<HttpStream> {
        self.open_url(&self.describe(file), from, Some(end)).await
    }

    fn describe(&self, file: &ManifestFile) -> String {
        match &self.gateway {
            Some(g) => format!("{g}{}", file.cid),
            None => format!("{}{}", self.base, file.path),
        }
    }
}

impl ByteStream for HttpStream {
    fn starts_at(&self) -> u64 {
        self.starts_at
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        let result =
            JsFuture::from(self.reader.read()).await.map_err(|e| Error::Fetch { url: self.url.clone(), detail: describe_js(&e) })?;
        let done = js_sys::Reflect::get(&result, &"done".into()).ok().and_then(|v| v.as_bool()).unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value =
            js_sys::Reflect::get(&result, &"value".into()).map_err(|e| Error::Fetch { url: self.url.clone(), detail: describe_js(&e) })?;
        let bytes = value
            .dyn_into::<js_sys::Uint8Array>()
            .map_err(|_| Error::Fetch { url: self.url.clone(), detail: "stream chunk is not bytes".into() })?;
        Ok(Some(bytes.to_vec()))
    }
}
