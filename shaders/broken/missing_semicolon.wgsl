// Deliberately broken (a missing semicolon and an unknown identifier): the shader validation
// test checks that the error names the file, the line and the problem. Never loaded at runtime.

@group(0) @binding(0) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let v = undefined_value * 2.0
    out[gid.x] = v;
}
