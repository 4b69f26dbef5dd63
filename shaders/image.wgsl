// Scalar images (depth maps) drawn through a colormap, invalid pixels in a flat color;
// RGB images (three planes stacked vertically) drawn as they are.

struct Image {
    // x, y: value range; z: 1 when invalid pixels are shown checkered
    range: vec4<f32>,
    // image size in pixels (x, y); z: channels (1 scalar, 3 RGB planes)
    size: vec4<f32>,
};

@group(0) @binding(0) var<uniform> img: Image;
@group(0) @binding(1) var values: texture_2d<f32>;
@group(0) @binding(2) var lut: texture_2d<f32>;
@group(0) @binding(3) var lut_sampler: sampler;

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let px = vec2<i32>(clamp(in.uv * img.size.xy, vec2<f32>(0.0), img.size.xy - 1.0));
    if img.size.z > 2.5 {
        let h = i32(img.size.y);
        let rgb = vec3<f32>(
            textureLoad(values, px, 0).r,
            textureLoad(values, px + vec2<i32>(0, h), 0).r,
            textureLoad(values, px + vec2<i32>(0, 2 * h), 0).r,
        );
        return vec4<f32>(clamp((rgb - img.range.x) / max(img.range.y - img.range.x, 1e-12), vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
    }
    let v = textureLoad(values, px, 0).r;
    if !(v > 0.0) || v != v {
        return vec4<f32>(0.12, 0.12, 0.14, 1.0);
    }
    let t = clamp((v - img.range.x) / max(img.range.y - img.range.x, 1e-12), 0.0, 1.0);
    return vec4<f32>(textureSampleLevel(lut, lut_sampler, vec2<f32>(t, 0.5), 0.0).rgb, 1.0);
}
