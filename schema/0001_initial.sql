-- Benchmark runs, the environments they ran on, per-case summaries and every raw sample.
-- Modelled on what burn-bench, asv and MLPerf record: machine, build, software stack,
-- warm-up policy, raw samples, correctness of the output, and an explicit status per case.

CREATE TABLE runs (
    run_id        VARCHAR PRIMARY KEY,
    suite         VARCHAR NOT NULL,
    command       VARCHAR NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL,
    tool_version  VARCHAR NOT NULL,
    build_profile VARCHAR NOT NULL,
    git_commit    VARCHAR,
    git_dirty     BOOLEAN,
    host_name     VARCHAR NOT NULL,
    os            VARCHAR NOT NULL,
    kernel        VARCHAR NOT NULL,
    cpu_model     VARCHAR NOT NULL,
    cpu_cores     INTEGER NOT NULL,
    memory_bytes  BIGINT NOT NULL,
    cpu_features  VARCHAR NOT NULL
);

-- One row per backend a run used: native-cpu, native-wgpu, browser-cpu, browser-webgpu.
CREATE TABLE environments (
    run_id               VARCHAR NOT NULL REFERENCES runs (run_id),
    env_id               INTEGER NOT NULL,
    backend              VARCHAR NOT NULL,
    browser              VARCHAR,
    browser_version      VARCHAR,
    browser_flags        VARCHAR,
    user_agent           VARCHAR,
    adapter_name         VARCHAR NOT NULL,
    adapter_vendor       VARCHAR NOT NULL,
    adapter_architecture VARCHAR NOT NULL,
    adapter_backend      VARCHAR NOT NULL,
    adapter_driver       VARCHAR NOT NULL,
    device_type          VARCHAR NOT NULL,
    -- True for CPU emulations (SwiftShader, lavapipe/llvmpipe, WARP): never a GPU figure.
    software_adapter     BOOLEAN NOT NULL,
    adapter_features     VARCHAR NOT NULL,
    available            BOOLEAN NOT NULL,
    unavailable_reason   VARCHAR,
    PRIMARY KEY (run_id, env_id)
);

CREATE TABLE cases (
    run_id       VARCHAR NOT NULL,
    env_id       INTEGER NOT NULL,
    case_id      INTEGER NOT NULL,
    kernel       VARCHAR NOT NULL,
    shape        VARCHAR NOT NULL,
    dtype        VARCHAR NOT NULL,
    params       VARCHAR NOT NULL,
    warmup       INTEGER NOT NULL,
    sample_count INTEGER NOT NULL,
    median_ms    DOUBLE,
    p90_ms       DOUBLE,
    min_ms       DOUBLE,
    max_ms       DOUBLE,
    mean_ms      DOUBLE,
    stddev_ms    DOUBLE,
    mad_ms       DOUBLE,
    gflops       DOUBLE,
    max_abs_err  DOUBLE,
    max_rel_err  DOUBLE,
    tolerance    DOUBLE,
    status       VARCHAR NOT NULL CHECK (status IN ('ok', 'mismatch', 'error', 'unavailable')),
    -- A negative duration means a broken clock, never a result.
    CHECK (min_ms IS NULL OR min_ms >= 0),
    error        VARCHAR,
    PRIMARY KEY (run_id, env_id, case_id),
    FOREIGN KEY (run_id, env_id) REFERENCES environments (run_id, env_id)
);

CREATE TABLE samples (
    run_id       VARCHAR NOT NULL,
    env_id       INTEGER NOT NULL,
    case_id      INTEGER NOT NULL,
    sample_index INTEGER NOT NULL,
    ms           DOUBLE NOT NULL CHECK (ms >= 0),
    PRIMARY KEY (run_id, env_id, case_id, sample_index),
    FOREIGN KEY (run_id, env_id, case_id) REFERENCES cases (run_id, env_id, case_id)
);
