// Segmentation overlay: an RGB image with a class map blended over it (a
// colour per class, or a colour per instance), pixels whose class differs
// from a reference map highlighted, and instance outlines drawn as thin
// lines on texel borders where the instance id changes.

struct Mask {
    // x, y: image size in pixels; z: opacity; w: outline half-width in texels
    size: vec4<f32>,
    // x: 1 colour by instance; y: 1 highlight errors; z: 1 draw outlines; w: hovered pixel index (-1 none)
    flags: vec4<f32>,
    // colour per class (alpha 0: not drawn)
    palette: array<vec4<f32>, 16>,
};

@group(0) @binding(0) var<uniform> m: Mask;
// rgb: the image
@group(0) @binding(1) var base: texture_2d<f32>;
// x: shown class, y: reference class (-1 none), z: instance id (0 none)
@group(0) @binding(2) var labels: texture_2d<f32>;

fn instance_id(p: vec2<i32>) -> f32 {
    let s = vec2<i32>(m.size.xy);
    if p.x < 0 || p.y < 0 || p.x >= s.x || p.y >= s.y {
        return 0.0;
    }
    return textureLoad(labels, p, 0).z;
}

// A bright colour for an instance id, spread around the hue circle by the golden ratio.
fn instance_colour(id: f32) -> vec3<f32> {
    let h = fract(id * 0.618034 + 0.13);
    let k = vec3<f32>(0.0, 2.0 / 3.0, 1.0 / 3.0);
    let rgb = clamp(abs(fract(vec3<f32>(h) + k) * 6.0 - 3.0) - 1.0, vec3<f32>(0.0), vec3<f32>(1.0));
    return mix(vec3<f32>(0.25), rgb, 0.85);
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let t = in.uv * m.size.xy;
    let px = vec2<i32>(clamp(t, vec2<f32>(0.0), m.size.xy - 1.0));
    var c = textureLoad(base, px, 0).rgb;
    let l = textureLoad(labels, px, 0);
    let cls = clamp(i32(l.x + 0.5), 0, 15);
    let opacity = m.size.z;
    if m.flags.x > 0.5 {
        if l.z > 0.5 {
            c = mix(c, instance_colour(l.z), opacity);
        }
    } else {
        let p = m.palette[cls];
        c = mix(c, p.rgb, opacity * p.a);
    }
    if m.flags.y > 0.5 && l.y > -0.5 && abs(l.y - l.x) > 0.5 {
        // errors: red stripes over the predicted colour, so both stay visible
        let stripe = fract((t.x + t.y) * 0.5) < 0.4;
        c = select(c, vec3<f32>(1.0, 0.0, 0.25), stripe);
    }
    if m.flags.z > 0.5 {
        let f = t - vec2<f32>(px);
        let id = l.z;
        let e = m.size.w;
        let edge = (f.x < e && instance_id(px - vec2<i32>(1, 0)) != id)
            || (f.x > 1.0 - e && instance_id(px + vec2<i32>(1, 0)) != id)
            || (f.y < e && instance_id(px - vec2<i32>(0, 1)) != id)
            || (f.y > 1.0 - e && instance_id(px + vec2<i32>(0, 1)) != id);
        if edge {
            c = vec3<f32>(1.0, 0.95, 0.3);
        }
    }
    if m.flags.w > -0.5 && f32(px.y * i32(m.size.x) + px.x) == m.flags.w {
        // the hovered pixel: an inverted frame
        let f = t - vec2<f32>(px);
        if min(min(f.x, f.y), min(1.0 - f.x, 1.0 - f.y)) < 2.0 * m.size.w {
            c = vec3<f32>(1.0) - c;
        }
    }
    return vec4<f32>(c, 1.0);
}
