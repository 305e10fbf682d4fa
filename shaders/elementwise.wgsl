// Binary elementwise ops with broadcasting (up to rank 4), and scaling.
// OP selects the operation at pipeline creation: 0 add, 1 mul, 2 scale (b unused).

override OP: u32 = 0u;
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // 2-D grid so more than 65535 workgroups' worth of elements can be covered.
    let i = grid_index(gid, groups);
    if (i >= p.len) {
        return;
    }
    if (OP == 2u) {
        out[i] = a[i] * p.scale;
        return;
    }
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = 3; d >= 0; d = d - 1) {
        let size = p.out_shape[d];
        let at = rest % size;
        rest = rest / size;
        ia = ia + at * p.a_strides[d];
        ib = ib + at * p.b_strides[d];
    }
    if (OP == 0u) {
        out[i] = a[ia] + b[ib];
    } else {
        out[i] = a[ia] * b[ib];
    }
}
