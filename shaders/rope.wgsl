// Rotary position embedding, llama.cpp's "normal" layout: within each head, values 2i and
// 2i+1 rotate together by angle(pos, i). x is [seq, heads, head_dim]; cos/sin are
// [seq, head_dim/2] tables computed on the host in f64 (exact for long positions).

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> cos_t: array<f32>;
@group(0) @binding(2) var<storage, read> sin_t: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP)
fn rope(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let pair = grid_index(gid, groups);
    let half = p.head_dim / 2u;
    if (pair >= p.seq * p.heads * half) {
        return;
    }
    let s = pair / (p.heads * half);
    let i = pair % half;
    let at = pair * 2u;
    let c = cos_t[s * half + i];
    let n = sin_t[s * half + i];
    let a = x[at];
    let b = x[at + 1u];
    out[at] = a * c - b * n;
    out[at + 1u] = a * n + b * c;
}
