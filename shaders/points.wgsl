// Point clouds as instanced screen-space quads (wgpu's PointList is 1 pixel).

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec3<f32>,
    @location(1) corner: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vi: u32,
           @location(0) p: vec3<f32>,
           @location(1) c: vec4<f32>,
           @location(2) s: f32) -> VsOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0));
    let clip = frame.view_proj * vec4<f32>(p, 1.0);
    let half_px = 0.5 * frame.params.x;
    let ndc_per_px = vec2<f32>(2.0 / frame.params.y, 2.0 / frame.params.z);
    let off = corners[vi] * half_px * ndc_per_px * clip.w;
    var out: VsOut;
    out.pos = vec4<f32>(clip.xy + off, clip.zw);
    out.color = shade_mode(p, c.rgb, s);
    out.corner = corners[vi];
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    // round points once they are big enough for it to show
    if frame.params.x >= 3.0 && dot(in.corner, in.corner) > 1.0 {
        discard;
    }
    return vec4<f32>(in.color, 1.0);
}
