// Shared by every 3D pipeline: prepended to each shader by app/render/gpu.rs.

struct Frame {
    view_proj: mat4x4<f32>,
    view: mat4x4<f32>,
    eye: vec4<f32>,
    // x: point size in pixels, y: viewport width px, z: viewport height px, w: color mode
    params: vec4<f32>,
    // x, y: colormap range, z: 1 = flat shading, w: height axis (0 x, 1 y, 2 z)
    range: vec4<f32>,
};

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var lut: texture_2d<f32>;
@group(0) @binding(2) var lut_sampler: sampler;

// Color modes for points and meshes.
const MODE_RGB: f32 = 0.0;
const MODE_HEIGHT: f32 = 1.0;
const MODE_DEPTH: f32 = 2.0;
const MODE_SCALAR: f32 = 3.0;

fn colormap(v: f32) -> vec3<f32> {
    let t = clamp((v - frame.range.x) / max(frame.range.y - frame.range.x, 1e-12), 0.0, 1.0);
    return textureSampleLevel(lut, lut_sampler, vec2<f32>(t, 0.5), 0.0).rgb;
}

fn height_of(p: vec3<f32>) -> f32 {
    let axis = i32(frame.range.w);
    if axis == 0 { return p.x; }
    if axis == 1 { return p.y; }
    return p.z;
}

// Picks the color a point or vertex gets under the current mode.
fn shade_mode(p: vec3<f32>, rgb: vec3<f32>, scalar: f32) -> vec3<f32> {
    let mode = frame.params.w;
    if mode == MODE_HEIGHT { return colormap(height_of(p)); }
    if mode == MODE_DEPTH { return colormap(distance(p, frame.eye.xyz)); }
    if mode == MODE_SCALAR { return colormap(scalar); }
    return rgb;
}

// Headlight plus a little ambient: the light follows the camera so nothing is ever black.
fn lambert(n: vec3<f32>, p: vec3<f32>) -> f32 {
    let l = normalize(frame.eye.xyz - p);
    return 0.25 + 0.75 * abs(dot(normalize(n), l));
}
