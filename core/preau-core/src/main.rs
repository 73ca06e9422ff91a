//! The `preau` binary.
fn main() {}
