// Voxel grids as instanced cubes; the 36 cube vertices come from the vertex index.

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec3<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vi: u32,
           @location(0) center: vec3<f32>,
           @location(1) c: vec4<f32>,
           @location(2) size: f32) -> VsOut {
    // 6 faces x 2 triangles; each face: normal axis and sign
    let face = vi / 6u;
    let k = vi % 6u;
    var quad = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0));
    let q = quad[k];
    let axis = face / 2u;
    let sign = select(-1.0, 1.0, face % 2u == 1u);
    var local: vec3<f32>;
    var n: vec3<f32>;
    if axis == 0u {
        local = vec3<f32>(sign, q.x * sign, q.y);
        n = vec3<f32>(sign, 0.0, 0.0);
    } else if axis == 1u {
        local = vec3<f32>(q.y, sign, q.x * sign);
        n = vec3<f32>(0.0, sign, 0.0);
    } else {
        local = vec3<f32>(q.x * sign, q.y, sign);
        n = vec3<f32>(0.0, 0.0, sign);
    }
    let p = center + 0.5 * size * 0.96 * local;
    var out: VsOut;
    out.pos = frame.view_proj * vec4<f32>(p, 1.0);
    let base = shade_mode(center, c.rgb, 0.0);
    out.color = base * lambert(n, p);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    return vec4<f32>(in.color, 1.0);
}
