use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::init::Init;
use crate::models::{Activation, Arch, Family, META_ACTIVATION, NetSpec};
use crate::optim::{Adam, Optimizer};
use crate::train::{Model, checkpoint};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vislab-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A checkpoint as `vislab train` writes it, with optimizer state.
fn trained(dir: &Path, arch: Arch, image: [usize; 3], meta: &[(&str, &str)]) -> PathBuf {
    let model = arch.build_for(image, 10, 3).unwrap();
    let mut opt = Adam::new(1e-3);
    let mut params = model.params().to_vec();
    for p in &mut params {
        p.grad = vec![0.5; p.value.len()];
    }
    opt.step(&mut params).unwrap();
    let mut m: BTreeMap<String, String> = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    m.insert(META_ARCH.into(), arch.name().into());
    let path = dir.join("model.safetensors");
    checkpoint::save(&path, &params, Some(&opt as &dyn Optimizer), &m).unwrap();
    path
}

/// `CONFIG` as written into model.py.
fn config_of(model_py: &str) -> BTreeMap<String, String> {
    let start = model_py.find("r'''").expect("a CONFIG literal") + 4;
    let end = start + model_py[start..].find("'''").expect("its end");
    serde_json::from_str(&model_py[start..end]).expect("CONFIG is JSON")
}

#[test]
fn mlp_export_holds_exactly_the_model_tensors() {
    let dir = scratch("mlp");
    let ck = trained(&dir, Arch::Mlp, [1, 28, 28], &[("vislab.train.data", "mnist:/data/mnist"), ("vislab.train.lr", "0.001")]);
    let out = dir.join("torch");
    let e = pytorch(&Source::read(&ck).unwrap(), &out, None).unwrap();
    assert_eq!((e.arch.as_str(), e.data.as_str()), ("mlp", "mnist:/data/mnist"));
    let names: Vec<_> = e.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["model.py", "weights.safetensors", "train.py"]);

    let bytes = std::fs::read(out.join("weights.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut got: Vec<(String, Vec<usize>)> = st.tensors().into_iter().map(|(n, v)| (n, v.shape().to_vec())).collect();
    got.sort();
    let want =
        [("fc1.bias", vec![512]), ("fc1.weight", vec![512, 784]), ("fc2.bias", vec![256]), ("fc2.weight", vec![256, 512]), ("fc3.bias", vec![10]), ("fc3.weight", vec![10, 256])];
    assert_eq!(got, want.map(|(n, s)| (n.to_string(), s)), "the state dict, without optim.* tensors");
    // The values are the checkpoint's, bit for bit.
    let ck = checkpoint::load(&ck).unwrap();
    let w = ck.tensors.iter().find(|t| t.name == "fc2.weight").unwrap();
    let exported: Vec<f32> = st.tensor("fc2.weight").unwrap().data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    assert_eq!(exported, w.value);
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert!(!meta.keys().any(|k| k.starts_with("vislab.optim.")), "no optimizer metadata without its tensors: {meta:?}");

    let model_py = std::fs::read_to_string(out.join("model.py")).unwrap();
    let config = config_of(&model_py);
    assert_eq!(config["vislab.mlp.sizes"], "784,512,256,10");
    assert_eq!((config["vislab.arch"].as_str(), config["vislab.train.lr"].as_str()), ("mlp", "0.001"));
    let train_py = std::fs::read_to_string(out.join("train.py")).unwrap();
    assert!(train_py.starts_with(TRAIN_COMMON) && train_py.ends_with("main()\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cnn_architecture_is_read_off_the_tensors() {
    let dir = scratch("cnn");
    // An older checkpoint: no vislab.image, the data kind implies it.
    let ck = trained(&dir, Arch::Cnn, [3, 32, 32], &[("vislab.data", "cifar10")]);
    let src = Source::read(&ck).unwrap();
    let m = &src.meta;
    let got = ["vislab.cnn.channels", "vislab.cnn.kernel", "vislab.cnn.batch_norm", "vislab.cnn.hidden", "vislab.classes", "vislab.image"].map(|k| m[k].as_str());
    assert_eq!(got, ["16,32", "3", "false", "128", "10", "3,32,32"]);
    let data = [Named::f32("train.x", vec![2, 1, 1, 1], vec![0.25, 1.0]), Named::i64("train.y", vec![2], vec![3, -1])];
    let e = pytorch(&src, &dir.join("torch"), Some(&data)).unwrap();
    assert_eq!(e.files.last().unwrap().file_name().unwrap(), "data.safetensors");
    let bytes = std::fs::read(dir.join("torch/data.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let y = st.tensor("train.y").unwrap();
    assert_eq!((y.dtype(), y.data()), (Dtype::I64, &[3u8, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255][..]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checkpoints_that_cannot_be_exported_say_why() {
    let dir = scratch("bad");
    let ck = trained(&dir, Arch::Cnn, [1, 20, 20], &[("vislab.data", "folder")]);
    let e = Source::read(&ck).err().unwrap().to_string();
    assert!(e.contains("no vislab.image metadata and data 'folder'"), "{e}");
    let ck = trained(&dir, Arch::Mlp, [1, 8, 8], &[]);
    let mut src = Source::read(&ck).unwrap();
    src.meta.insert(META_ARCH.into(), "unet".into());
    let e = pytorch(&src, &dir.join("out"), None).unwrap_err().to_string();
    assert!(e.starts_with("cannot export a 'unet' checkpoint (exportable: mlp, cnn, resnet, vae"), "{e}");
    std::fs::write(dir.join("junk.safetensors"), b"not a checkpoint").unwrap();
    assert!(Source::read(&dir.join("junk.safetensors")).err().unwrap().to_string().contains("not a safetensors checkpoint"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every template is valid Python once filled in (compiled only: torch is
/// not needed). Skipped where no python3 is installed.
#[test]
fn every_template_compiles_as_python() {
    let Ok(status) = std::process::Command::new("python3").arg("--version").output() else {
        eprintln!("python3 not found: templates not compiled");
        return;
    };
    assert!(status.status.success());
    let dir = scratch("py");
    for (i, kind) in KINDS.iter().enumerate() {
        for (part, text) in [("model", kind.model.replacen(CONFIG_SLOT, "{\"vislab.arch\": \"x\"}", 1)), ("train", format!("{TRAIN_COMMON}{}", kind.train))] {
            let path = dir.join(format!("{}_{part}_{i}.py", kind.arches[0]));
            std::fs::write(&path, text).unwrap();
            let out = std::process::Command::new("python3").args(["-m", "py_compile"]).arg(&path).output().unwrap();
            assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A checkpoint as the training lab saves it: the network's metadata, the
/// recipe, weights (and running statistics) moved off their initial values
/// so every one matters, no optimizer state. Returns it with the model.
fn lab_checkpoint(dir: &Path, spec: &NetSpec) -> (PathBuf, crate::models::GraphModel) {
    let mut model = spec.model(5, Init::KAIMING_RELU).unwrap();
    for (k, p) in model.params_mut().iter_mut().enumerate() {
        let var = p.name.ends_with("running_var");
        for (i, v) in p.value.iter_mut().enumerate() {
            let wave = ((i as f32 * 1.7 + k as f32).sin() + 1.0) / 2.0;
            *v = if var { 0.5 + wave } else { *v + 0.2 * (wave - 0.5) };
        }
    }
    let mut meta = spec.to_meta();
    meta.extend([("vislab.train.data", "digits"), ("vislab.train.optimizer", "adam"), ("vislab.train.epochs", "2")].map(|(k, v)| (k.to_string(), v.to_string())));
    let path = dir.join(format!("{}.safetensors", spec.family.arch()));
    checkpoint::save(&path, model.params(), None, &meta).unwrap();
    (path, model)
}

/// A lab's ResNet with dropout and an MLP with batch norm and GELU: the
/// layer sizes are read off the tensors, activation and dropout come from
/// the metadata, and the weights file holds exactly the network's tensors
/// (with torch's BatchNorm step counters).
#[test]
fn lab_networks_export_their_layers_and_settings() {
    let dir = scratch("lab");
    let resnet = NetSpec { widths: vec![4, 8], dropout: 0.25, ..NetSpec::default_for(Family::ResNet, [3, 9, 7], 5) };
    let mlp = NetSpec { widths: vec![12, 6], activation: Activation::Gelu, batch_norm: true, ..NetSpec::default_for(Family::Mlp, [1, 4, 4], 3) };
    let want: [&[(&str, &str)]; 2] = [
        &[("vislab.resnet.stages", "4,8"), ("vislab.resnet.input_channels", "3"), ("vislab.classes", "5"), ("vislab.net.dropout", "0.25"), ("vislab.net.activation", "relu")],
        &[("vislab.mlp.sizes", "16,12,6,3"), ("vislab.mlp.batch_norm", "true"), ("vislab.net.activation", "gelu"), ("vislab.net.dropout", "0")],
    ];
    for (spec, want) in [resnet, mlp].iter().zip(want) {
        let (ck, model) = lab_checkpoint(&dir, spec);
        let out = dir.join(format!("torch-{}", spec.family.arch()));
        let e = pytorch(&Source::read(&ck).unwrap(), &out, None).unwrap();
        assert_eq!((e.arch.as_str(), e.data.as_str()), (spec.family.arch(), "digits"));
        let config = config_of(&std::fs::read_to_string(out.join("model.py")).unwrap());
        for (k, v) in want {
            assert_eq!((*k, config[*k].as_str()), (*k, *v));
        }
        assert_eq!(crate::models::NetSpec::from_meta(&config, [1, 1, 1], 1).unwrap(), *spec, "the exported CONFIG rebuilds the network");
        let bytes = std::fs::read(out.join("weights.safetensors")).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut got: Vec<(String, Vec<usize>)> = st.tensors().into_iter().map(|(n, v)| (n, v.shape().to_vec())).collect();
        let mut names: Vec<(String, Vec<usize>)> = model.params().iter().map(|p| (p.name.clone(), p.shape.clone())).collect();
        let counters: Vec<String> = names.iter().filter_map(|(n, _)| n.strip_suffix(".running_mean")).map(|bn| format!("{bn}.num_batches_tracked")).collect();
        names.extend(counters.into_iter().map(|n| (n, vec![])));
        got.sort();
        names.sort();
        assert_eq!(got, names);
    }
    let has = |name: &str| std::fs::read(dir.join("torch-resnet/weights.safetensors")).is_ok_and(|b| SafeTensors::deserialize(&b).unwrap().tensor(name).is_ok());
    assert!(has("layer2.downsample.1.running_var") && !has("layer1.downsample.0.weight") && has("bn1.running_mean"));
    let mut src = Source::read(&dir.join("mlp.safetensors")).unwrap();
    src.meta.insert(META_ACTIVATION.into(), "swish".into());
    let mut meta = src.meta.clone();
    meta.retain(|k, _| k.starts_with("vislab.net.") || k == META_ARCH);
    let shapes: BTreeMap<&str, &[usize]> = src.shapes().collect();
    assert_eq!(derive("mlp", &shapes, &meta).unwrap_err(), "unknown vislab.net.activation 'swish'");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Python with torch and safetensors: $VISLAB_TORCH_PYTHON, else python3.
fn torch_python() -> Option<String> {
    let py = std::env::var("VISLAB_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py).args(["-c", "import torch, safetensors"]).output().is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// For every family, activation, with and without batch norm and dropout:
/// the exported model.py's build() loads the weights strictly and, in eval
/// mode, gives vislab's logits on the same images to 1e-4. Skipped where
/// no Python has torch (set VISLAB_TORCH_PYTHON to one that has).
#[test]
fn torch_gives_vislabs_logits_for_every_network() {
    let Some(py) = torch_python() else {
        eprintln!("no python with torch: exported classifiers not checked against torch");
        return;
    };
    let dir = scratch("logits");
    let mut specs = vec![];
    for (family, image, widths) in [(Family::Mlp, [1, 5, 4], vec![12, 7]), (Family::Cnn, [3, 9, 7], vec![4, 6])] {
        for activation in Activation::ALL {
            for (batch_norm, dropout) in [(false, 0.0), (true, 0.0), (false, 0.4), (true, 0.4)] {
                specs.push(NetSpec { widths: widths.clone(), hidden: 10, activation, batch_norm, dropout, ..NetSpec::default_for(family, image, 4) });
            }
        }
    }
    for dropout in [0.0, 0.3] {
        specs.push(NetSpec { widths: vec![4, 6, 8], dropout, ..NetSpec::default_for(Family::ResNet, [2, 9, 7], 4) });
    }
    let mut cases = vec![];
    for (i, spec) in specs.iter().enumerate() {
        let case = dir.join(format!("case{i}"));
        std::fs::create_dir_all(&case).unwrap();
        let (ck, mut model) = lab_checkpoint(&case, spec);
        pytorch(&Source::read(&ck).unwrap(), &case.join("torch"), None).unwrap();
        let [c, h, w] = spec.image;
        let x: Vec<f32> = (0..3 * c * h * w).map(|j| ((j as f32 * 0.61).sin() + 1.0) / 2.0).collect();
        let batch = crate::data::Batch { x: x.clone(), shape: vec![3, c, h, w], y: vec![0; 3] };
        let logits = model.predict(&batch).unwrap();
        let bytes = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
        let (xb, lb) = (bytes(&x), bytes(&logits));
        let views: [(&str, Dtype, &[usize], &[u8]); 2] = [("x", Dtype::F32, &[3, c, h, w], &xb), ("logits", Dtype::F32, &[3, 4], &lb)];
        std::fs::write(case.join("check.safetensors"), serialize(&views, None).unwrap()).unwrap();
        cases.push(format!("{} {} bn={} dropout={}", spec.family.arch(), spec.activation.key(), spec.batch_norm, spec.dropout));
    }
    let script = r#"
import importlib.util, sys
import torch
from safetensors.torch import load_file
worst = 0.0
for i, name in enumerate(sys.argv[2:]):
    d = f"{sys.argv[1]}/case{i}"
    spec = importlib.util.spec_from_file_location(f"model{i}", f"{d}/torch/model.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    net = m.build()
    net.load_state_dict(load_file(f"{d}/torch/weights.safetensors"), strict=True)
    net.eval()
    t = load_file(f"{d}/check.safetensors")
    with torch.no_grad():
        diff = (net(t["x"]) - t["logits"]).abs().max().item()
    worst = max(worst, diff)
    print(f"{name}: max |torch - vislab| {diff:.2e}")
    assert diff <= 1e-4, name
print(f"worst {worst:.2e} over {len(sys.argv) - 2} networks")
"#;
    let out = std::process::Command::new(&py).arg("-c").arg(script).arg(&dir).args(&cases).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("over {} networks", specs.len())), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
