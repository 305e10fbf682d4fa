// Write new key/value rows into a preallocated cache in place. `rows` is [seq, heads, dim]
// (as the projection produces it); the cache is [heads, capacity, dim]; rows land at
// positions start..start+seq.

@group(0) @binding(0) var<storage, read> rows: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP)
fn kv_write(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = grid_index(gid, groups);
    if (i >= p.seq * p.heads * p.dim) {
        return;
    }
    let s = i / (p.heads * p.dim);
    let h = (i / p.dim) % p.heads;
    let c = i % p.dim;
    cache[(h * p.capacity + p.start + s) * p.dim + c] = rows[i];
}
