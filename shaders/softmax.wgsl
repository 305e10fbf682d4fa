// Row-wise softmax over the last dimension, numerically stable (row max subtracted).
// One workgroup per row; tree reductions in workgroup memory.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

const WORKGROUP: u32 = 256u;
var<workgroup> scratch: array<f32, 256>;

@compute @workgroup_size(256)
fn softmax(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = wid.y * groups.x + wid.x;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;

    var local_max = -3.402823e38;
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        local_max = max(local_max, x[base + c]);
    }
    scratch[lid.x] = local_max;
    workgroupBarrier();
    for (var s = WORKGROUP / 2u; s > 0u; s = s >> 1u) {
        if (lid.x < s) {
            scratch[lid.x] = max(scratch[lid.x], scratch[lid.x + s]);
        }
        workgroupBarrier();
    }
    let row_max = scratch[0];
    workgroupBarrier();

    var local_sum = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        let e = exp(x[base + c] - row_max);
        out[base + c] = e;
        local_sum = local_sum + e;
    }
    scratch[lid.x] = local_sum;
    workgroupBarrier();
    for (var s = WORKGROUP / 2u; s > 0u; s = s >> 1u) {
        if (lid.x < s) {
            scratch[lid.x] = scratch[lid.x] + scratch[lid.x + s];
        }
        workgroupBarrier();
    }
    let inv = 1.0 / scratch[0];
    for (var c = lid.x; c < p.cols; c = c + WORKGROUP) {
        out[base + c] = out[base + c] * inv;
    }
}
