//! The scripts compiled into the host, by the path each is served at: the runner page's
//! modules, and the npm package's own files under `/sdk/` (beside the wasm builds), so the
//! runner uses the same public API a web developer imports.

pub(super) const SCRIPTS: [(&str, &str); 19] = [
    ("/runner.js", include_str!("../../runner/runner.js")),
    ("/engines.js", include_str!("../../runner/engines.js")),
    ("/cache_rpc.js", include_str!("../../runner/cache_rpc.js")),
    ("/pool_rpc.js", include_str!("../../runner/pool_rpc.js")),
    ("/shard_rpc.js", include_str!("../../runner/shard_rpc.js")),
    ("/llm_rpc.js", include_str!("../../runner/llm_rpc.js")),
    ("/vision_rpc.js", include_str!("../../runner/vision_rpc.js")),
    ("/audio_rpc.js", include_str!("../../runner/audio_rpc.js")),
    ("/pipeline_rpc.js", include_str!("../../runner/pipeline_rpc.js")),
    ("/react_rpc.js", include_str!("../../runner/react_rpc.js")),
    // `react` in the page's import map: the pinned React 18 UMD build as a module.
    ("/react_shim.js", include_str!("../../runner/react_shim.js")),
    ("/webnn_rpc.js", include_str!("../../runner/webnn_rpc.js")),
    ("/sdk/index.js", include_str!("../../../npm/index.js")),
    ("/sdk/bench.js", include_str!("../../../npm/bench.js")),
    ("/sdk/engine_worker.js", include_str!("../../../npm/engine_worker.js")),
    // The engine the entry runs in a Worker, and that worker's message loop.
    ("/sdk/engine.js", include_str!("../../../npm/engine.js")),
    ("/sdk/worker.js", include_str!("../../../npm/worker.js")),
    ("/sdk/pipeline.js", include_str!("../../../npm/pipeline.js")),
    ("/sdk/react.js", include_str!("../../../npm/react.js")),
];
