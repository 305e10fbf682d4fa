// Layer normalisation over the last dimension: (x - mean) / sqrt(var + eps) * gamma + beta.
// One workgroup per row; mean first, then variance around it (two passes, stable).

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const WORKGROUP: u32 = 256u;
var<workgroup> scratch: array<f32, 256>;

fn reduce_sum(lid: u32, value: f32) -> f32 {
    scratch[lid] = value;
    workgroupBarrier();
    for (var s = WORKGROUP / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            scratch[lid] = scratch[lid] + scratch[lid + s];
        }
        workgroupBarrier();
    }
    let total = scratch[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(256)
fn layernorm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = wid.y * groups.x + wid.x;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let n = f32(p.cols);

    var part = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        part = part + x[base + c];
    }
    let mean = reduce_sum(lid.x, part) / n;

    var sq = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        let d = x[base + c] - mean;
        sq = sq + d * d;
    }
    let inv = inverseSqrt(reduce_sum(lid.x, sq) / n + p.eps);

    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        out[base + c] = (x[base + c] - mean) * inv * gamma[c] + beta[c];
    }
}
