// RMS normalisation over the last dimension: x / sqrt(mean(x²) + eps) * gamma.
// One workgroup of 256 per row. Params: RowParams.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn rmsnorm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = group_index(wid, groups);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var sq = 0.0;
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        sq = sq + x[base + c] * x[base + c];
    }
    let inv = inverseSqrt(workgroup_sum(lid.x, 256u, sq) / f32(p.cols) + p.eps);
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        out[base + c] = x[base + c] * inv * gamma[c];
    }
}
