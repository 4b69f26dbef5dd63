//! The MNIST example's models learn real MNIST: one epoch of SGD takes the MLP
//! past 90% test accuracy, and the LeNet-style CNN passes 80% after 200 steps.

#[path = "../examples/mlp_mnist.rs"]
#[allow(dead_code)]
mod mlp_mnist;

#[test]
fn mlp_learns_mnist_in_one_epoch() {
    let train = mlp_mnist::load_mnist("train").unwrap_or_else(|e| panic!("{e}"));
    let test = mlp_mnist::load_mnist("t10k").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(train.1.len(), 60000);
    assert_eq!(test.1.len(), 10000);
    let mut model = mlp_mnist::build_mlp(1).unwrap();
    let (loss, acc, _) = mlp_mnist::train_and_test(&mut model, &train, &test, 64, 0.1).unwrap();
    assert!(loss < 0.4, "training loss {loss}");
    assert!(acc > 0.90, "test accuracy {acc}");
}

#[test]
fn lenet_learns_mnist_from_a_subset() {
    let train = mlp_mnist::load_mnist("train").unwrap_or_else(|e| panic!("{e}"));
    let test = mlp_mnist::load_mnist("t10k").unwrap_or_else(|e| panic!("{e}"));
    // 12800 training images (200 steps of 64) keep the test short.
    let n = 12800;
    let sub = (train.0[..n * 784].to_vec(), train.1[..n].to_vec());
    let mut model = mlp_mnist::build_lenet(2).unwrap();
    let (loss, acc, _) = mlp_mnist::train_and_test(&mut model, &sub, &test, 64, 0.1).unwrap();
    println!("lenet subset: loss {loss}, accuracy {acc}");
    // A full epoch reaches about 96% (example binary); 200 steps are still early.
    assert!(loss < 1.0, "training loss {loss}");
    assert!(acc > 0.80, "test accuracy {acc}");
}
