// Colored line segments: grid, axes, normals, measurements.

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vs_main(@location(0) p: vec3<f32>, @location(1) c: vec4<f32>) -> VsOut {
    var out: VsOut;
    out.pos = frame.view_proj * vec4<f32>(p, 1.0);
    out.color = c;
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    return in.color;
}
