// Prepended to every kernel (backend/wgpu/shaders.rs), before the kernel's `Params` struct
// (generated from its Rust definition in backend/wgpu/params.rs) and its body.

override WORKGROUP: u32 = 256u;

// Element index of an invocation in a 2-D grid of 1-D workgroups: a grid dimension holds at
// most 65535 workgroups, so large tensors spill into y.
fn grid_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.y * groups.x * WORKGROUP + gid.x;
}

// Index of a workgroup in a 2-D grid (kernels that give each row one workgroup).
fn group_index(wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wid.y * groups.x + wid.x;
}

// Tree reductions over the first `width` invocations of a workgroup (`width` a power of two
// ≤ 256, the same for every invocation). Every invocation gets the result.
var<workgroup> reduce_scratch: array<f32, 256>;

fn workgroup_sum(lid: u32, width: u32, value: f32) -> f32 {
    reduce_scratch[lid] = value;
    workgroupBarrier();
    for (var s = width / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            reduce_scratch[lid] = reduce_scratch[lid] + reduce_scratch[lid + s];
        }
        workgroupBarrier();
    }
    let total = reduce_scratch[0];
    workgroupBarrier();
    return total;
}

fn workgroup_max(lid: u32, width: u32, value: f32) -> f32 {
    reduce_scratch[lid] = value;
    workgroupBarrier();
    for (var s = width / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            reduce_scratch[lid] = max(reduce_scratch[lid], reduce_scratch[lid + s]);
        }
        workgroupBarrier();
    }
    let total = reduce_scratch[0];
    workgroupBarrier();
    return total;
}
