// Materialise a strided view (rank ≤ 4, e.g. a permuted [batch, heads, seq, dim] tensor)
// into a contiguous buffer, so kernels that read plain rows can consume it.

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP)
fn copy_strided(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = grid_index(gid, groups);
    if (i >= p.len) {
        return;
    }
    var rest = i;
    var at = p.offset;
    for (var d = 3; d >= 0; d = d - 1) {
        let size = p.shape[d];
        at = at + (rest % size) * p.strides[d];
        rest = rest / size;
    }
    dst[i] = src[at];
}
