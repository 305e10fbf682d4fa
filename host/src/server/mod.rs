//! Loopback-only HTTP server for the runner page and the wasm package, with the COOP/COEP
//! headers browsers require for SharedArrayBuffer (wasm threads).

mod access;
mod connections;
mod files;
mod manifests;
mod request_log;
mod scripts;
mod shard_hub;

pub use access::{run_token, TOKEN_HEADER};
pub use request_log::ServedRequest;
pub use shard_hub::{ShardHub, MAX_STAGE_MESSAGE_BYTES};

use crate::error::{Context, Result};
use crate::isolation::Loopback;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use files::{plain_name, serve_file, serve_nested, serve_path};
use ipfs_accelerate::weights::Cid;
use manifests::Manifests;
use request_log::RequestLog;
use scripts::SCRIPTS;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;

const RUNNER_HTML: &str = include_str!("../../runner/index.html");
/// The wasm builds besides `pkg` (see xtask/src/wasm.rs), served under `/sdk/<build>/`.
pub(crate) const OTHER_BUILDS: [&str; 3] = ["pkg-relaxed", "pkg-threads", "pkg-threads-relaxed"];
/// npm packages `cargo xtask setup` unpacks into .deps/js/: in-browser comparisons, and
/// React for the hooks' tests.
const VENDOR_PACKAGES: [&str; 4] = ["onnxruntime-web", "transformers", "react", "react-dom"];

/// A running server; stops when dropped.
pub struct RunnerServer {
    addr: SocketAddr,
    /// One serving task per listener (the host's loopback, and the jail's when browsers are jailed).
    tasks: Vec<JoinHandle<()>>,
    log: RequestLog,
    hub: Arc<ShardHub>,
    /// This run's secret (see `access.rs`).
    token: String,
}

impl RunnerServer {
    /// Serve `pkg_dir` (wasm-bindgen output) under `/pkg/` and `/sdk/pkg/`, the model cache under
    /// `/models/<model>/<file>` (with a `manifest.json` of file CIDs for each model, and byte
    /// ranges), the same files by CID under `/ipfs/<cid>`, and the runner at `/`.
    pub async fn start(pkg_dir: PathBuf) -> Result<RunnerServer> {
        RunnerServer::start_with_models(pkg_dir, crate::paths::model_cache()).await
    }

    /// As `start`, serving models from `models` instead of the model cache.
    pub async fn start_with_models(pkg_dir: PathBuf, models: PathBuf) -> Result<RunnerServer> {
        if !pkg_dir.join("ipfs_accelerate.js").is_file() {
            return Err(crate::HostError::Invalid(format!(
                "wasm package not found in {} (build it with `cargo xtask build-wasm`)",
                pkg_dir.display()
            )));
        }
        let mut app = Router::new().route("/", get(runner_page));
        for (path, source) in SCRIPTS {
            app = app.route(path, get(move || async move { respond(StatusCode::OK, "text/javascript", source.into()) }));
        }
        let app = app
            .route("/vendor/{package}/{*path}", get(serve_vendor))
            .route("/apps/{app}/", get(serve_app_page))
            .route("/apps/{app}/{*path}", get(serve_app))
            .route("/hf/{model}/{*path}", get(serve_hf_layout))
            .route("/hub/{org}/{name}/resolve/{revision}/{file}", get(serve_hub_layout))
            .route("/sdk/pkg/{file}", get(serve_pkg))
            .route("/sdk/{build}/{*path}", get(serve_other_build))
            .route("/pkg/{file}", get(serve_pkg))
            .route("/models/{model}/{file}", get(serve_model))
            .route("/ipfs/{cid}", get(serve_by_cid))
            .route("/shard/{token}/{stage}", get(shard_socket));
        let hub = Arc::new(ShardHub::default());
        let dirs = Dirs {
            pkg: pkg_dir,
            models,
            vendor: crate::paths::vendor_dir(),
            apps: crate::paths::example_apps_dir(),
            manifests: Manifests::default(),
            hub: hub.clone(),
        };
        let app = app.with_state(Arc::new(dirs));
        let (listeners, addr) = bind_listeners().await?;
        let access = Arc::new(access::Access::new(addr.port())?);
        let token = access.token().to_string();
        let log = RequestLog::default();
        // The log sees refused requests too (it wraps the check).
        let app = app.layer(axum::middleware::from_fn_with_state(access, access::check));
        let app = app.layer(axum::middleware::from_fn_with_state(log.clone(), request_log::record));
        let permits = Arc::new(tokio::sync::Semaphore::new(connections::MAX_CONNECTIONS));
        let tasks = listeners
            .into_iter()
            .map(|listener| {
                let (listener, app) = (connections::LimitedListener::sharing(listener, permits.clone()), app.clone());
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                })
            })
            .collect();
        Ok(RunnerServer { addr, tasks, log, hub, token })
    }

    /// Where sharded runs register for their stages' WebSockets.
    pub fn shard_hub(&self) -> Arc<ShardHub> {
        self.hub.clone()
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<ServedRequest> {
        self.log.snapshot()
    }

    /// The runner page's URL, with this run's token (the page keeps it as a cookie).
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// The server's root, `http://127.0.0.1:<port>/`, for building other paths; requests
    /// there need the token (cookie, `?token=` or the `X-Accelerate-Token` header).
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for RunnerServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Loopback only: the runner must never be reachable from the network. Jailed browsers see
/// only their private loopback, so the server listens there too, on the same port (their URLs
/// and the `Host` check stay the same); a port already taken there means trying another.
async fn bind_listeners() -> Result<(Vec<tokio::net::TcpListener>, SocketAddr)> {
    const ATTEMPTS: usize = 8;
    let loopback = Loopback::for_browsers();
    let mut attempt = 1;
    loop {
        let host = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("binding the runner server on 127.0.0.1")?;
        let addr = host.local_addr().context("reading the runner server address")?;
        if let Loopback::Shared = loopback {
            return Ok((vec![host], addr));
        }
        match loopback.listen(addr.port()).and_then(tokio::net::TcpListener::from_std) {
            Ok(private) => return Ok((vec![host, private], addr)),
            Err(e) if attempt == ATTEMPTS => return Err(e).context("binding the runner server on the browsers' private loopback"),
            Err(_) => attempt += 1,
        }
    }
}

struct Dirs {
    pkg: PathBuf,
    models: PathBuf,
    vendor: PathBuf,
    apps: PathBuf,
    manifests: Manifests,
    hub: Arc<ShardHub>,
}

async fn serve_model(State(dirs): State<Arc<Dirs>>, Path((model, file)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    if !plain_name(&model) {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "bad model name".into());
    }
    let dir = dirs.models.join(&model);
    if file == "manifest.json" {
        return match dirs.manifests.of(&model, &dir).await {
            Ok(m) => respond(StatusCode::OK, "application/json", serde_json::to_string(&*m).unwrap_or_default().into()),
            Err(e) => respond(StatusCode::NOT_FOUND, "text/plain", e.into()),
        };
    }
    serve_file(&dir, &file, &headers).await
}

/// `/hub/<org>/<name>/resolve/<revision>/<file>`: the fixtures laid out as a model hub lays
/// out repositories (any org and revision; `name` is the fixture directory, case-folded), with
/// no manifest.json — as a hub repository has none — so loads by hub id are trusted on first use.
async fn serve_hub_layout(
    State(dirs): State<Arc<Dirs>>,
    Path((_org, name, _revision, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    let model = name.to_lowercase();
    if !plain_name(&model) {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "bad model name".into());
    }
    if file == "manifest.json" {
        return respond(StatusCode::NOT_FOUND, "text/plain", "a hub repository has no manifest.json".into());
    }
    serve_file(&dirs.models.join(&model), &file, &headers).await
}

/// A stage of a sharded run connecting back: only with the run's token.
async fn shard_socket(
    State(dirs): State<Arc<Dirs>>,
    Path((token, stage)): Path<(String, usize)>,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> Response<Body> {
    if !dirs.hub.knows(&token, stage) {
        return respond(StatusCode::FORBIDDEN, "text/plain", "unknown shard run".into());
    }
    let max = MAX_STAGE_MESSAGE_BYTES;
    upgrade.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| async move { dirs.hub.deliver(&token, stage, socket) })
}

/// A local IPFS gateway over the model directories: `/ipfs/<cid>` is the file with that id.
async fn serve_by_cid(State(dirs): State<Arc<Dirs>>, Path(cid): Path<String>, headers: HeaderMap) -> Response<Body> {
    let Ok(cid) = Cid::parse(&cid) else {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "not a CIDv1 raw sha2-256 id".into());
    };
    match dirs.manifests.find(&dirs.models, &cid).await {
        Some(path) => serve_path(&path, "application/octet-stream", &headers).await,
        None => respond(StatusCode::NOT_FOUND, "text/plain", format!("{cid} not found").into()),
    }
}

/// `/vendor/<package>/<dir>/…/<file>`: only the pinned packages, only plain path segments.
async fn serve_vendor(State(dirs): State<Arc<Dirs>>, Path((package, path)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    if !VENDOR_PACKAGES.contains(&package.as_str()) {
        return respond(StatusCode::NOT_FOUND, "text/plain", "unknown package".into());
    }
    serve_nested(&dirs.vendor.join(&package), &path, &headers).await
}

/// A built example app (`cargo xtask build-examples`): `/apps/<app>/` is its page (cross-origin
/// isolated unless `?isolation=off`).
async fn serve_app_page(
    State(dirs): State<Arc<Dirs>>,
    Path(app): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let response = serve_app(State(dirs), Path((app, "index.html".to_string())), headers).await;
    isolated_unless_asked(response, query)
}

async fn serve_app(State(dirs): State<Arc<Dirs>>, Path((app, path)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    if !plain_name(&app) {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "bad app name".into());
    }
    serve_nested(&dirs.apps.join(&app).join("dist"), &path, &headers).await
}

/// A model directory in the layout transformers.js expects (`<model>/onnx/model_quantized.onnx`
/// etc.): any `onnx/*.onnx` is the directory's ONNX file, and tokenizer_config.json gets the
/// model's sentence-transformers `max_seq_length` as `model_max_length`, so transformers.js
/// truncates where every other backend does.
async fn serve_hf_layout(State(dirs): State<Arc<Dirs>>, Path((model, path)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    if !plain_name(&model) {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "bad model name".into());
    }
    let dir = dirs.models.join(&model);
    if path.strip_prefix("onnx/").is_some_and(|f| f.ends_with(".onnx")) {
        let onnx = std::fs::read_dir(&dir)
            .ok()
            .and_then(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).find(|n| n.ends_with(".onnx")));
        return match onnx {
            Some(file) => serve_file(&dir, &file, &headers).await,
            None => respond(StatusCode::NOT_FOUND, "text/plain", "no ONNX file".into()),
        };
    }
    if path == "tokenizer_config.json" {
        return tokenizer_config_with_max_length(&dir).await;
    }
    serve_file(&dir, &path, &headers).await
}

async fn tokenizer_config_with_max_length(dir: &std::path::Path) -> Response<Body> {
    let Ok(text) = tokio::fs::read_to_string(dir.join("tokenizer_config.json")).await else {
        return respond(StatusCode::NOT_FOUND, "text/plain", "tokenizer_config.json not found".into());
    };
    let Ok(mut config) = serde_json::from_str::<serde_json::Value>(&text) else {
        return respond(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "tokenizer_config.json is not JSON".into());
    };
    let max_seq = tokio::fs::read_to_string(dir.join("sentence_bert_config.json"))
        .await
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("max_seq_length").cloned());
    if let (Some(max), Some(obj)) = (max_seq, config.as_object_mut()) {
        obj.insert("model_max_length".into(), max);
    }
    respond(StatusCode::OK, "application/json", config.to_string().into())
}

/// The runner page, cross-origin isolated (so wasm threads can run) unless the URL asks for
/// `?isolation=off`: how tests see the one-thread fallback a page without COOP/COEP gets.
async fn runner_page(RawQuery(query): RawQuery) -> Response<Body> {
    isolated_unless_asked(respond(StatusCode::OK, "text/html; charset=utf-8", RUNNER_HTML.into()), query)
}

/// A page's response without COOP/COEP when its query has `isolation=off`.
fn isolated_unless_asked(mut response: Response<Body>, query: Option<String>) -> Response<Body> {
    if query.is_some_and(|q| q.split('&').any(|p| p == "isolation=off")) {
        response.headers_mut().remove("cross-origin-opener-policy");
        response.headers_mut().remove("cross-origin-embedder-policy");
    }
    response
}

async fn serve_pkg(State(dirs): State<Arc<Dirs>>, Path(file): Path<String>, headers: HeaderMap) -> Response<Body> {
    serve_file(&dirs.pkg, &file, &headers).await
}

/// The other wasm builds, beside the one-thread SIMD build (`npm/pkg-threads` etc. next to
/// `npm/pkg`); a threaded build's worker script sits in a `snippets/…` subdirectory.
async fn serve_other_build(
    State(dirs): State<Arc<Dirs>>,
    Path((build, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    if !OTHER_BUILDS.contains(&build.as_str()) {
        return respond(StatusCode::NOT_FOUND, "text/plain", "unknown build".into());
    }
    serve_nested(&dirs.pkg.with_file_name(&build), &path, &headers).await
}

pub(super) fn respond(status: StatusCode, mime: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-embedder-policy", HeaderValue::from_static("require-corp"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
