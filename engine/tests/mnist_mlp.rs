//! The MLP example learns real MNIST: one epoch of SGD reaches > 90% test accuracy.

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
