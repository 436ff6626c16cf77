pub(crate) async fn run(_args: &crate::args::DemoArgs) -> Result<(), crate::error::CliError> {
    Ok(())
}
