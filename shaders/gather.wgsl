// Row gather: out[r, :] = table[ids[r], :] (embedding lookup). Ids are range-checked on
// the host before upload; the clamp only keeps a bad id from reading out of bounds.

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = grid_index(gid, groups);
    if (i >= p.rows * p.dim) {
        return;
    }
    let r = i / p.dim;
    let c = i % p.dim;
    let id = min(ids[r], p.table_rows - 1u);
    out[i] = table[id * p.dim + c];
}
