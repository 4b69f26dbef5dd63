// Point clouds: one screen-space triangle per point (wgpu's PointList is 1
// pixel). The triangle circumscribes the point's disc and the fragment
// shader cuts the disc out: one triangle instead of a quad's two halves the
// setup cost, which dominates on software rasterizers.

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
    // equilateral triangle around the unit disc
    var corners = array<vec2<f32>, 3>(
        vec2<f32>(0.0, 2.0), vec2<f32>(-1.7320508, -1.0), vec2<f32>(1.7320508, -1.0));
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
    // tiny points keep their whole triangle so none vanishes between pixel centres
    if frame.params.x >= 2.5 && dot(in.corner, in.corner) > 1.0 {
        discard;
    }
    return vec4<f32>(in.color, 1.0);
}
