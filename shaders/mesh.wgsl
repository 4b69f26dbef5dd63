// Triangle meshes: smooth (vertex normals) or flat (face normals from derivatives).

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec3<f32>,
};

@vertex
fn vs_main(@location(0) p: vec3<f32>, @location(1) n: vec3<f32>, @location(2) c: vec4<f32>) -> VsOut {
    var out: VsOut;
    out.pos = frame.view_proj * vec4<f32>(p, 1.0);
    out.world = p;
    out.normal = n;
    out.color = shade_mode(p, c.rgb, 0.0);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    var n = in.normal;
    if frame.range.z > 0.5 || dot(n, n) < 1e-12 {
        n = cross(dpdx(in.world), dpdy(in.world));
    }
    return vec4<f32>(in.color * lambert(n, in.world), 1.0);
}

// Wireframe edges: drawn as lines over the same vertices, pulled slightly
// toward the camera so they win the depth test against their own faces.
@vertex
fn vs_wire(@location(0) p: vec3<f32>, @location(1) n: vec3<f32>, @location(2) c: vec4<f32>) -> @builtin(position) vec4<f32> {
    var clip = frame.view_proj * vec4<f32>(p, 1.0);
    clip.z = clip.z - 0.0005 * clip.w;
    return clip;
}

@fragment
fn fs_wire() -> @location(0) vec4<f32> {
    return vec4<f32>(0.05, 0.05, 0.08, 1.0);
}
