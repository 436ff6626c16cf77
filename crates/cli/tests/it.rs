//! The `kaiwa` program driven as a person would: through its command line, stdin and stdout.

mod it {
    mod chat;
    mod demo;
    mod id;
    mod init;
    mod support;
}
