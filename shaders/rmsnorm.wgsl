// RMS normalisation over the last dimension: x / sqrt(mean(x²) + eps) * gamma.
// One workgroup per row.

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const WORKGROUP: u32 = 256u;
var<workgroup> scratch: array<f32, 256>;

@compute @workgroup_size(256)
fn rmsnorm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = wid.y * groups.x + wid.x;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var sq = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        sq = sq + x[base + c] * x[base + c];
    }
    scratch[lid.x] = sq;
    workgroupBarrier();
    for (var s = WORKGROUP / 2u; s > 0u; s = s >> 1u) {
        if (lid.x < s) {
            scratch[lid.x] = scratch[lid.x] + scratch[lid.x + s];
        }
        workgroupBarrier();
    }
    let inv = inverseSqrt(scratch[0] / f32(p.cols) + p.eps);
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        out[base + c] = x[base + c] * inv * gamma[c];
    }
}
