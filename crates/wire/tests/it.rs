//! Integration tests of the generated wire types: field numbers and encodings that other
//! implementations depend on.

mod it {
    mod encoding;
}
