// Row-wise softmax over the last dimension, numerically stable (row max subtracted).
// One workgroup of 256 per row. Params: RowParams.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn softmax(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = group_index(wid, groups);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var local_max = -3.402823e38;
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        local_max = max(local_max, x[base + c]);
    }
    let row_max = workgroup_max(lid.x, 256u, local_max);
    var local_sum = 0.0;
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        let e = exp(x[base + c] - row_max);
        out[base + c] = e;
        local_sum = local_sum + e;
    }
    let inv = 1.0 / workgroup_sum(lid.x, 256u, local_sum);
    for (var c = lid.x; c < p.cols; c = c + 256u) {
        out[base + c] = out[base + c] * inv;
    }
}
