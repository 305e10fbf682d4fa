// Layer normalisation over the last dimension: (x - mean) / sqrt(var + eps) * gamma + beta.
// One workgroup of 256 per row; mean first, then variance around it (two passes, stable).
// Params: RowParams.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn layernorm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = group_index(wid, groups);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let n = f32(p.cols);
    var part = 0.0;
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        part = part + x[base + c];
    }
    let mean = workgroup_sum(lid.x, 256u, part) / n;
    var sq = 0.0;
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        let d = x[base + c] - mean;
        sq = sq + d * d;
    }
    let inv = inverseSqrt(workgroup_sum(lid.x, 256u, sq) / n + p.eps);
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        out[base + c] = (x[base + c] - mean) * inv * gamma[c] + beta[c];
    }
}
